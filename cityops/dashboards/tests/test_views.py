"""The dashboard and the drill-down list through the Django test client."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityops.evaluation.services import defaults_load

pytestmark = pytest.mark.django_db


def _rows(html: str) -> int:
    return html.count('data-testid="drill-row"')


def test_the_leader_sees_the_dashboard_and_every_number_drills_down(history, client, loop_world):
    defaults_load()
    client.force_login(loop_world["demo-leader"])
    r = client.get("/dashboard/", {"from": "2026-03-01", "to": "2026-03-31"})
    assert r.status_code == 200
    html = r.content.decode()
    for key in ("reports", "filed", "dispatched", "overdue_now", "closed_flow"):
        assert f'data-testid="kpi-{key}"' in html
    assert 'id="dashboard-data"' in html and 'data-testid="target-toilet-supplies"' in html
    # the overdue list offers urge forms posting to the staff action endpoint
    assert re.search(r'action="/cases/[0-9-]+/act/"', html) and 'value="urge"' in html
    # each indicator cell links to its drill-down; follow them all and compare with the number shown
    links = re.findall(r'<a href="(/dashboard/cases\?[^"]+)" data-testid="ind-([a-z_]+)">([^<]+)</a>', html)
    assert len(links) == 21
    for url, key, shown in links:
        page = client.get(url.replace("&amp;", "&"))
        assert page.status_code == 200
        total = int(re.search(r'data-testid="drill-total" hidden>(\d+)<', page.content.decode()).group(1))
        assert _rows(page.content.decode()) == total
        if shown.strip().isdigit():
            assert total == int(shown), key


def test_urging_from_the_dashboard(history, client, loop_world):
    client.force_login(loop_world["demo-leader"])
    number = history.cases["C"]
    r = client.post(f"/cases/{number}/act/", {"action": "urge", "note": "请立即处置"})
    assert r.status_code == 302
    from cityops.cases.models import Case

    assert Case.objects.get(number=number).urge_count == 1


def test_only_city_wide_roles_see_the_dashboard(client, loop_world):
    client.force_login(loop_world["demo-handler"])
    assert client.get("/dashboard/").status_code == 404
    r = client.get("/dashboard/cases", {"indicator": "reports", "object": "city"})
    assert r.status_code == 200  # the drill-down itself follows the case visibility
    assert client.get("/dashboard/cases", {"indicator": "nope"}).status_code == 404
    assert client.get("/dashboard/cases", {"indicator": "reports", "object": "planet:x"}).status_code == 404


def test_dashboard_queries_do_not_grow_with_the_cases(history, client, loop_world):
    client.force_login(loop_world["demo-chief"])
    today = timezone.localdate()
    params = {"from": today.replace(day=1).isoformat(), "to": today.isoformat()}
    client.get("/dashboard/", params)  # warms the per-process reference caches
    with CaptureQueriesContext(connection) as small:
        assert client.get("/dashboard/", params).status_code == 200
    history.report("Z1", timezone.now()).report("Z2", timezone.now())
    with CaptureQueriesContext(connection) as big:
        assert client.get("/dashboard/", params).status_code == 200
    assert len(big.captured_queries) == len(small.captured_queries) <= 40


def _frozen(monkeypatch, moment):
    monkeypatch.setattr(timezone, "now", lambda: moment)


def _drill_totals_match(client, html: str) -> int:
    links = re.findall(
        r'<a href="(/dashboard/cases\?[^"]+)" data-testid="ind-([a-z_]+(?:-[a-z]+)?)">([^<]+)</a>', html
    )
    checked = 0
    for url, key, shown in links:
        page = client.get(url.replace("&amp;", "&"))
        total = int(re.search(r'data-testid="drill-total" hidden>(\d+)<', page.content.decode()).group(1))
        if shown.strip().isdigit():
            assert total == int(shown), key
            checked += 1
    return checked


def test_numbers_read_from_snapshots_drill_down_to_their_cases(history, client, loop_world, monkeypatch):
    from datetime import timedelta

    from cityops.evaluation.models import SnapshotDay
    from cityops.evaluation.services import snapshot_usable
    from cityops.evaluation.tests.conftest import NOW

    _frozen(monkeypatch, NOW + timedelta(days=1))  # Thursday: Sunday to Wednesday are past days
    client.force_login(loop_world["demo-leader"])
    html = client.get("/dashboard/").content.decode()
    assert all(snapshot_usable(h) for h in SnapshotDay.objects.filter(day__month=3))
    assert _drill_totals_match(client, html) >= 20  # counts of both kinds and apart
    # the ranking and the areas read the snapshots too: their numbers are those of the drill-down
    for url, shown in re.findall(r'<td><a href="(/dashboard/cases\?[^"]+)">(\d+)</a></td>', html):
        page = client.get(url.replace("&amp;", "&")).content.decode()
        assert int(re.search(r'data-testid="drill-total" hidden>(\d+)<', page).group(1)) == int(shown)


def test_dashboard_queries_do_not_grow_with_days_or_cases(history, client, loop_world, monkeypatch):
    from datetime import timedelta

    from cityops.evaluation.tests.conftest import NOW, at

    _frozen(monkeypatch, NOW + timedelta(days=20))
    client.force_login(loop_world["demo-leader"])

    def queries(params) -> int:
        client.get("/dashboard/", params)  # computes missing snapshots and fills the cache
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/dashboard/", params).status_code == 200
        return len(ctx.captured_queries)

    one_day = queries({"from": "2026-03-24", "to": "2026-03-24"})
    month = queries({})
    history.report("Z1", at(3, "10:00")).report("Z2", at(5, "10:00")).report("Z3", NOW + timedelta(days=20))
    more_cases = queries({})
    assert one_day == month == more_cases <= 30


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-03-01\x00"}, "YYYY-MM-DD"),
        ({"from": "2026-02-30"}, "YYYY-MM-DD"),
        ({"from": "2026-03-31", "to": "2026-03-01"}, "before its start"),
        ({"from": "2026-03-01", "kind": "planet"}, "component or matter"),
    ],
)
def test_a_bad_period_is_named_on_the_page_not_an_error_page(history, client, loop_world, params, message):
    client.force_login(loop_world["demo-leader"])
    client.cookies["django_language"] = "en"
    today = timezone.localdate()
    for url in ("/dashboard/", "/dashboard/cases"):
        r = client.get(url, {**params, "indicator": "reports", "object": "city"})
        assert r.status_code == 400, url
        html = r.content.decode()
        assert message in html and 'class="msg error"' in html
        # the page shows this month to date instead
        assert r.context["query"].start == today.replace(day=1) and r.context["query"].end == today
