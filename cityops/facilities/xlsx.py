"""The registry workbook: export every facility, import a bureau's sheet with row-level errors.

Headers are bilingual (``编码 code``) and are the file format, so they are not translated; a header is
recognised by its Chinese or its English word alone as well. Choice cells take the value (``toilet``)
or the Chinese word (``公厕``); yes/no cells take 是/否, yes/no, y/n, 1/0, true/false.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from cityops.facilities.choices import FacilityKind, StationService, ToiletType

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
SHEET = "设施 facilities"


@dataclass(frozen=True)
class Column:
    field: str
    zh: str
    en: str
    width: int = 12
    required: bool = False

    @property
    def header(self) -> str:
        return f"{self.zh} {self.en}"


COLUMNS = [
    Column("code", "编码", "code", 20, True),
    Column("name", "名称", "name", 24, True),
    Column("kind", "类别", "kind", 10, True),
    Column("address", "地址", "address", 28),
    Column("lat", "纬度", "lat", 11, True),
    Column("lon", "经度", "lon", 11, True),
    Column("toilet_type", "建筑类型", "toilet_type", 12),
    Column("toilet_class", "等级", "class", 6),
    Column("cubicles_male", "男厕位", "male", 8),
    Column("cubicles_female", "女厕位", "female", 8),
    Column("urinals", "小便位", "urinals", 8),
    Column("accessible", "无障碍厕位", "accessible", 10),
    Column("third_washroom", "第三卫生间", "third_washroom", 10),
    Column("opening_hours", "开放时间", "opening_hours", 26),
    Column("free", "免费", "free", 6),
    Column("department", "管理单位", "department", 12, True),
    Column("interval", "巡查间隔天数", "interval_days", 10),
    Column("services_planned", "驿站服务规划", "services_planned", 24),
    Column("services_in_place", "驿站服务已建", "services_in_place", 24),
    Column("active", "在用", "active", 6),
    Column("note", "备注", "note", 20),
]

KIND_WORDS = {"公厕": FacilityKind.TOILET, "驿站": FacilityKind.STATION, "公园": FacilityKind.PARK,
              "健身": FacilityKind.FITNESS, "其他": FacilityKind.OTHER}  # fmt: skip
TYPE_WORDS = {"独立式": ToiletType.STANDALONE, "附属式": ToiletType.ATTACHED, "活动式": ToiletType.MOBILE}
SERVICE_WORDS = {"饮水": StationService.WATER, "充电": StationService.CHARGING,
                 "阅读": StationService.READING, "休息": StationService.REST}  # fmt: skip
KIND_OUT = {v: k for k, v in KIND_WORDS.items()}
TYPE_OUT = {v: k for k, v in TYPE_WORDS.items()}
SERVICE_OUT = {v: k for k, v in SERVICE_WORDS.items()}
YES = {"是", "有", "yes", "y", "1", "true", "√"}
NO = {"否", "无", "no", "n", "0", "false", ""}


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


class CellError(ValueError):
    pass


def _bool(v: Any, default: bool) -> bool:
    t = _text(v).lower()
    if t == "":
        return default
    if t in YES:
        return True
    if t in NO:
        return False
    raise CellError(_("Write yes or no (是/否)."))


def _int(v: Any, default: int | None = 0) -> int | None:
    t = _text(v)
    if t == "":
        return default
    try:
        return int(t)
    except ValueError as exc:
        raise CellError(_("A whole number.")) from exc


def _float(v: Any) -> float:
    t = _text(v)
    try:
        return float(t)
    except ValueError as exc:
        raise CellError(_("A number (decimal degrees, WGS84).")) from exc


def _choice(v: Any, words: dict, values: list[str]) -> str:
    t = _text(v)
    if t in words:
        return str(words[t])
    if t.lower() in values or t == "":
        return t.lower()
    raise CellError(_("One of: %(values)s.") % {"values": ", ".join([*values, *words])})


def _services(v: Any) -> list[str]:
    out = []
    for part in _text(v).replace("，", ",").replace("、", ",").split(","):
        p = part.strip()
        if not p:
            continue
        out.append(_choice(p, SERVICE_WORDS, StationService.values))
    return out


def _match(header: Any, col: Column) -> bool:
    tokens = set(_text(header).lower().split())
    return col.zh in tokens or col.en.lower() in tokens or _text(header) == col.header


def read_registry(content: bytes):
    """(row number, FacilityInput) for every data row, and row-level errors (``RowError``)."""
    from cityops.facilities.services import FacilityInput, RowError

    if len(content) > MAX_BYTES:
        return [], [RowError(0, "", _("The file is too large (at most 10 MB)."))]
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED_BYTES:
                return [], [RowError(0, "", _("The file is too large (at most 10 MB)."))]
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        return [], [RowError(0, "", _("This is not an xlsx workbook."))]
    rows: list = []
    errors: list = []
    try:
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = next(it, None) or ()
        index: dict[str, int] = {}
        for i, h in enumerate(header):
            for col in COLUMNS:
                if col.field not in index and _match(h, col):
                    index[col.field] = i
        missing = [c.header for c in COLUMNS if c.required and c.field not in index]
        if missing:
            return [], [RowError(1, "", _("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)})]
        for number, values in enumerate(it, 2):
            if number > MAX_ROWS + 1:
                errors.append(RowError(number, "", _("At most 20000 rows.")))
                break
            if not any(_text(v) for v in values):
                continue

            def cell(name, values=values):
                i = index.get(name)
                return values[i] if i is not None and i < len(values) else None

            problems: list = []
            parsed: dict[str, Any] = {}
            parsers = {
                "code": lambda v: _text(v),
                "name": lambda v: _text(v),
                "kind": lambda v: _choice(v, KIND_WORDS, FacilityKind.values) or FacilityKind.TOILET,
                "address": lambda v: _text(v),
                "lat": _float,
                "lon": _float,
                "toilet_type": lambda v: _choice(v, TYPE_WORDS, ToiletType.values),
                "toilet_class": lambda v: _text(v).replace("类", ""),
                "cubicles_male": _int,
                "cubicles_female": _int,
                "urinals": _int,
                "accessible": lambda v: _bool(v, False),
                "third_washroom": lambda v: _bool(v, False),
                "opening_hours": lambda v: _text(v) or "06:00-22:00",
                "free": lambda v: _bool(v, True),
                "department": lambda v: _text(v),
                "interval": lambda v: _int(v, None),
                "services_planned": _services,
                "services_in_place": _services,
                "active": lambda v: _bool(v, True),
                "note": lambda v: _text(v),
            }
            for col in COLUMNS:
                try:
                    parsed[col.field] = parsers[col.field](cell(col.field))
                except CellError as exc:
                    problems.append(RowError(number, col.field, str(exc)))
            if problems:
                errors.extend(problems)
                continue
            in_place = set(parsed["services_in_place"])
            planned = list(dict.fromkeys([*parsed["services_planned"], *parsed["services_in_place"]]))
            rows.append(
                (
                    number,
                    FacilityInput(
                        code=parsed["code"],
                        name=parsed["name"],
                        kind=parsed["kind"],
                        address=parsed["address"],
                        lat=parsed["lat"],
                        lon=parsed["lon"],
                        toilet_type=parsed["toilet_type"],
                        toilet_class=parsed["toilet_class"],
                        cubicles_male=parsed["cubicles_male"],
                        cubicles_female=parsed["cubicles_female"],
                        urinals=parsed["urinals"],
                        accessible=parsed["accessible"],
                        third_washroom=parsed["third_washroom"],
                        opening_hours=parsed["opening_hours"],
                        free=parsed["free"],
                        department=parsed["department"],
                        inspection_interval_days=parsed["interval"],
                        is_active=parsed["active"],
                        note=parsed["note"],
                        services={s: s in in_place for s in planned},
                    ),
                )
            )
    finally:
        wb.close()
    return rows, errors


def write_registry(facilities) -> bytes:
    """The workbook of ``facilities`` (prefetch ``services`` and select ``department``)."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([c.header for c in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
    for i, col in enumerate(COLUMNS, 1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "A2"

    def yn(b: bool) -> str:
        return "是" if b else "否"

    for f in facilities:
        services = list(f.services.all())
        ws.append(
            [
                f.code,
                f.name,
                KIND_OUT.get(f.kind, f.kind),
                f.address,
                f.lat,
                f.lon,
                TYPE_OUT.get(f.toilet_type, f.toilet_type),
                f.toilet_class,
                f.cubicles_male,
                f.cubicles_female,
                f.urinals,
                yn(f.accessible),
                yn(f.third_washroom),
                f.opening_hours,
                yn(f.free),
                f.department.code,
                f.inspection_interval_days,
                "、".join(SERVICE_OUT.get(s.service, s.service) for s in services),
                "、".join(SERVICE_OUT.get(s.service, s.service) for s in services if s.in_place),
                yn(f.is_active),
                f.note,
            ]
        )
        ws.cell(row=ws.max_row, column=1).number_format = "@"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
