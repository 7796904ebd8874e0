"""Writes to the organisation: departments and memberships."""

from __future__ import annotations

from django.db import transaction

from cityops.organization.choices import DepartmentKind, Role
from cityops.organization.models import Department, Membership


@transaction.atomic
def department_upsert(
    *,
    code: str,
    name: str,
    kind: DepartmentKind | str,
    parent: Department | None = None,
    short_name: str = "",
    area_code: str = "",
    phone: str = "",
    email: str = "",
    sort: int = 0,
) -> Department:
    """Create or update a department by code, keeping the tree paths of its subtree right."""
    dept = Department.objects.select_for_update().filter(code=code).first() or Department(code=code)
    old_path = dept.path
    dept.name, dept.kind, dept.parent = name, DepartmentKind(kind), parent
    dept.short_name, dept.area_code, dept.phone, dept.email, dept.sort = (
        short_name,
        area_code,
        phone,
        email,
        sort,
    )
    dept.path = dept.compute_path()
    dept.save()
    if old_path and old_path != dept.path:
        for child in Department.objects.filter(path__startswith=old_path).exclude(pk=dept.pk):
            child.path = dept.path + child.path[len(old_path) :]
            child.save(update_fields=["path"])
    return dept


def membership_grant(*, user, department: Department, role: Role | str) -> Membership:
    """Give ``user`` a role in ``department`` (idempotent; reactivates a lapsed membership)."""
    m, _ = Membership.objects.get_or_create(user=user, department=department, role=Role(role))
    if not m.is_active:
        m.is_active = True
        m.save(update_fields=["is_active"])
    return m


def membership_revoke(*, user, department: Department, role: Role | str) -> None:
    Membership.objects.filter(user=user, department=department, role=Role(role)).update(is_active=False)
