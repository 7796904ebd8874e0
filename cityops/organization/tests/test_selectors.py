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


@pytest.mark.parametrize(
    "username",
    ["demo-dispatcher", "demo-leader", "demo-inspector", "demo-handler", "handler-hw", "demo-admin"],
)
def test_the_kept_department_lists_follow_the_visibility_rule(demo_people, username):
    user = demo_people[username]
    expected = list(selectors.department_list_for(user).order_by("path").values_list("code", "name"))
    assert expected
    assert [(d.code, d.name) for d in selectors.departments_for(user)] == expected
    assert selectors.department_choices_for(user) == expected


def test_no_membership_picks_no_department(db, departments):
    user = get_user_model().objects.create_user("nobody", password="x-long-password")
    assert selectors.departments_for(user) == [] and selectors.department_choices_for(user) == []


def test_kept_lists_are_reused_and_a_local_save_shows_at_once(demo_people, departments, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.CITYOPS_REFERENCE_RECHECK_SECONDS = 3600
    user = demo_people["demo-dispatcher"]
    first = selectors.department_choices_for(user)
    with CaptureQueriesContext(connection) as ctx:
        again = selectors.department_choices_for(user)
    assert again is first and len(ctx.captured_queries) == 0  # no query while nothing changed

    dept = departments["LZ-CGJ"]
    dept.name = "潞州区城市管理局（新）"
    dept.save()  # in this process: its copy is dropped at once
    assert ("LZ-CGJ", "潞州区城市管理局（新）") in selectors.department_choices_for(user)
    dept.is_active = False
    dept.save()
    assert "LZ-CGJ" not in dict(selectors.department_choices_for(user))


def test_another_process_edit_shows_after_the_recheck_interval(demo_people, settings):
    user = demo_people["demo-leader"]
    settings.CITYOPS_REFERENCE_RECHECK_SECONDS = 3600
    kept = selectors.department_choices_for(user)
    # another process renames a department (no signal reaches this one)
    Department.objects.filter(code="CGJ-HW").update(name="环卫中心")
    assert selectors.department_choices_for(user) is kept  # until the next check
    settings.CITYOPS_REFERENCE_RECHECK_SECONDS = 0  # the check is due
    assert dict(selectors.department_choices_for(user))["CGJ-HW"] == "环卫中心"


def test_a_saved_department_clears_the_copy_now_and_again_when_committed(
    departments, db, django_capture_on_commit_callbacks
):
    """A handler's reach comes from the process's copy of the tree: another thread may read the tree
    between the save and the commit, so the copy is dropped again once the change is committed."""
    street = Department.objects.get(code="LZ-001")
    assert selectors.department_keys_under([street.path]) == [street.pk]
    with django_capture_on_commit_callbacks() as committed:
        street.name = "东街街道办事处"
        street.save()
        assert selectors._Departments.rows is None  # dropped at once
        selectors._active_departments()  # read again before the commit, as another thread might
        assert selectors._Departments.rows is not None
    assert committed, "no step waits for the commit"
    for step in committed:
        step()
    assert selectors._Departments.rows is None
