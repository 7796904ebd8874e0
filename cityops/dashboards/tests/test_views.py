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
