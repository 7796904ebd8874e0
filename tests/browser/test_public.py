"""A citizen on a phone reports a problem with a photo and a pin, follows it as staff handle it,
rates the result and asks to reopen; the request lands in the duty chief's queue.

Elements are found by test ids and field names, never by visible text (the pages are in Chinese here).
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from cityops.cases import services
from cityops.cases.models import Case
from cityops.cases.selectors import CaseFilters, case_queue_for
from tests.browser.conftest import screenshot

LAT, LON = 36.195, 113.117
PHONE = "13800000001"


@pytest.fixture
def world(demo_people):
    for name in ("core_calendar_seed", "geography_load", "catalog_load", "cases_load_dispatch_rules"):
        call_command(name, stdout=io.StringIO(), stderr=io.StringIO())
    from django.core.cache import cache

    cache.clear()  # rate-limit counters
    return demo_people


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def jpeg_file(tmp_path, name, color):
    path = tmp_path / name
    Image.new("RGB", (320, 240), color).save(path, "JPEG")
    return str(path)


def handle(people, number, tmp_path):
    """Staff take the case through the loop (through the services, as the staff pages would)."""

    def act(who, action, **kw):
        services.case_act(
            number=number,
            data=services.ActionInput(action=action, **{k: v for k, v in kw.items() if k != "photos"}),
            actor=people[who],
            photos=kw.get("photos", ()),
            now=timezone.now(),
        )

    from django.core.files.uploadedfile import SimpleUploadedFile

    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 160, 60)).save(buf, "JPEG")
    done = SimpleUploadedFile("done.jpg", buf.getvalue(), content_type="image/jpeg")
    act("demo-inspector", "verify")
    act("demo-chief", "file")
    act("demo-dispatcher", "dispatch")
    act("demo-handler", "accept")
    services.case_reply(
        number=number, text="已安排环卫工人今天清理", actor=people["demo-handler"], now=timezone.now()
    )
    act("demo-handler", "report_done", note="已清理", photos=[done])
    act("demo-inspector", "check_pass")
    act("demo-chief", "close")


def steps(p):
    return [el.get_attribute("data-action") for el in p.locator("[data-testid=step]").all()]


@pytest.mark.django_db(transaction=True)
def test_citizen_reports_follows_rates_and_asks_to_reopen(phone, world, tmp_path):
    phone.context.grant_permissions(["geolocation"], origin=phone.base_url)
    phone.context.set_geolocation({"latitude": LAT, "longitude": LON, "accuracy": 8})

    # The front door leads citizens to the report form.
    phone.goto(phone.base_url + "/login/")
    phone.get_by_test_id("login-report-link").click()
    phone.get_by_test_id("public-report-form").wait_for()
    # the form is in the page before its scripts have run: typing earlier raced htmx binding the field
    phone.wait_for_load_state("load")

    # Type picker: a common word narrows the grouped list; pick 暴露垃圾.
    phone.get_by_test_id("type-search").fill("垃圾")
    phone.wait_for_function(
        "() => !document.querySelector('#id_type optgroup') &&"
        " document.querySelector('#id_type option[value=\"matter:06010\"]')"
    )
    phone.get_by_test_id("type-select").select_option("matter:06010")

    # The pin: the GPS button places it and fills the position; nearby open cases are asked for.
    phone.get_by_test_id("gps-button").click()
    phone.wait_for_function("() => document.getElementById('id_lat').value !== ''")
    assert abs(float(phone.get_by_test_id("report-lat").input_value()) - LAT) < 1e-4
    assert abs(float(phone.get_by_test_id("report-lon").input_value()) - LON) < 1e-4
    phone.get_by_test_id("pin").wait_for()
    phone.get_by_test_id("nearby-none").wait_for()

    phone.get_by_test_id("report-photos").set_input_files(jpeg_file(tmp_path, "rubbish.jpg", (200, 60, 60)))
    phone.get_by_test_id("report-description").fill("路边有一堆暴露垃圾，好几天没人清理")
    phone.get_by_test_id("report-phone").fill(PHONE)
    screenshot(phone, "public-01-report-phone")
    phone.get_by_test_id("report-submit").click()

    # A case number and a private tracking link.
    phone.get_by_test_id("thanks").wait_for()
    number = phone.get_by_test_id("case-number").inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{6}", number)
    link = phone.get_by_test_id("tracking-link").get_attribute("href")
    case = Case.objects.get(number=number)
    assert link.endswith(f"/track/{number}/?t={case.tracking_token}")
    assert PHONE not in phone.content()
    screenshot(phone, "public-02-thanks-phone")

    # Before staff act: received, with the photo.
    phone.goto(link)
    phone.get_by_test_id("timeline").wait_for()
    assert steps(phone) == ["report"]
    assert phone.get_by_test_id("case-state").get_attribute("data-state") == "received"
    assert phone.get_by_test_id("my-phone").inner_text().strip() == "138****0001"

    # Staff handle it; the citizen reloads and sees each step, the reply and before/after photos.
    handle(world, number, tmp_path)
    phone.reload()
    phone.get_by_test_id("timeline").wait_for()
    assert steps(phone) == [
        "report",
        "verify",
        "file",
        "dispatch",
        "accept",
        "reply",
        "report_done",
        "check_pass",
        "close",
    ]
    assert phone.get_by_test_id("case-state").get_attribute("data-state") == "closed"
    assert "已安排环卫工人今天清理" in phone.get_by_test_id("step-note").first.inner_text()
    for testid in ("photos-before", "photos-after"):
        img = phone.locator(f"[data-testid={testid}] img").first
        img.scroll_into_view_if_needed()
        phone.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    screenshot(phone, "public-03-closed-phone")

    # Not satisfied, with a comment; then ask to reopen.
    phone.get_by_test_id("rating-unsatisfied").check()
    phone.get_by_test_id("rating-comment").fill("垃圾只清了一半")
    phone.get_by_test_id("rate-submit").click()
    phone.get_by_test_id("my-rating").wait_for()
    assert phone.get_by_test_id("my-rating").get_attribute("data-rating") == "unsatisfied"
    assert not phone.get_by_test_id("rate-form").count()
    phone.get_by_test_id("reopen-reason").fill("还有一半垃圾在原地")
    phone.get_by_test_id("reopen-submit").click()
    phone.get_by_test_id("reopen-asked").wait_for()
    assert not phone.get_by_test_id("reopen-form").count()
    screenshot(phone, "public-04-rated-reopen-phone")

    case.refresh_from_db()
    assert (case.rating, case.rating_comment) == ("unsatisfied", "垃圾只清了一半")
    queue = case_queue_for(world["demo-chief"], CaseFilters(queue="reopen_requests"), now=timezone.now())
    assert number in [c.number for c in queue]
    assert PHONE not in phone.content()

    # The public map shows it as a marker (no tile server) and in the list; the figures count it.
    phone.get_by_test_id("nav-map").click()
    phone.locator(f"[data-testid=map-row][data-number='{number}']").wait_for()
    phone.wait_for_function("() => document.getElementById('public-map').dataset.count === '1'")
    assert phone.locator("#public-map path.leaflet-interactive").count() >= 1
    screenshot(phone, "public-05-map-phone")
    phone.get_by_test_id("nav-figures").click()
    row = phone.locator("[data-testid=figures-row][data-department='LZ-CGJ']")
    assert row.get_by_test_id("fig-cases").inner_text().strip() == "1"
    assert row.get_by_test_id("fig-satisfaction").inner_text().startswith("0%")
    screenshot(phone, "public-06-figures-phone")
    assert PHONE not in phone.content()


@pytest.mark.django_db(transaction=True)
def test_report_without_the_map_and_me_too(phone, world, tmp_path):
    """The keyboard path: type the address and pick the district; a second citizen says "me too"."""
    phone.goto(phone.base_url + "/report/")
    phone.get_by_test_id("type-select").select_option("matter:06010")
    phone.get_by_test_id("no-map-summary").click()
    phone.get_by_test_id("report-address").fill("英雄中路与太行街交叉口")
    phone.get_by_test_id("report-district").select_option("140403")
    phone.get_by_test_id("report-description").fill("路口有垃圾")
    phone.get_by_test_id("report-anonymous").check()
    phone.get_by_test_id("report-submit").click()
    phone.get_by_test_id("thanks").wait_for()
    number = phone.get_by_test_id("case-number").inner_text().strip()
    case = Case.objects.get(number=number)
    assert case.county_code == "140403" and case.reporter_phone == ""

    # Someone else at the same spot types its coordinates and finds it among the nearby cases.
    phone.goto(phone.base_url + "/report/")
    phone.get_by_test_id("type-select").select_option("matter:06010")
    phone.get_by_test_id("no-map-summary").click()
    phone.get_by_test_id("report-lat").fill(f"{case.lat:.6f}")
    phone.get_by_test_id("report-lon").fill(f"{case.lon:.6f}")
    phone.get_by_test_id("report-lon").dispatch_event("change")
    item = phone.locator(f"[data-testid=nearby-case][data-number='{number}']")
    item.wait_for()
    screenshot(phone, "public-07-nearby-phone")
    phone.get_by_test_id("report-phone").fill("13900000002")
    item.get_by_test_id("metoo").click()
    phone.get_by_test_id("followers").wait_for()
    case.refresh_from_db()
    assert case.followers == 1
