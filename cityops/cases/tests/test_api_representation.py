"""The lean case representation (``case_data``) equals the serializers' field-by-field output, and
report intake through the API stays at a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityops.cases.api import CaseDetailSerializer, CaseSerializer
from cityops.cases.models import Case
from cityops.cases.services import ActionInput, ReportInput, case_act, case_report
from cityops.cases.tests.conftest import LZ_LAT, LZ_LON, png_bytes, upload
from cityops.organization.selectors import sees_whole_city

PATHS = {
    "reported": [],
    "filed": [("demo-chief", "file", {})],
    "dispatched": [("demo-chief", "file", {}), ("demo-dispatcher", "dispatch", {})],
    "parked": [
        ("demo-chief", "file", {}),
        ("demo-dispatcher", "dispatch", {}),
        ("demo-handler", "accept", {}),
        ("demo-chief", "park", {"reason": "等待供电"}),
    ],
    "to_check": [
        ("demo-chief", "file", {}),
        ("demo-dispatcher", "dispatch", {}),
        ("demo-handler", "accept", {}),
        ("demo-handler", "report_done", {"note": "已清理"}),
    ],
    "invalid": [("demo-chief", "invalidate", {"reason": "重复"})],
}


def _build(people) -> list[Case]:
    now = timezone.now() - timedelta(hours=3)
    made = []
    for i, (_name, steps) in enumerate(PATHS.items()):
        data = ReportInput(
            source="inspector",
            type_code="07001",
            description=f"小广告 {i}",
            lat=LZ_LAT,
            lon=LZ_LON,
            reporter_name="张三",
            reporter_phone="13800000000",
        )
        photos = [upload(png_bytes(), "a.png", "image/png")] if i % 2 else []
        number = case_report(data=data, actor=people["demo-inspector"], photos=photos, now=now).number
        for who, action, kw in steps:
            now += timedelta(minutes=5)
            shots = [upload(png_bytes(), "b.png", "image/png")] if action == "report_done" else []
            case_act(
                number=number,
                data=ActionInput(action=action, **kw),
                actor=people[who],
                photos=shots,
                now=now,
            )
        made.append(number)
    return list(Case.objects.filter(number__in=made).select_related("department", "merged_into"))


def test_case_data_equals_the_serializers_field_by_field(loop_world):
    cases = _build(loop_world)
    rf = RequestFactory()
    compared = 0
    for username in ("demo-chief", "demo-dispatcher", "demo-handler", "demo-inspector"):
        request = rf.get("/api/v1/cases")
        request.user = loop_world[username]
        context = {"request": request, "whole_city": sees_whole_city(request.user)}
        for case in cases:
            for cls in (CaseSerializer, CaseDetailSerializer):
                s = cls(case, context=context)
                lean, reference = s.data, s.field_by_field(case)
                assert dict(lean) == dict(reference), (username, case.state, cls.__name__)
                assert list(lean) == list(reference)  # the same keys in the same order
                compared += 1
    assert compared == 4 * len(PATHS) * 2
    # the comparison covered what matters: photos, departments, contacts shown and hidden
    chief = CaseDetailSerializer(cases[1], context={"request": request, "whole_city": True}).data
    assert chief["photos"] and chief["reporter_phone"] == "13800000000"
    assert any(c.department_id for c in cases)


def test_intake_through_the_api_takes_a_fixed_number_of_queries(api_for):
    client = api_for("demo-inspector")
    body = {"type": "07001", "description": "小广告", "source": "inspector", "lat": LZ_LAT, "lon": LZ_LON}
    assert client.post("/api/v1/cases", body, format="json").status_code == 201  # warm the caches
    with CaptureQueriesContext(connection) as ctx:
        r = client.post("/api/v1/cases", body, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["number"] == Case.objects.order_by("-pk").first().number
    # token with person and memberships, number, case, event, fact (+ transaction control)
    writes = [
        q["sql"]
        for q in ctx.captured_queries
        if not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))
    ]
    assert len(writes) <= 5, writes
