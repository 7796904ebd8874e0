"""Who sees which departments and people: the one visibility rule for organisation data.

Command-centre roles (operator, duty chief, dispatcher, leader, administrator) see the whole city.
A department handler or an inspector sees their own departments and the departments under them.
A person without an active membership sees nothing (superusers see everything).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

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
