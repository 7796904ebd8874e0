"""Reads the reference YAML files (catalogue, case standards, keywords) into a ``Dataset``.

The project keeps its own copies under ``fixtures/`` (a user's clone has no ``../shared``), so these
are the defaults. Item keys the loader does not know are reported rather than dropped, so a newer file
never loses data silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext as _

from cityops.catalog.choices import Kind
from cityops.catalog.dataset import (
    ConditionRow,
    Dataset,
    Issue,
    LimitRow,
    MajorRow,
    Source,
    StandardRow,
    TypeRow,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CATALOG_FILE = FIXTURES / "catalog.yaml"
STANDARDS_FILE = FIXTURES / "case_standards.yaml"
KEYWORDS_FILE = FIXTURES / "keywords.yaml"

MAJOR_KEYS = {"code", "name", "local"}
TYPE_KEYS = {"code", "name", "major", "component", "local", "note"}
STANDARD_KEYS = {"codes", "topic", "file_when", "conditions", "note", "sources"}
CONDITION_KEYS = {
    "urgency",
    "file_when",
    "stage",
    "limit",
    "unit",
    "close_when",
    "basis",
    "clock_starts",
    "area_class",
}
# Fields a reload with --force puts back from the files; the city's public/active choices are its own.
LOADED_TYPE_FIELDS = frozenset({"name", "major", "component", "local", "note", "keywords"})


def standard_key(position: int) -> str:
    """Keys of the reference standards, by position in the file (S001, S002, ...)."""
    return f"S{position:03d}"


# libyaml's loader is some 10x faster than the pure-Python one; same safe subset of YAML.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path, issues: list[Issue]) -> dict:
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (a safe loader)
    except (OSError, yaml.YAMLError) as exc:
        issues.append(Issue(Path(path).name, None, "", _("Cannot read the file: %(error)s") % {"error": exc}))
        return {}
    if not isinstance(data, dict):
        issues.append(Issue(Path(path).name, None, "", _("The file must hold a mapping.")))
        return {}
    return data


def _items(data: dict, section: str, sheet: str, issues: list[Issue]) -> list[tuple[int, dict]]:
    value = data.get(section)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        issues.append(Issue(sheet, None, section, _("Expected a list of mappings.")))
        return []
    return list(enumerate(value, 1))


def _unknown(item: dict, allowed: set[str], sheet: str, row: int, prefix: str, issues: list[Issue]) -> None:
    for key in sorted(set(item) - allowed, key=str):
        issues.append(Issue(sheet, row, f"{prefix}{key}", _("Unknown field.")))


def read_keywords(path: Path = KEYWORDS_FILE) -> tuple[dict[str, list[str]], list[Issue]]:
    issues: list[Issue] = []
    data = _read(path, issues)
    words = data.get("keywords") or {}
    if not isinstance(words, dict):
        issues.append(Issue(Path(path).name, None, "keywords", _("Expected a mapping of code to words.")))
        return {}, issues
    return {str(code): list(v or []) for code, v in words.items()}, issues


def read_catalog(
    path: Path = CATALOG_FILE, keywords: dict[str, list[str]] | None = None
) -> tuple[Dataset, list[Issue]]:
    """Majors and types of a catalogue file (the GB/T 47678.5 transcription plus local extensions)."""
    issues: list[Issue] = []
    data = _read(path, issues)
    name = Path(path).name
    keywords = keywords or {}
    out = Dataset(majors=[], types=[])
    for kind, section in ((Kind.COMPONENT, "component_majors"), (Kind.MATTER, "matter_majors")):
        sheet = f"{name}: {section}"
        for row, item in _items(data, section, sheet, issues):
            _unknown(item, MAJOR_KEYS, sheet, row, "", issues)
            out.majors.append(
                MajorRow(
                    kind=str(kind),
                    code=item.get("code"),
                    name=item.get("name"),
                    local=item.get("local"),
                    src=Source(sheet, row),
                )
            )
    for kind, section in ((Kind.COMPONENT, "components"), (Kind.MATTER, "matters")):
        sheet = f"{name}: {section}"
        for row, item in _items(data, section, sheet, issues):
            _unknown(item, TYPE_KEYS, sheet, row, "", issues)
            code = str(item.get("code") or "")
            out.types.append(
                TypeRow(
                    kind=str(kind),
                    code=item.get("code"),
                    name=item.get("name"),
                    major=item.get("major"),
                    component=item.get("component"),
                    local=item.get("local"),
                    keywords=keywords.get(code, []),
                    note=item.get("note"),
                    given=LOADED_TYPE_FIELDS,
                    src=Source(sheet, row, {"is_public": "is_public", "is_active": "is_active"}),
                )
            )
    return out, issues


def read_standards(path: Path = STANDARDS_FILE) -> tuple[Dataset, list[Issue]]:
    """Standards and step limits of a case standards file."""
    issues: list[Issue] = []
    data = _read(path, issues)
    name = Path(path).name
    out = Dataset(standards=[], step_limits=[])
    sheet = f"{name}: standards"
    for row, item in _items(data, "standards", sheet, issues):
        _unknown(item, STANDARD_KEYS, sheet, row, "", issues)
        conditions = item.get("conditions") or []
        if not isinstance(conditions, list) or not all(isinstance(c, dict) for c in conditions):
            issues.append(Issue(sheet, row, "conditions", _("Expected a list of mappings.")))
            conditions = []
        std = StandardRow(
            key=standard_key(row),
            topic=item.get("topic"),
            codes=item.get("codes") or [],
            file_when=item.get("file_when"),
            note=item.get("note"),
            sources=item.get("sources"),
            src=Source(sheet, row),
        )
        for j, cond in enumerate(conditions, 1):
            prefix = f"conditions[{j}]."
            _unknown(cond, CONDITION_KEYS, sheet, row, prefix, issues)
            std.conditions.append(
                ConditionRow(
                    urgency=cond.get("urgency"),
                    limit=cond.get("limit"),
                    unit=cond.get("unit"),
                    file_when=cond.get("file_when"),
                    stage=cond.get("stage"),
                    close_when=cond.get("close_when"),
                    basis=cond.get("basis"),
                    clock_starts=cond.get("clock_starts"),
                    area_class=cond.get("area_class"),
                    src=Source(sheet, row, {f: prefix + f for f in CONDITION_KEYS}),
                )
            )
        out.standards.append(std)
    steps: Any = data.get("step_limits_default") or {}
    sheet = f"{name}: step_limits_default"
    if not isinstance(steps, dict):
        issues.append(Issue(sheet, None, "", _("Expected a mapping of step to limit.")))
        steps = {}
    row = 0
    for label, value in steps.items():
        if label == "about":
            continue
        row += 1
        if not isinstance(value, dict):
            issues.append(Issue(sheet, row, str(label), _("Expected a mapping with limit and unit.")))
            continue
        _unknown(value, {"limit", "unit"}, sheet, row, f"{label}.", issues)
        out.step_limits.append(
            LimitRow(
                name=label,
                limit=value.get("limit"),
                unit=value.get("unit"),
                src=Source(
                    sheet, row, {"name": str(label), "limit": f"{label}.limit", "unit": f"{label}.unit"}
                ),
            )
        )
    return out, issues
