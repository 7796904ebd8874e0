"""Access rules for organisation data, tested as a matrix of role x department."""

import pytest
from django.contrib.auth import get_user_model

from cityops.organization import selectors
from cityops.organization.choices import Role
from cityops.organization.models import Department
from cityops.organization.services import membership_grant, membership_revoke


@pytest.mark.parametrize(
    ("username", "city_wide"),
    [
        ("demo-operator", True),
        ("demo-chief", True),
        ("demo-dispatcher", True),
        ("demo-leader", True),
        ("demo-admin", True),
        ("demo-inspector", False),
        ("demo-handler", False),
        ("handler-hw", False),
    ],
)
def test_who_sees_the_whole_city(demo_people, username, city_wide):
    user = demo_people[username]
    assert selectors.sees_whole_city(user) is city_wide
    visible = set(selectors.department_list_for(user).values_list("code", flat=True))
    if city_wide:
        assert visible == set(Department.objects.filter(is_active=True).values_list("code", flat=True))
        assert selectors.department_ids_for(user) is None


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("demo-handler", {"LZ-CGJ"}),
        ("handler-hw", {"CGJ-HW"}),
        ("demo-inspector", {"CENTRE"}),
        ("handler-dongjie", {"LZ-001"}),
    ],
)
def test_department_staff_see_their_subtree_only(demo_people, username, expected):
    user = demo_people[username]
    assert set(selectors.department_list_for(user).values_list("code", flat=True)) == expected
    assert selectors.department_get_for(user, "ZJJ") is None


def test_a_district_government_sees_its_bureaus_and_street_offices(departments, db):
    user = get_user_model().objects.create_user("lz-gov", password="x-long-password")
    membership_grant(user=user, department=departments["LZ-GOV"], role=Role.HANDLER)
    visible = set(selectors.department_list_for(user).values_list("code", flat=True))
    assert {"LZ-GOV", "LZ-CGJ", "LZ-ZJJ", "LZ-001", "LZ-105"} <= visible
    assert "SD-CGJ" not in visible
    assert "CGJ" not in visible
    assert all(code.startswith("LZ-") for code in visible)


def test_no_membership_sees_nothing(db, departments):
    user = get_user_model().objects.create_user("nobody", password="x-long-password")
    assert selectors.roles_of(user) == set()
    assert selectors.primary_role(user) is None
    assert not selectors.department_list_for(user).exists()
    assert not selectors.people_list_for(user).exists()


def test_revoked_membership_no_longer_counts(demo_people, departments):
    user = demo_people["demo-handler"]
    membership_revoke(user=user, department=departments["LZ-CGJ"], role=Role.HANDLER)
    user = get_user_model().objects.get(pk=user.pk)  # fresh object: memberships are cached per object
    assert selectors.roles_of(user) == set()
    assert not selectors.department_list_for(user).exists()


def test_inactive_department_hides_its_memberships(demo_people, departments):
    Department.objects.filter(code="LZ-CGJ").update(is_active=False)
    user = get_user_model().objects.get(username="demo-handler")
    assert selectors.roles_of(user) == set()


def test_people_visible_to_a_handler_are_colleagues(demo_people):
    names = set(selectors.people_list_for(demo_people["demo-handler"]).values_list("username", flat=True))
    assert names == {"demo-handler"}
    everyone = set(selectors.people_list_for(demo_people["demo-leader"]).values_list("username", flat=True))
    assert {"demo-handler", "handler-hw", "demo-inspector"} <= everyone


@pytest.mark.parametrize(
    ("username", "role"),
    [
        ("demo-inspector", Role.INSPECTOR),
        ("demo-operator", Role.OPERATOR),
        ("demo-chief", Role.DUTY_CHIEF),
        ("demo-dispatcher", Role.DISPATCHER),
        ("demo-handler", Role.HANDLER),
        ("demo-leader", Role.LEADER),
        ("demo-admin", Role.ADMIN),
    ],
)
def test_primary_role(demo_people, username, role):
    assert selectors.primary_role(demo_people[username]) == role


def test_memberships_are_fetched_once_per_user_object(demo_people, django_assert_num_queries):
    user = get_user_model().objects.get(username="demo-handler")
    with django_assert_num_queries(1):
        selectors.roles_of(user)
        selectors.primary_role(user)
        selectors.sees_whole_city(user)
