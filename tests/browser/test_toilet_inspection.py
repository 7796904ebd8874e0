"""A toilet inspection on a phone closes the loop through a case.

The inspector opens the nearby list on a phone, opens the toilet, fails 有手纸 with a photo and
submits; the case lands in the managing department's queue with its 2-work-hour deadline; the handler
accepts it and reports it done with a photo; the inspector's next inspection passes every item and
so passes the case's check (the case goes to the duty chief to close).

Elements are found by test ids and field names, never by visible text.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.browser import test_case_loop as loop
from tests.browser.conftest import screenshot

LAT, LON = 36.1952, 113.1168


@pytest.fixture
def world(demo_people):
    for name in (
        "core_calendar_seed",
        "geography_load",
        "catalog_load",
        "cases_load_dispatch_rules",
        "facilities_load_templates",
    ):
        call_command(name, stdout=io.StringIO())
    from cityops.facilities.services import FacilityInput, facility_save

    toilet = facility_save(
        data=FacilityInput(
            code="14040303001000777",
            name="英雄中路公厕",
            address="英雄中路88号",
            lat=LAT + 0.0004,
            lon=LON,
            department="LZ-CGJ",
            opening_hours="24h",
            accessible=True,
        ),
        now=timezone.now(),
    )
    return {"toilet": toilet, **demo_people}


def inspect_on_phone(phone, code, *, fail=(), photo=None, shot=""):
    phone.get_by_test_id("inspect-toilet-link").click()
    phone.get_by_test_id("nearby-form").wait_for()
    phone.wait_for_url(re.compile(r"/facilities/inspect/\?lat="))
    row = phone.locator(f"[data-testid=nearby-facility][data-code='{code}']")
    row.wait_for()
    if shot:
        screenshot(phone, f"{shot}-nearby")
    row.get_by_test_id("nearby-open").click()
    phone.get_by_test_id("inspection-form").wait_for()
    for key in fail:
        phone.get_by_test_id(f"item-{key}-fail").check()
        phone.get_by_test_id(f"item-{key}-note").fill("无手纸")
        if photo:
            phone.get_by_test_id(f"item-{key}-photo").set_input_files(photo)
    if shot:
        screenshot(phone, f"{shot}-form")
    phone.get_by_test_id("inspection-submit").click()
    phone.get_by_test_id("inspection-title").wait_for()
    assert not phone.locator(".msg.error").count()


@pytest.mark.django_db(transaction=True)
def test_failed_paper_goes_to_the_department_and_the_next_inspection_checks_it(page, phone, world, tmp_path):
    code = world["toilet"].code
    phone.context.grant_permissions(["geolocation"])
    phone.context.set_geolocation({"latitude": LAT, "longitude": LON})

    # The inspector fails 有手纸 with a photo.
    loop.login(phone, "demo-inspector")
    inspect_on_phone(
        phone,
        code,
        fail=("paper",),
        photo=loop.jpeg(tmp_path, "paper.jpg", (200, 200, 200)),
        shot="toilet-01",
    )
    failed = phone.locator("[data-testid=result][data-item=paper]")
    assert failed.get_attribute("data-passed") == "0"
    link = failed.get_by_test_id("result-case")
    number = link.get_attribute("data-number")
    assert link.get_attribute("data-state") == "dispatched"
    assert failed.get_by_test_id("result-due").inner_text().strip()
    assert phone.locator("[data-testid=result][data-passed='1']").count() == 4
    screenshot(phone, "toilet-02-result-phone")

    from cityops.cases.models import Case

    case = Case.objects.get(number=number)
    assert case.department.code == "LZ-CGJ" and case.type_code == "03001"
    assert case.handle_limit == 2 and case.handle_unit == "work_hour" and case.handle_due_at

    # The handler of the managing department sees it in the queue with its deadline.
    loop.login(page, "demo-handler")
    page.goto(page.base_url + "/cases/?queue=in_handling")
    row = page.locator(f"[data-testid=case-row][data-number='{number}']")
    row.wait_for()
    due = timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M")
    assert due in row.inner_text()
    screenshot(page, "toilet-03-handler-queue")
    loop.open_case(page, number)
    assert page.get_by_test_id("deadlines").is_visible()
    loop.act(page, number, "accept")
    loop.act(
        page, number, "report_done", text="已补充手纸", photo=loop.jpeg(tmp_path, "done.jpg", (60, 160, 60))
    )
    assert loop.state_of(page) == "to_check"

    # The inspector's next inspection passes every item: that is the case's check.
    phone.goto(phone.base_url + "/")
    phone.get_by_test_id("role-home").wait_for()
    inspect_on_phone(phone, code, shot="toilet-04")
    passed = phone.locator("[data-testid=result][data-item=paper]")
    assert passed.get_attribute("data-passed") == "1"
    assert passed.get_by_test_id("result-case").get_attribute("data-state") == "to_close"
    assert phone.get_by_test_id("inspection-compliant").get_attribute("data-compliant") == "1"
    screenshot(phone, "toilet-05-checked-phone")

    # The duty chief closes it.
    loop.login(page, "demo-chief")
    loop.act(page, number, "close")
    assert loop.state_of(page) == "closed"
    actions = [
        e.get_attribute("data-action") for e in page.get_by_test_id("timeline").get_by_test_id("event").all()
    ]
    assert actions == ["report", "file", "dispatch", "accept", "report_done", "check_pass", "close"]
