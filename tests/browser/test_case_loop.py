"""One case through the whole loop in a browser, each step taken by the role that owns it.

An inspector reports on a phone; the duty chief files; the dispatcher dispatches to the proposed
department; the handler accepts and reports done; the inspector's check fails; the handler reworks;
the check passes; the duty chief closes; the case page then shows the whole timeline.

Elements are found by test ids and field names, never by visible text, so the test survives
translation.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from PIL import Image

from tests.browser.conftest import screenshot

LAT, LON = "36.195", "113.117"


@pytest.fixture
def world(demo_people):
    for name in ("core_calendar_seed", "geography_load", "catalog_load", "cases_load_dispatch_rules"):
        call_command(name, stdout=io.StringIO())
    return demo_people


def jpeg(tmp_path, name, color):
    path = tmp_path / name
    Image.new("RGB", (320, 240), color).save(path, "JPEG")
    return str(path)


def login(p, username):
    p.goto(p.base_url + "/login/")
    if p.locator("form[action$='/logout/']").count():
        p.locator("form[action$='/logout/'] button").click()
        p.wait_for_url(re.compile(r"/login/"))
    p.locator("main input[name=username]").fill(username)
    p.locator("main input[name=password]").fill("cityops-demo")
    p.locator("main button[type=submit]").click()
    p.get_by_test_id("role-home").wait_for()


def open_case(p, number):
    p.goto(f"{p.base_url}/cases/{number}/")
    p.get_by_test_id("case-number").wait_for()


def act(p, number, action, *, text="", photo=None, shot=""):
    open_case(p, number)
    form = p.get_by_test_id(f"action-{action}")
    form.wait_for()
    if text:
        form.get_by_test_id("action-text").fill(text)
    if photo:
        form.get_by_test_id("action-photos").set_input_files(photo)
    if shot:
        screenshot(p, shot)
    form.get_by_test_id(f"submit-{action}").click()
    p.wait_for_url(re.compile(rf"/cases/{re.escape(number)}/$"))
    p.locator(".msg.success").wait_for()
    assert not p.locator(".msg.error").count()


def state_of(p):
    return p.get_by_test_id("case-state").get_attribute("data-state")


@pytest.mark.django_db(transaction=True)
def test_one_case_through_the_whole_loop(page, phone, world, tmp_path):
    # The inspector reports on the phone, with a position and a photo.
    login(phone, "demo-inspector")
    assert phone.get_by_test_id("report-link").is_visible()
    assert phone.get_by_test_id("tasks-link").is_visible()
    phone.get_by_test_id("report-link").click()
    phone.get_by_test_id("report-form").wait_for()
    phone.get_by_test_id("report-type").select_option("matter:07001")
    phone.get_by_test_id("report-description").fill("电线杆上贴满小广告")
    phone.get_by_test_id("report-lat").fill(LAT)
    phone.get_by_test_id("report-lon").fill(LON)
    phone.get_by_test_id("report-address").fill("英雄中路与太行街交叉口")
    phone.get_by_test_id("report-photos").set_input_files(jpeg(tmp_path, "report.jpg", (220, 60, 60)))
    screenshot(phone, "loop-01-report-phone")
    phone.get_by_test_id("report-submit").click()
    phone.wait_for_url(re.compile(r"/cases/\d{4}-\d{2}-\d{6}/$"))
    number = phone.get_by_test_id("case-number").inner_text().strip()
    assert state_of(phone) == "to_file"
    assert phone.locator("[data-testid=photos] img").count() == 1
    screenshot(phone, "loop-02-reported-phone")

    # The duty chief finds it in the to-file queue and files it.
    login(page, "demo-chief")
    page.get_by_test_id("queue-link-to_file").click()
    page.locator(f"[data-testid=case-row][data-number='{number}']").wait_for()
    screenshot(page, "loop-03-queue-to-file")
    act(page, number, "file")
    assert state_of(page) == "to_dispatch"

    # The dispatcher sends it to the department the rules propose.
    login(page, "demo-dispatcher")
    open_case(page, number)
    assert page.get_by_test_id("dispatch-department").input_value() == "LZ-CGJ"
    act(page, number, "dispatch", shot="loop-04-dispatch")
    assert state_of(page) == "dispatched"
    assert page.get_by_test_id("deadlines").is_visible()

    # The handler accepts and reports it done with a photo.
    login(page, "demo-handler")
    act(page, number, "accept")
    act(page, number, "report_done", text="已清理", photo=jpeg(tmp_path, "done1.jpg", (60, 160, 60)))
    assert state_of(page) == "to_check"

    # The inspector's check on the phone fails.
    phone.goto(phone.base_url + "/cases/tasks/")
    phone.locator(f"[data-testid=tasks-to_check] [data-testid=task][data-number='{number}']").wait_for()
    screenshot(phone, "loop-05-tasks-phone")
    act(phone, number, "check_fail", text="仍有残留广告", shot="loop-06-check-fail-phone")
    assert state_of(phone) == "handling"

    # The handler reworks and reports done again.
    act(page, number, "report_done", text="已彻底清理", photo=jpeg(tmp_path, "done2.jpg", (60, 60, 200)))
    assert state_of(page) == "to_check"

    # The check passes.
    act(phone, number, "check_pass", text="已清理干净")
    assert state_of(phone) == "to_close"

    # The duty chief closes it.
    login(page, "demo-chief")
    act(page, number, "close")
    assert state_of(page) == "closed"

    actions = [
        e.get_attribute("data-action") for e in page.get_by_test_id("timeline").get_by_test_id("event").all()
    ]
    assert actions == [
        "report",
        "file",
        "dispatch",
        "accept",
        "report_done",
        "check_fail",
        "report_done",
        "check_pass",
        "close",
    ]
    # On a closed case the duty chief may only reopen it.
    forms = page.get_by_test_id("actions").locator("form").all()
    assert [f.get_attribute("data-testid") for f in forms] == ["action-reopen"]
    assert "仍有残留广告" in page.get_by_test_id("timeline").inner_text()
    screenshot(page, "loop-07-closed-timeline")
