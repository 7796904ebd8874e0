"""Who sees which departments and people: the one visibility rule for organisation data.

Command-centre roles (operator, duty chief, dispatcher, leader, administrator) see the whole city.
A department handler or an inspector sees their own departments and the departments under them.
A person without an active membership sees nothing (superusers see everything).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from cityops.core import refcache
from cityops.organization.choices import CITY_WIDE_ROLES, ROLE_PRIORITY, Role
from cityops.organization.models import Department, Membership


def memberships_of(user) -> list[Membership]:
    """Active memberships of ``user``, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_cityops_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user, is_active=True, department__is_active=True).select_related(
                "department"
            )
        )
        user._cityops_memberships = cached
    return cached


def memberships_prime(user, memberships: list[Membership]) -> None:
    """Set the memberships ``memberships_of`` returns, when the caller loaded them already (the API
    token check does, in the same query as the person)."""
    user._cityops_memberships = list(memberships)


def roles_of(user) -> set[Role]:
    roles = {Role(m.role) for m in memberships_of(user)}
    if getattr(user, "is_superuser", False):
        roles.add(Role.ADMIN)
    return roles


def has_role(user, *roles: Role) -> bool:
    return bool(roles_of(user) & set(roles))


def primary_role(user) -> Role | None:
    """The role whose home page a person lands on."""
    roles = roles_of(user)
    return next((r for r in ROLE_PRIORITY if r in roles), None)


def sees_whole_city(user) -> bool:
    return getattr(user, "is_superuser", False) or bool(roles_of(user) & CITY_WIDE_ROLES)


def department_paths_of(user, *roles: Role) -> list[str]:
    """Tree paths of the departments where ``user`` holds any of ``roles`` (all roles if none given)."""
    return [m.department.path for m in memberships_of(user) if not roles or m.role in roles]


def department_list_for(user) -> QuerySet[Department]:
    """Departments ``user`` may see."""
    qs = Department.objects.filter(is_active=True)
    if sees_whole_city(user):
        return qs
    paths = department_paths_of(user)
    if not paths:
        return qs.none()
    cond = Q()
    for p in paths:
        cond |= Q(path__startswith=p)
    return qs.filter(cond)


@dataclass(frozen=True)
class DepartmentRow:
    """An active department as pickers list it."""

    code: str
    name: str
    path: str
    id: int


class _Departments:
    """This process's copy of the active departments, and what was picked from it per visibility:
    the rows and their (code, name) pairs."""

    lock = threading.Lock()
    rows: tuple[DepartmentRow, ...] | None = None
    # (path, key) of every department, inactive ones too: a case may still be held by one
    every: tuple[tuple[str, int], ...] = ()
    checked_at: float | None = None
    picked: dict[tuple[str, ...] | None, tuple[list[DepartmentRow], list[tuple[str, str]]]] = {}


_PICKED_MAX = 256  # distinct visibilities kept (one per set of departments people belong to)


def departments_changed_locally() -> None:
    """Forget this process's copy (a department was saved or deleted here); others reload on their
    next check."""
    with _Departments.lock:
        _Departments.rows = _Departments.checked_at = None
        _Departments.picked = {}


def _active_departments() -> tuple[DepartmentRow, ...]:
    rows = _Departments.rows
    if rows is not None and not refcache.recheck_due(_Departments.checked_at):
        return rows
    # A city has tens to a few hundred departments: reading them all is the check.
    every = list(Department.objects.order_by("path").values_list("code", "name", "path", "id", "is_active"))
    fresh = tuple(DepartmentRow(*r[:4]) for r in every if r[4])
    with _Departments.lock:
        if fresh != _Departments.rows:
            _Departments.rows, _Departments.picked = fresh, {}
        _Departments.every = tuple((r[2], r[3]) for r in every)
        _Departments.checked_at = refcache.now()
    return fresh


def _picked(user) -> tuple[list[DepartmentRow], list[tuple[str, str]]]:
    rows = _active_departments()
    key = None if sees_whole_city(user) else tuple(sorted(set(department_paths_of(user))))
    hit = _Departments.picked.get(key)
    if hit is None:
        # a person with no department sees none (key ``()``), as ``department_list_for``
        seen = list(rows) if key is None else [r for r in rows if key and r.path.startswith(key)]
        hit = (seen, [(r.code, r.name) for r in seen])
        with _Departments.lock:
            if len(_Departments.picked) >= _PICKED_MAX:
                _Departments.picked = {}
            _Departments.picked[key] = hit
    return hit


def departments_for(user) -> list[DepartmentRow]:
    """The departments ``user`` may see (the rule of ``department_list_for``), active, in tree order.

    For the pickers on every work queue and dispatch form: answered from a copy of the active
    departments kept per process and reloaded every ``CITYOPS_REFERENCE_RECHECK_SECONDS`` (as the
    catalogue), where the query built, compiled and ran for each page cost a tenth of a work queue's
    time. The same list object comes back while nothing changed, so pickers keep their markup."""
    return _picked(user)[0]


def department_choices_for(user) -> list[tuple[str, str]]:
    """(code, name) of ``departments_for``: the same list object while nothing changed."""
    return _picked(user)[1]


def active_department_id(code: str) -> int | None:
    """The key of an active department by its code, from this process's copy (``None`` when there is
    none): a filter by the key lets the planner use the column's statistics, where a join on the
    code left PostgreSQL guessing and walking the whole queue (1M cases: 0.5 s -> 0.1 ms)."""
    for row in _active_departments():
        if row.code == code:
            return row.id
    return None


def department_keys_under(paths: list[str]) -> list[int]:
    """Keys of every department, inactive ones included, at or under any of ``paths`` (tree paths),
    from this process's copy. A filter by keys lets the planner weigh each department by its
    statistics; the join on the path left PostgreSQL walking half the city for a handler's later
    pages (1M cases, page 200: 0.3-0.4 s)."""
    if not paths:
        return []
    _active_departments()
    prefixes = tuple(paths)
    return [key for path, key in _Departments.every if path.startswith(prefixes)]


def department_get_for(user, code: str) -> Department | None:
    return department_list_for(user).filter(code=code).first()


def department_ids_for(user) -> set[int] | None:
    """Ids of visible departments, or ``None`` meaning "all" (so callers skip the filter)."""
    if sees_whole_city(user):
        return None
    return set(department_list_for(user).values_list("id", flat=True))


def people_list_for(user) -> QuerySet:
    """People (users with memberships) ``user`` may see: colleagues in visible departments."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if sees_whole_city(user):
        return User.objects.filter(is_active=True)
    ids = department_ids_for(user) or set()
    return User.objects.filter(is_active=True, memberships__department_id__in=ids).distinct()


def members_with_role(role: Role, department: Department | None = None) -> QuerySet[Membership]:
    qs = Membership.objects.filter(role=role, is_active=True, user__is_active=True)
    if department is not None:
        qs = qs.filter(department=department)
    return qs.select_related("user", "department")
