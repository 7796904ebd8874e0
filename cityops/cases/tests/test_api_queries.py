"""Query counts of the API's list endpoints do not grow with the page size."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityops.cases.services import ActionInput, ReportInput, case_act, case_report
from cityops.cases.tests.conftest import LZ_LAT, LZ_LON, png_bytes, upload

MAX_LIST = 6  # token + memberships + count + page (+ savepoints on some backends)


def _make(people, n: int) -> list[str]:
    now = timezone.now()
    numbers = []
    for i in range(n):
        data = ReportInput(
            source="inspector", type_code="07001", description=f"小广告 {i}", lat=LZ_LAT, lon=LZ_LON
        )
        number = case_report(data=data, actor=people["demo-inspector"], now=now).number
        if i % 2:  # half of them held by a department, so rows differ in what they load
            for who, action in (("demo-chief", "file"), ("demo-dispatcher", "dispatch")):
                case_act(number=number, data=ActionInput(action=action), actor=people[who], now=now)
        numbers.append(number)
    return numbers


def _count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url, params or {})
    assert r.status_code == 200, r.content
    return len(ctx.captured_queries)


def test_case_list_queries_do_not_grow(api_for, loop_world, django_assert_max_num_queries):
    _make(loop_world, 5)
    clients = {u: api_for(u) for u in ("demo-chief", "demo-handler", "demo-inspector")}
    for c in clients.values():  # the process's copies of reference data (departments) loaded once
        c.get("/api/v1/cases")
    small = {u: _count(c, "/api/v1/cases", {"page_size": 100}) for u, c in clients.items()}
    _make(loop_world, 45)
    for username, client in clients.items():
        r = client.get("/api/v1/cases", {"page_size": 100})
        assert r.json()["count"] >= 24  # the handler sees the 24 dispatched to LZ-CGJ, the others all 50
        big = _count(client, "/api/v1/cases", {"page_size": 100})
        assert big == small[username], (username, small[username], big)
        with django_assert_max_num_queries(MAX_LIST):
            client.get("/api/v1/cases", {"page_size": 50, "queue": "all"})


def test_events_queries_do_not_grow(api_for, loop_world):
    now = timezone.now()
    people = loop_world
    data = ReportInput(source="inspector", type_code="07001", description="小广告", lat=LZ_LAT, lon=LZ_LON)
    number = case_report(data=data, actor=people["demo-inspector"], now=now).number
    chief = api_for("demo-chief")
    few = _count(chief, f"/api/v1/cases/{number}/events")
    for action in ("file", "urge"):
        who = people["demo-chief"]
        case_act(number=number, data=ActionInput(action=action, note="n"), actor=who, now=now)
    case_act(number=number, data=ActionInput(action="dispatch"), actor=people["demo-dispatcher"], now=now)
    case_act(number=number, data=ActionInput(action="accept"), actor=people["demo-handler"], now=now)
    photos = [upload(png_bytes(), f"{i}.png", "image/png") for i in range(3)]
    case_act(
        number=number,
        data=ActionInput(action="report_done"),
        actor=people["demo-handler"],
        photos=photos,
        now=now,
    )
    many = _count(chief, f"/api/v1/cases/{number}/events")
    assert many == few
