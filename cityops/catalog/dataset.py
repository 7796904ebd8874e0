"""The catalogue and standards as plain rows, and the one validator both sources go through (pure).

The YAML reference files and a bureau's xlsx workbook are read into the same ``Dataset`` of raw
cell values; ``validate`` converts them in place and returns every problem as an ``Issue`` (sheet,
row, column, message), so nothing is written unless the whole input is clean. No ORM here: what is
already in the database comes in as plain sets of keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from cityops.catalog import codes as code_rules
from cityops.catalog.choices import (
    KIND_ALIASES,
    STEP_ALIASES,
    UNIT_ALIASES,
    URGENCY_ALIASES,
    AreaClass,
    Kind,
    Step,
    Urgency,
)
from cityops.core.worktime import Unit

UNITS = tuple(u.value for u in Unit)

MAX_LIMIT = Decimal("999999.99")
TRUE_WORDS = {"true", "yes", "y", "1", "是", "√", "✓", "t"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "×", "f"}
CODE_SEPARATORS = ",，、;；/ \t\n"


@dataclass(frozen=True)
class Issue:
    """One problem of the input, where a person can find it: sheet (or file), row, column."""

    sheet: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        values = {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message}
        if self.row is None:
            return _("%(sheet)s [%(column)s]: %(message)s") % values
        return _("%(sheet)s row %(row)s [%(column)s]: %(message)s") % values


@dataclass
class Source:
    """Where a row came from; ``columns`` maps field names to the header a person sees."""

    sheet: str
    row: int | None
    columns: dict[str, str] = field(default_factory=dict)

    def issue(self, fld: str, message: str) -> Issue:
        return Issue(self.sheet, self.row, self.columns.get(fld, fld), message)

    def label(self) -> str:
        return _("row %(row)s") % {"row": self.row} if self.row is not None else self.sheet


@dataclass
class MajorRow:
    kind: Any
    code: Any
    name: Any
    local: Any = None
    src: Source = field(default_factory=lambda: Source("", None))


@dataclass
class TypeRow:
    """A catalogue type; ``given`` names the fields the input carried (absent columns keep stored values)."""

    kind: Any
    code: Any
    name: Any
    major: Any
    component: Any = None
    local: Any = None
    is_public: Any = None
    keywords: Any = None
    is_active: Any = None
    note: Any = None
    given: frozenset[str] = frozenset({"name", "major"})
    src: Source = field(default_factory=lambda: Source("", None))


# Every field of a type a workbook row can carry (besides kind and code).
TYPE_FIELDS = frozenset({"name", "major", "component", "local", "is_public", "keywords", "is_active", "note"})


@dataclass
class ConditionRow:
    urgency: Any
    limit: Any
    unit: Any
    file_when: Any = None
    stage: Any = None
    close_when: Any = None
    basis: Any = None
    clock_starts: Any = None
    area_class: Any = None
    src: Source = field(default_factory=lambda: Source("", None))


@dataclass
class StandardRow:
    key: Any
    topic: Any
    codes: Any
    file_when: Any = None
    note: Any = None
    sources: Any = None
    conditions: list[ConditionRow] = field(default_factory=list)
    src: Source = field(default_factory=lambda: Source("", None))


@dataclass
class LimitRow:
    """A step limit (``name`` is a step) or a default limit (``name`` is an urgency level)."""

    name: Any
    limit: Any
    unit: Any
    src: Source = field(default_factory=lambda: Source("", None))


@dataclass
class Dataset:
    """Everything an input carries; a section left as ``None`` was not in the input and stays untouched."""

    majors: list[MajorRow] | None = None
    types: list[TypeRow] | None = None
    standards: list[StandardRow] | None = None
    step_limits: list[LimitRow] | None = None
    defaults: list[LimitRow] | None = None

    def sections(self) -> list[str]:
        return [
            n
            for n in ("majors", "types", "standards", "step_limits", "defaults")
            if getattr(self, n) is not None
        ]


# --- cell conversions -------------------------------------------------------------------------------


def text(value: Any) -> str:
    """A cell as stripped text; whole numbers lose the ``.0`` a spreadsheet adds."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value).strip()


def code_text(value: Any, length: int) -> str:
    """A code cell: a number typed into a spreadsheet (1001) gets its leading zeros back (01001)."""
    if isinstance(value, bool):
        return text(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value < 10**length:
        return str(value).zfill(length)
    return text(value)


def split_codes(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [code_text(v, code_rules.TYPE_CODE_LENGTH) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [code_text(value, code_rules.TYPE_CODE_LENGTH)]
    raw = text(value)
    for sep in CODE_SEPARATORS:
        raw = raw.replace(sep, ",")
    return [c for c in raw.split(",") if c]


def _values(choices: Any) -> tuple[str, ...]:
    return tuple(choices.values) if hasattr(choices, "values") else tuple(choices)


def _choice(value: Any, choices: Any, aliases: dict) -> str | None:
    raw = text(value)
    if raw in aliases:
        return str(aliases[raw])
    low = raw.lower()
    return low if low in _values(choices) else None


def _step_choice(value: Any) -> str | None:
    raw = text(value)
    # "受理 (accept a report)" as in the reference file: the leading word decides.
    head = raw.split("(")[0].split("（")[0].strip()
    return _choice(head, Step, STEP_ALIASES) or _choice(raw, Step, STEP_ALIASES)


class _Checker:
    """Collects issues while converting one dataset in place."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, src: Source, fld: str, message: str) -> None:
        self.issues.append(src.issue(fld, message))

    def required_text(self, src: Source, fld: str, value: Any, max_length: int | None = None) -> str:
        raw = text(value)
        if not raw:
            self.add(src, fld, _("This cell is required."))
        return self.length(src, fld, raw, max_length)

    def length(self, src: Source, fld: str, raw: str, max_length: int | None) -> str:
        if max_length and len(raw) > max_length:
            self.add(src, fld, _("Too long: at most %(max)s characters.") % {"max": max_length})
        return raw

    def choice(
        self, src: Source, fld: str, value: Any, choices: Any, aliases: dict, *, blank_ok=False
    ) -> str:
        raw = text(value)
        if not raw:
            if not blank_ok:
                self.add(src, fld, _("This cell is required."))
            return ""
        got = _choice(raw, choices, aliases)
        if got is None:
            self.add(
                src,
                fld,
                _("Unknown value %(value)r: use one of %(choices)s.")
                % {"value": raw, "choices": ", ".join(_values(choices))},
            )
            return raw
        return got

    def boolean(self, src: Source, fld: str, value: Any, default: bool) -> bool:
        if value is None or (isinstance(value, str) and not value.strip()):
            return default
        if isinstance(value, bool):
            return value
        raw = text(value).lower()
        if raw in TRUE_WORDS:
            return True
        if raw in FALSE_WORDS:
            return False
        self.add(src, fld, _("Not a yes/no value: %(value)r.") % {"value": text(value)})
        return default

    def limit(self, src: Source, fld: str, value: Any) -> Decimal | None:
        raw = text(value)
        if not raw:
            self.add(src, fld, _("This cell is required."))
            return None
        try:
            number = Decimal(raw)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            self.add(src, fld, _("The limit must be a number, got %(value)r.") % {"value": raw})
            return None
        if number <= 0:
            self.add(src, fld, _("The limit must be greater than zero."))
            return None
        if number > MAX_LIMIT:
            self.add(src, fld, _("The limit is too large."))
            return None
        if number != number.quantize(Decimal("0.01")):
            self.add(src, fld, _("The limit allows at most 2 decimal places."))
            return None
        return number.quantize(Decimal(1)) if number == number.to_integral_value() else number

    def unit(self, src: Source, fld: str, value: Any) -> str:
        return self.choice(src, fld, value, UNITS, UNIT_ALIASES)


# --- validation -------------------------------------------------------------------------------------


def validate(
    data: Dataset,
    *,
    stored_majors: Iterable[tuple[str, str]] = (),
    stored_types: Iterable[tuple[str, str]] = (),
) -> list[Issue]:
    """Convert ``data`` in place and return every problem found; an empty list means it can be written.

    ``stored_majors`` and ``stored_types`` are the (kind, code) keys already in the database: rows of the
    input may refer to them, since an import upserts the catalogue and never deletes types.
    """
    check = _Checker()
    majors = set(stored_majors)
    types = set(stored_types)
    if data.majors is not None:
        majors |= _validate_majors(check, data.majors)
    if data.types is not None:
        types |= _validate_types(check, data.types, majors, types)
    if data.standards is not None:
        _validate_standards(check, data.standards, {code for _kind, code in types})
    if data.step_limits is not None:
        _validate_limits(check, data.step_limits, "step")
    if data.defaults is not None:
        _validate_limits(check, data.defaults, "urgency")
    return check.issues


def _validate_majors(check: _Checker, rows: list[MajorRow]) -> set[tuple[str, str]]:
    seen: dict[tuple[str, str], Source] = {}
    for row in rows:
        src = row.src
        row.kind = check.choice(src, "kind", row.kind, Kind, KIND_ALIASES)
        raw_code = code_text(row.code, code_rules.MAJOR_CODE_LENGTH)
        if not raw_code:
            check.add(src, "code", _("This cell is required."))
        elif not code_rules.is_major_code(raw_code):
            check.add(
                src,
                "code",
                _("%(value)r is not a major class code: expected 2 digits, e.g. 01.") % {"value": raw_code},
            )
        row.code = raw_code
        row.name = check.required_text(src, "name", row.name, 100)
        row.local = check.boolean(src, "local", row.local, False)
        key = (row.kind, row.code)
        if key in seen:
            check.add(
                src,
                "code",
                _("Duplicate: %(what)s is also on %(where)s.")
                % {"what": " ".join(key), "where": seen[key].label()},
            )
        else:
            seen[key] = src
    return set(seen)


def _validate_types(
    check: _Checker, rows: list[TypeRow], majors: set[tuple[str, str]], stored: set[tuple[str, str]]
) -> set[tuple[str, str]]:
    seen: dict[tuple[str, str], Source] = {}
    for row in rows:
        src = row.src
        row.kind = check.choice(src, "kind", row.kind, Kind, KIND_ALIASES)
        row.code = code_text(row.code, code_rules.TYPE_CODE_LENGTH)
        code_ok = False
        if not row.code:
            check.add(src, "code", _("This cell is required."))
        elif not code_rules.is_type_code(row.code):
            check.add(
                src,
                "code",
                _("%(value)r is not a catalogue code: expected 5 digits, e.g. 01001.") % {"value": row.code},
            )
        else:
            code_ok = True
        row.name = check.required_text(src, "name", row.name, 100)
        row.major = code_text(row.major, code_rules.MAJOR_CODE_LENGTH)
        if not row.major:
            check.add(src, "major", _("This cell is required."))
        elif row.kind in Kind.values and (row.kind, row.major) not in majors:
            check.add(
                src,
                "major",
                _("Unknown major class %(major)s of kind %(kind)s.") % {"major": row.major, "kind": row.kind},
            )
        elif code_ok and row.code[:2] != row.major:
            check.add(
                src,
                "code",
                _("The code %(code)s does not start with its major class %(major)s.")
                % {"code": row.code, "major": row.major},
            )
        row.component = code_text(row.component, code_rules.TYPE_CODE_LENGTH)
        if row.component and row.kind == Kind.COMPONENT:
            check.add(src, "component", _("Only a matter refers to a component type."))
        row.local = check.boolean(src, "local", row.local, False)
        row.is_public = check.boolean(src, "is_public", row.is_public, row.kind == Kind.MATTER)
        row.is_active = check.boolean(src, "is_active", row.is_active, True)
        row.keywords = check.length(src, "keywords", normalize_keywords(row.keywords), 500)
        row.note = text(row.note)
        key = (row.kind, row.code)
        if key in seen:
            check.add(
                src,
                "code",
                _("Duplicate: %(what)s is also on %(where)s.")
                % {"what": " ".join(key), "where": seen[key].label()},
            )
        else:
            seen[key] = src
    components = {code for kind, code in (stored | set(seen)) if kind == Kind.COMPONENT}
    for row in rows:
        if row.component and row.kind == Kind.MATTER and row.component not in components:
            check.add(
                row.src,
                "component",
                _("%(code)s is not a component type of the catalogue.") % {"code": row.component},
            )
    return set(seen)


def normalize_keywords(value: Any) -> str:
    """One canonical spelling (comma-separated, no duplicates, order kept) so edits compare equal."""
    words = value if isinstance(value, (list, tuple)) else text(value).replace("，", ",").replace("、", ",")
    if isinstance(words, str):
        for sep in ";；\t\n":
            words = words.replace(sep, ",")
        words = words.split(",")
    seen: dict[str, None] = {}
    for word in words:
        for part in text(word).split():
            seen.setdefault(part, None)
    return ",".join(seen)


def _validate_standards(check: _Checker, rows: list[StandardRow], known_codes: set[str]) -> None:
    keys: dict[str, Source] = {}
    for row in rows:
        src = row.src
        row.key = check.required_text(src, "key", row.key, 32)
        if row.key in keys:
            check.add(
                src,
                "key",
                _("Duplicate: %(what)s is also on %(where)s.")
                % {"what": row.key, "where": keys[row.key].label()},
            )
        elif row.key:
            keys[row.key] = src
        row.topic = check.required_text(src, "topic", row.topic, 200)
        row.file_when = text(row.file_when)
        row.note = text(row.note)
        codes = split_codes(row.codes)
        if not codes:
            check.add(src, "codes", _("This cell is required."))
        seen_codes: set[str] = set()
        for code in codes:
            if not code_rules.is_type_code(code):
                check.add(
                    src,
                    "codes",
                    _("%(value)r is not a catalogue code: expected 5 digits, e.g. 01001.") % {"value": code},
                )
            elif code not in known_codes:
                check.add(src, "codes", _("No catalogue type has the code %(code)s.") % {"code": code})
            elif code in seen_codes:
                check.add(src, "codes", _("The code %(code)s is listed twice.") % {"code": code})
            seen_codes.add(code)
        row.codes = codes
        row.sources = _sources(check, src, row.sources)
        if not row.conditions:
            check.add(src, "conditions", _("The standard has no condition."))
        slots: dict[tuple, Source] = {}
        for cond in row.conditions:
            _validate_condition(check, cond)
            slot = (cond.urgency, cond.file_when, cond.stage, cond.area_class)
            if slot in slots:
                check.add(
                    cond.src,
                    "urgency",
                    _("The same condition (urgency, filing condition, stage, area class) is on %(where)s.")
                    % {"where": slots[slot].label()},
                )
            else:
                slots[slot] = cond.src


def _sources(check: _Checker, src: Source, value: Any) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    raw = text(value)
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if not isinstance(parsed, list):
        check.add(src, "sources", _('The sources must be a JSON list, e.g. [{"url": "..."}].'))
        return []
    return parsed


def _validate_condition(check: _Checker, cond: ConditionRow) -> None:
    src = cond.src
    cond.urgency = check.choice(src, "urgency", cond.urgency, Urgency, URGENCY_ALIASES)
    cond.limit = check.limit(src, "limit", cond.limit)
    cond.unit = check.unit(src, "unit", cond.unit)
    cond.area_class = check.choice(
        src, "area_class", text(cond.area_class).upper(), AreaClass, {}, blank_ok=True
    )
    cond.file_when = text(cond.file_when)
    cond.stage = check.length(src, "stage", text(cond.stage), 100)
    cond.close_when = text(cond.close_when)
    cond.basis = check.length(src, "basis", text(cond.basis), 200)
    cond.clock_starts = check.length(src, "clock_starts", text(cond.clock_starts), 200)


def _validate_limits(check: _Checker, rows: list[LimitRow], what: str) -> None:
    seen: dict[str, Source] = {}
    for row in rows:
        src = row.src
        if what == "step":
            raw = text(row.name)
            row.name = _step_choice(raw) if raw else ""
            if not raw:
                check.add(src, "name", _("This cell is required."))
            elif row.name is None:
                row.name = raw
                check.add(
                    src,
                    "name",
                    _("Unknown value %(value)r: use one of %(choices)s.")
                    % {"value": raw, "choices": ", ".join(Step.values)},
                )
        else:
            row.name = check.choice(src, "name", row.name, Urgency, URGENCY_ALIASES)
        row.limit = check.limit(src, "limit", row.limit)
        row.unit = check.unit(src, "unit", row.unit)
        if row.name in seen:
            check.add(
                src,
                "name",
                _("Duplicate: %(what)s is also on %(where)s.")
                % {"what": row.name, "where": seen[row.name].label()},
            )
        elif row.name:
            seen[row.name] = src
