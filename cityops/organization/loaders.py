"""Reads a department tree from YAML and writes it through the organisation services."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import transaction

from cityops.organization.choices import DepartmentKind
from cityops.organization.services import department_upsert

DEFAULT_FILE = Path(__file__).resolve().parent / "fixtures" / "changzhi_departments.yaml"


class TreeError(ValueError):
    pass


def _validate(nodes, seen: set[str], where: str) -> None:
    kinds = set(DepartmentKind.values)
    for i, node in enumerate(nodes, 1):
        here = f"{where}[{i}]"
        for key in ("code", "name", "kind"):
            if not str(node.get(key, "")).strip():
                raise TreeError(f"{here}: '{key}' is required")
        if node["kind"] not in kinds:
            raise TreeError(f"{here}: unknown kind {node['kind']!r}; expected one of {sorted(kinds)}")
        if node["code"] in seen:
            raise TreeError(f"{here}: duplicate code {node['code']!r}")
        seen.add(node["code"])
        _validate(node.get("children") or [], seen, f"{here}.children")


@transaction.atomic
def load_departments(path: Path = DEFAULT_FILE) -> int:
    """Create or update every department of the file; returns how many were written."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    roots = data.get("departments") or []
    _validate(roots, set(), "departments")
    count = 0

    def walk(nodes, parent):
        nonlocal count
        for order, node in enumerate(nodes):
            dept = department_upsert(
                code=node["code"],
                name=node["name"],
                kind=node["kind"],
                parent=parent,
                short_name=node.get("short_name", ""),
                area_code=str(node.get("area", "")),
                phone=node.get("phone", ""),
                email=node.get("email", ""),
                sort=order,
            )
            count += 1
            walk(node.get("children") or [], dept)

    walk(roots, None)
    return count
