"""The API token check loads the person and their memberships in one query, equal to DRF's lookup
followed by ``memberships_of``; and it refuses what DRF refuses."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cityops.accounts.selectors import token_user
from cityops.organization.models import Department, Membership
from cityops.organization.selectors import memberships_of, roles_of

pytestmark = pytest.mark.django_db


def _reference(key: str):
    """What DRF's TokenAuthentication and the organisation selector give, through the ORM."""
    token = Token.objects.select_related("user").get(key=key)
    user = token.user
    return user, memberships_of(user)


def _same(user, reference_user) -> None:
    fields = [f.attname for f in type(user)._meta.concrete_fields]
    assert [getattr(user, f) for f in fields] == [getattr(reference_user, f) for f in fields]


def test_person_and_memberships_in_one_query_equal_the_orm(demo_people):
    people = demo_people
    # a person with two roles, one membership switched off and one in a closed department
    handler = people["demo-handler"]
    first = memberships_of(handler)[0]
    extra_dept = Department.objects.exclude(pk=first.department_id).order_by("pk").first()
    Membership.objects.create(user=handler, department=extra_dept, role="inspector")
    Membership.objects.create(user=handler, department=extra_dept, role="operator", is_active=False)
    closed = Department.objects.create(code="CLOSED-1", name="撤销部门", is_active=False)
    Membership.objects.create(user=handler, department=closed, role="dispatcher")
    nobody = type(handler).objects.create(username="no-role", name="无角色")
    compared = 0
    for user in [*people.values(), nobody]:
        key = Token.objects.get_or_create(user=user)[0].key
        with CaptureQueriesContext(connection) as ctx:
            fast = token_user(key)
            fast_memberships = memberships_of(fast)
            fast_roles = roles_of(fast)
        assert len(ctx.captured_queries) == 1, [q["sql"] for q in ctx.captured_queries]
        ref_user, ref_memberships = _reference(key)
        _same(fast, ref_user)
        assert fast.auth_token.key == key and fast.auth_token.user_id == ref_user.pk
        assert sorted(m.pk for m in fast_memberships) == sorted(m.pk for m in ref_memberships)
        by_pk = {m.pk: m for m in ref_memberships}
        for m in fast_memberships:
            ref = by_pk[m.pk]
            assert (m.role, m.is_active, m.created_at, m.department_id) == (
                ref.role,
                ref.is_active,
                ref.created_at,
                ref.department_id,
            )
            assert m.department.path == ref.department.path and m.department.name == ref.department.name
        assert fast_roles == roles_of(ref_user)
        compared += 1
    assert compared == len(people) + 1
    assert {m.role for m in memberships_of(token_user(Token.objects.get(user=handler).key))} >= {"inspector"}
    assert memberships_of(token_user(Token.objects.get(user=nobody).key)) == []


def test_unknown_and_inactive_tokens_are_refused(demo_people):
    assert token_user("0" * 40) is None
    user = demo_people["demo-inspector"]
    key = Token.objects.get_or_create(user=user)[0].key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    r = client.get("/api/v1/cases")
    assert r.status_code == 401 and r.json()["detail"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/cases").status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    r = client.get("/api/v1/cases")
    assert r.status_code == 401 and r.json()["detail"]


def test_session_person_comes_with_memberships_in_one_query(demo_people, client):
    from cityops.accounts.backends import ModelBackend
    from cityops.accounts.selectors import user_get

    backend = ModelBackend()
    for user in demo_people.values():
        with CaptureQueriesContext(connection) as ctx:
            fast = backend.get_user(user.pk)
            roles = roles_of(fast)
        assert len(ctx.captured_queries) == 1
        _same(fast, type(user).objects.get(pk=user.pk))
        assert roles == roles_of(type(user).objects.get(pk=user.pk))
    assert user_get(10**9) is None and backend.get_user("x") is None
    # a page as the dispatcher works; once the person is switched off, the session no longer does
    dispatcher = demo_people["demo-dispatcher"]
    client.force_login(dispatcher)
    assert client.get("/cases/").status_code == 200
    dispatcher.is_active = False
    dispatcher.save(update_fields=["is_active"])
    assert backend.get_user(dispatcher.pk) is None
    assert client.get("/cases/").status_code == 302
