"""The catalogue and standards workbook: the form in which a bureau hands over its 立结案标准.

Headers are bilingual (``代码 code``) and are the file format, so they are not translated; a header is
recognised by its Chinese or its English word alone as well. ``read_workbook`` only maps sheets,
columns and rows onto a ``Dataset`` of raw cell values (and reports layout problems); all value checks
happen in ``dataset.validate``, the same for the YAML reference files.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from cityops.catalog.choices import AreaClass, Kind, Step, Urgency
from cityops.catalog.dataset import (
    UNITS,
    ConditionRow,
    Dataset,
    Issue,
    LimitRow,
    MajorRow,
    Source,
    StandardRow,
    TypeRow,
    text,
)

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # a zip bomb is refused before openpyxl unpacks it


@dataclass(frozen=True)
class Column:
    field: str
    zh: str
    en: str
    required: bool = False
    width: int = 12
    code: bool = False
    choices: tuple[str, ...] = ()

    @property
    def header(self) -> str:
        return f"{self.zh} {self.en}"


@dataclass(frozen=True)
class SheetSpec:
    section: str
    zh: str
    en: str
    columns: tuple[Column, ...]

    @property
    def title(self) -> str:
        return f"{self.zh} {self.en}"


KINDS = tuple(Kind.values)
URGENCIES = tuple(Urgency.values)

MAJORS = SheetSpec(
    "majors",
    "大类",
    "majors",
    (
        Column("kind", "类别", "kind", True, 12, choices=KINDS),
        Column("code", "代码", "code", True, 8, code=True),
        Column("name", "名称", "name", True, 24),
        Column("local", "本地扩展", "local", False, 12),
    ),
)
TYPES = SheetSpec(
    "types",
    "类型",
    "types",
    (
        Column("kind", "类别", "kind", True, 12, choices=KINDS),
        Column("code", "代码", "code", True, 10, code=True),
        Column("name", "名称", "name", True, 28),
        Column("major", "大类", "major", True, 10, code=True),
        Column("component", "对应部件", "component", False, 14, code=True),
        Column("local", "本地扩展", "local", False, 10),
        Column("is_public", "公众可见", "public", False, 10),
        Column("keywords", "关键词", "keywords", False, 30),
        Column("is_active", "启用", "active", False, 10),
        Column("note", "备注", "note", False, 40),
    ),
)
# One row per condition; the standard's own columns repeat on each of its rows (or stay empty below the
# first row, as merged cells do).
STANDARD_FIELDS = ("key", "topic", "codes", "file_when", "note", "sources")
STANDARDS = SheetSpec(
    "standards",
    "标准",
    "standards",
    (
        Column("key", "标准编号", "key", True, 10),
        Column("topic", "主题", "topic", True, 30),
        Column("codes", "代码", "codes", True, 24, code=True),
        Column("file_when", "立案条件", "file_when", False, 40),
        Column("urgency", "紧急程度", "urgency", True, 10, choices=URGENCIES),
        Column("condition_file_when", "细分立案条件", "condition_file_when", False, 30),
        Column("stage", "阶段", "stage", False, 16),
        Column("limit", "时限", "limit", True, 8),
        Column("unit", "单位", "unit", True, 10, choices=UNITS),
        Column("close_when", "结案条件", "close_when", False, 36),
        Column("basis", "依据", "basis", False, 20),
        Column("clock_starts", "计时起点", "clock_starts", False, 16),
        Column("area_class", "区域类别", "area_class", False, 10, choices=tuple(AreaClass.values)),
        Column("note", "说明", "note", False, 30),
        Column("sources", "来源", "sources", False, 40),
    ),
)
STEP_LIMITS = SheetSpec(
    "step_limits",
    "环节时限",
    "step_limits",
    (
        Column("name", "环节", "step", True, 12, choices=tuple(Step.values)),
        Column("limit", "时限", "limit", True, 8),
        Column("unit", "单位", "unit", True, 10, choices=UNITS),
    ),
)
DEFAULTS = SheetSpec(
    "defaults",
    "默认时限",
    "defaults",
    (
        Column("name", "紧急程度", "urgency", True, 12, choices=URGENCIES),
        Column("limit", "时限", "limit", True, 8),
        Column("unit", "单位", "unit", True, 10, choices=UNITS),
    ),
)
SHEETS = (MAJORS, TYPES, STANDARDS, STEP_LIMITS, DEFAULTS)
README = ("说明", "readme")


def _tokens(value: Any) -> set[str]:
    raw = text(value).lower()
    for ch in "()（）[]【】/|:：\n":
        raw = raw.replace(ch, " ")
    return set(raw.split())


def _matches(value: Any, zh: str, en: str) -> bool:
    tokens = _tokens(value)
    return zh in tokens or en.lower() in tokens


# --- reading ----------------------------------------------------------------------------------------


def read_workbook(content: bytes) -> tuple[Dataset, list[Issue]]:
    """Map a workbook onto a ``Dataset``; layout problems come back as issues (values are checked later)."""
    data = Dataset()
    issues: list[Issue] = []
    if len(content) > MAX_BYTES:
        return data, [Issue("", None, "", _("The file is too large (at most 10 MB)."))]
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            return data, [Issue("", None, "", _("The file is too large (at most 10 MB)."))]
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        return data, [Issue("", None, "", _("This is not an xlsx workbook."))]
    try:
        for ws in wb.worksheets:
            if _matches(ws.title, *README):
                continue
            found = [s for s in SHEETS if _matches(ws.title, s.zh, s.en)]
            if len(found) != 1:
                names = ", ".join(s.title for s in SHEETS)
                issues.append(
                    Issue(
                        ws.title, None, "", _("Unknown sheet: the sheets are %(names)s.") % {"names": names}
                    )
                )
                continue
            spec = found[0]
            if getattr(data, spec.section) is not None:
                issues.append(Issue(ws.title, None, "", _("A second sheet of the same kind.")))
                continue
            rows, sheet_issues = _read_sheet(ws, spec)
            issues.extend(sheet_issues)
            setattr(data, spec.section, rows)
    finally:
        wb.close()
    if not issues and not data.sections():
        issues.append(Issue("", None, "", _("The workbook has none of the expected sheets.")))
    return data, issues


def _read_sheet(ws, spec: SheetSpec) -> tuple[list, list[Issue]]:
    issues: list[Issue] = []
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    columns: dict[int, Column] = {}
    headers: dict[str, str] = {}
    for i, value in enumerate(header):
        label = text(value)
        if not label:
            continue
        found = [c for c in spec.columns if _matches(label, c.zh, c.en)]
        if len(found) != 1:
            issues.append(Issue(ws.title, 1, label, _("Unknown column.")))
            continue
        col = found[0]
        if col in columns.values():
            issues.append(Issue(ws.title, 1, label, _("This column appears twice.")))
            continue
        columns[i] = col
        headers[_field_key(spec, col)] = label
    for col in spec.columns:
        if col.required and col not in columns.values():
            issues.append(Issue(ws.title, 1, col.header, _("This column is missing.")))
    if issues:
        return [], issues
    records = []
    for number, values in enumerate(rows, 2):
        if number > MAX_ROWS + 1:
            issues.append(
                Issue(ws.title, number, "", _("Too many rows (at most %(max)s).") % {"max": MAX_ROWS})
            )
            break
        record: dict[str, Any] = {}
        for i, value in enumerate(values or ()):
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            col = columns.get(i)
            if col is None:
                label = text(header[i]) if i < len(header) else ""
                if not label:
                    issues.append(
                        Issue(
                            ws.title,
                            number,
                            get_column_letter(i + 1),
                            _("A value in a column without a header."),
                        )
                    )
                continue
            record[_field_key(spec, col)] = value
        if record:
            records.append((number, record))
    present = {_field_key(spec, c) for c in columns.values()}
    if spec.section == "standards":
        out, more = _group_standards(ws.title, records, headers)
        return out, issues + more
    out = [_row(spec, ws.title, number, record, headers, present) for number, record in records]
    return out, issues


def _field_key(spec: SheetSpec, col: Column) -> str:
    # The condition's own filing condition is a separate field from the standard's.
    return col.en if spec.section == "standards" else col.field


def _row(spec: SheetSpec, sheet: str, number: int, record: dict, headers: dict, present: set[str]):
    src = Source(sheet, number, dict(headers))
    get = record.get
    if spec.section == "majors":
        return MajorRow(kind=get("kind"), code=get("code"), name=get("name"), local=get("local"), src=src)
    if spec.section == "types":
        return TypeRow(
            kind=get("kind"),
            code=get("code"),
            name=get("name"),
            major=get("major"),
            component=get("component"),
            local=get("local"),
            is_public=get("is_public"),
            keywords=get("keywords"),
            is_active=get("is_active"),
            note=get("note"),
            given=frozenset(present),
            src=src,
        )
    return LimitRow(name=get("name"), limit=get("limit"), unit=get("unit"), src=src)


def _group_standards(sheet: str, records: list, headers: dict) -> tuple[list[StandardRow], list[Issue]]:
    issues: list[Issue] = []
    std_cols = {f: headers.get(f, f) for f in STANDARD_FIELDS}
    cond_cols = {
        f: headers.get(f, f)
        for f in ("urgency", "stage", "limit", "unit", "close_when", "basis", "clock_starts", "area_class")
    }
    cond_cols["file_when"] = headers.get("condition_file_when", "condition_file_when")
    out: list[StandardRow] = []
    first_row: dict[str, int] = {}
    current: StandardRow | None = None
    first_values: dict[str, tuple[int, Any]] = {}
    for number, rec in records:
        key = text(rec.get("key"))
        std_values = {f: rec.get(f) for f in STANDARD_FIELDS if rec.get(f) is not None}
        if not key and not std_values and current is not None:
            pass  # continues the standard above (merged cells)
        elif not key:
            issues.append(Issue(sheet, number, std_cols["key"], _("This cell is required.")))
            continue
        elif current is not None and key == text(current.key):
            for f, value in std_values.items():
                first = first_values.get(f)
                if first is None:
                    first_values[f] = (number, value)
                    setattr(current, f, value)
                elif text(first[1]) != text(value):
                    issues.append(
                        Issue(
                            sheet,
                            number,
                            std_cols[f],
                            _("Differs from row %(row)s of the same standard.") % {"row": first[0]},
                        )
                    )
        elif key in first_row:
            issues.append(
                Issue(
                    sheet,
                    number,
                    std_cols["key"],
                    _("The rows of standard %(key)s must be together (it starts on row %(row)s).")
                    % {"key": key, "row": first_row[key]},
                )
            )
            continue
        else:
            current = StandardRow(
                key=key,
                topic=rec.get("topic"),
                codes=rec.get("codes"),
                file_when=rec.get("file_when"),
                note=rec.get("note"),
                sources=rec.get("sources"),
                src=Source(sheet, number, dict(std_cols)),
            )
            first_row[key] = number
            first_values = {f: (number, v) for f, v in std_values.items()}
            out.append(current)
        current.conditions.append(
            ConditionRow(
                urgency=rec.get("urgency"),
                limit=rec.get("limit"),
                unit=rec.get("unit"),
                file_when=rec.get("condition_file_when"),
                stage=rec.get("stage"),
                close_when=rec.get("close_when"),
                basis=rec.get("basis"),
                clock_starts=rec.get("clock_starts"),
                area_class=rec.get("area_class"),
                src=Source(sheet, number, dict(cond_cols)),
            )
        )
    return out, issues


# --- writing ----------------------------------------------------------------------------------------


def _limit(value: Any) -> int | float:
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


def _cells(spec: SheetSpec, data: Dataset) -> list[list[Any]]:
    rows: list[list[Any]] = []
    if spec.section == "majors":
        rows = [[m.kind, m.code, m.name, bool(m.local)] for m in data.majors or []]
    elif spec.section == "types":
        rows = [
            [
                t.kind,
                t.code,
                t.name,
                t.major,
                t.component or None,
                bool(t.local),
                bool(t.is_public),
                t.keywords or None,
                bool(t.is_active),
                t.note or None,
            ]
            for t in data.types or []
        ]
    elif spec.section == "standards":
        for s in data.standards or []:
            sources = json.dumps(s.sources, ensure_ascii=False) if s.sources else None
            for c in s.conditions:
                rows.append(
                    [
                        s.key,
                        s.topic,
                        ", ".join(s.codes),
                        s.file_when or None,
                        c.urgency,
                        c.file_when or None,
                        c.stage or None,
                        _limit(c.limit),
                        c.unit,
                        c.close_when or None,
                        c.basis or None,
                        c.clock_starts or None,
                        c.area_class or None,
                        s.note or None,
                        sources,
                    ]
                )
    else:
        rows = [[r.name, _limit(r.limit), r.unit] for r in getattr(data, spec.section) or []]
    return rows


def _readme_lines() -> list[str]:
    units = ", ".join(UNITS)
    return [
        _("Catalogue and case standards of the city operations platform"),
        "",
        _("Each sheet can be left out: a sheet that is not in the workbook leaves that part unchanged."),
        _("Headers may be given in Chinese, in English or both; do not rename the sheets."),
        _("Codes are text with their leading zeros (01001); separate several codes in a cell with commas."),
        _("Yes/no cells take TRUE or FALSE (also 是/否)."),
        _("Kinds: component, matter. Urgency: normal, urgent. Area class: A, B, C or empty."),
        _("Units: %(units)s.") % {"units": units},
        _("Steps: %(steps)s.") % {"steps": ", ".join(Step.values)},
        _(
            "Standards: one row per condition; the first six columns belong to the standard and repeat on "
            "each of its rows (or stay empty below its first row). A standard applies to its codes as "
            "components and as matters."
        ),
        _(
            "Importing replaces all standards, step limits and default limits; "
            "types are added or updated, never deleted."
        ),
        _("Any error rejects the whole workbook and nothing is changed."),
    ]


def write_workbook(data: Dataset) -> bytes:
    """The stored catalogue and standards as a workbook that ``read_workbook`` reads back unchanged."""
    wb = Workbook()
    readme = wb.active
    readme.title = " ".join(README)
    for line in _readme_lines():
        readme.append([line])
    readme.column_dimensions["A"].width = 110
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for spec in SHEETS:
        ws = wb.create_sheet(spec.title)
        ws.append([c.header for c in spec.columns])
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
        ws.freeze_panes = "A2"
        rows = _cells(spec, data)
        for row in rows:
            ws.append(row)
        last = max(len(rows) + 1, 2)
        for i, col in enumerate(spec.columns, 1):
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = col.width
            if col.code:
                for (cell,) in ws.iter_rows(min_row=2, max_row=last, min_col=i, max_col=i):
                    cell.number_format = "@"
            if col.choices:
                dv = DataValidation(
                    type="list", formula1='"' + ",".join(col.choices) + '"', allow_blank=not col.required
                )
                dv.add(f"{letter}2:{letter}{last + 500}")
                ws.add_data_validation(dv)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
