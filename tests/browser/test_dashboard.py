"""The operations dashboard in a browser with the demo city: figures, charts, map and a drill-down.

Elements are found by test ids, never by visible text.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.browser.conftest import screenshot


@pytest.fixture
def demo_city(demo_people):
    for name in ("core_calendar_seed", "geography_load", "catalog_load", "cases_load_dispatch_rules"):
        call_command(name, stdout=io.StringIO())
    call_command("evaluation_load_defaults", stdout=io.StringIO())
    from cityops.demo.cases import generate_cases

    generate_cases(count=60, seed=1, now=timezone.now())
    return demo_people


def login(p, username):
    p.goto(p.base_url + "/login/")
    p.locator("main input[name=username]").fill(username)
    p.locator("main input[name=password]").fill("cityops-demo")
    p.locator("main button[type=submit]").click()
    p.get_by_test_id("role-home").wait_for()


def test_the_leader_opens_the_dashboard_and_drills_into_a_number(page, demo_city):
    login(page, "demo-leader")
    page.get_by_test_id("dashboard-link").click()
    page.get_by_test_id("dashboard").wait_for()
    for key in ("reports", "filed", "dispatched", "overdue_now", "closed_flow"):
        assert re.fullmatch(r"\d+", page.get_by_test_id(f"kpi-value-{key}").inner_text().strip())
    page.locator("#chart-trend canvas").first.wait_for()
    page.locator("#chart-types canvas").first.wait_for()
    page.locator("#map .leaflet-interactive").first.wait_for()
    assert page.get_by_test_id("targets").locator("li").count() == 2

    # the last 30 days: every demo case was reported in them, and closings never move afterwards
    today = timezone.localdate()
    start = (today - timedelta(days=31)).isoformat()
    page.goto(f"{page.base_url}/dashboard/?from={start}&to={today.isoformat()}")
    page.locator("#chart-trend canvas").first.wait_for()
    screenshot(page, "dashboard")
    for key in ("ind-closed", "ind-reports"):
        link = page.get_by_test_id(key)
        shown = int(link.inner_text().strip())
        assert shown > 0
        link.click()
        page.get_by_test_id("drill-table").wait_for()
        assert page.get_by_test_id("drill-row").count() == shown
        assert int(page.get_by_test_id("drill-total").inner_text()) == shown
        page.go_back()
        page.get_by_test_id("dashboard").wait_for()

    # the overdue figure of today against its list (the figure is live: read both at once)
    overdue = int(page.get_by_test_id("kpi-value-overdue_now").inner_text())
    page.get_by_test_id("kpi-overdue_now").click()
    page.get_by_test_id("drill-table").wait_for()
    assert abs(page.get_by_test_id("drill-row").count() - overdue) <= 1
