"""GET /api/v1/toilets/nearest: ordering, filters, open_at, JSON shape and a constant query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cityops.facilities.services import inspection_submit
from cityops.facilities.tests.conftest import CENTRE, NOW, answers, make_toilet

pytestmark = pytest.mark.django_db
URL = "/api/v1/toilets/nearest"


@pytest.fixture
def toilets(fac_world):
    lat, lon = CENTRE
    made = {
        "near": make_toilet(1, lat=lat + 0.001, lon=lon, opening_hours="06:00-22:00"),
        "mid": make_toilet(
            2, lat=lat + 0.003, lon=lon, opening_hours="24h", accessible=True, third_washroom=True
        ),
        "far": make_toilet(3, lat=lat, lon=lon + 0.01, opening_hours="08:00-18:00", free=False),
        "station": make_toilet(
            4, lat=lat - 0.005, lon=lon, kind="station", accessible=True, services={"water": True}
        ),
    }
    inspection_submit(
        facility=made["near"].code,
        answers=answers(fail=("paper",)),
        actor=fac_world["demo-inspector"],
        now=NOW,
    )
    return made


def get(client, **params):
    response = client.get(URL, {"lat": CENTRE[0], "lon": CENTRE[1], **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_nearest_first_with_the_documented_shape(client, toilets):
    rows = get(client, limit=10)
    assert [r["code"] for r in rows] == [toilets[k].code for k in ("near", "mid", "station", "far")]
    assert [r["distance_m"] for r in rows] == sorted(r["distance_m"] for r in rows)
    assert rows[0]["distance_m"] == pytest.approx(111, abs=2)
    expected = {"code", "name", "is_station", "lat", "lon", "distance_m", "open_now", "opening_hours", "free",
                "accessible", "third_washroom", "last_inspection"}  # fmt: skip
    assert expected <= set(rows[0])
    assert rows[2]["is_station"] is True and rows[0]["is_station"] is False
    last = rows[0]["last_inspection"]
    assert last["at"].startswith("2026-03-10T01:00") and last["compliant"] is False
    assert {i["key"]: i["passed"] for i in last["items"]}["paper"] is False
    assert len(last["items"]) == 5
    assert rows[1]["last_inspection"] is None
    assert get(client, limit=2) == rows[:2]


def test_filters(client, toilets):
    assert {r["code"] for r in get(client, accessible="1")} == {toilets["mid"].code, toilets["station"].code}
    assert toilets["far"].code not in {r["code"] for r in get(client, free="true")}
    assert [r["code"] for r in get(client, third_washroom="1")] == [toilets["mid"].code]


def test_open_at_returns_only_toilets_open_then(client, toilets):
    rows = get(client, open_at="2026-03-10T23:30:00+08:00")
    assert [r["code"] for r in rows] == [toilets["mid"].code]  # only the 24-hour one
    assert rows[0]["open_now"] is True
    rows = get(client, open_at="2026-03-10T07:00")  # naive: Beijing time
    assert toilets["far"].code not in {r["code"] for r in rows}
    assert toilets["near"].code in {r["code"] for r in rows}


def test_bad_parameters_are_400(client, toilets):
    assert client.get(URL).status_code == 400
    assert client.get(URL, {"lat": "x", "lon": "1"}).status_code == 400
    assert client.get(URL, {"lat": 36, "lon": 113, "limit": 0}).status_code == 400
    assert client.get(URL, {"lat": 36, "lon": 113, "open_at": "soon"}).status_code == 400


def test_out_of_service_and_other_kinds_are_not_listed(client, toilets):
    from cityops.facilities.models import Facility

    Facility.objects.filter(pk=toilets["near"].pk).update(is_active=False)
    Facility.objects.filter(pk=toilets["mid"].pk).update(kind="park")
    codes = {r["code"] for r in get(client)}
    assert codes == {toilets["far"].code, toilets["station"].code}


def test_query_count_does_not_grow_with_rows_or_limit(client, fac_world):
    lat, lon = CENTRE
    for i in range(1, 41):
        f = make_toilet(i, lat=lat + (i % 7) * 0.002, lon=lon + (i // 7) * 0.002)
        if i % 2:
            inspection_submit(
                facility=f.code,
                answers=answers(),
                actor=fac_world["demo-inspector"],
                now=NOW + timedelta(hours=i),
            )
    counts = []
    for limit in (1, 5, 20, 40):
        with CaptureQueriesContext(connection) as ctx:
            rows = get(client, limit=limit)
        assert len(rows) == limit
        counts.append(len(ctx.captured_queries))
    assert counts == [counts[0]] * 4
    assert counts[0] <= 3


def test_compiled_finder_equals_the_orm_finder(toilets):
    """The public finder runs a statement compiled once per filter mix; the ORM path (an explicit
    queryset) must give the same toilets, distances, open states and last inspections."""
    from cityops.facilities import selectors

    lat, lon = CENTRE
    compared = 0
    for dlat, dlon in ((0, 0), (0.004, -0.002), (-0.02, 0.03)):
        for flags in ({}, {"accessible": True}, {"free": True}, {"third_washroom": True, "accessible": True}):
            for limit, open_only in ((10, False), (2, False), (1, True)):
                kwargs = dict(
                    lat=lat + dlat, lon=lon + dlon, at=NOW, limit=limit, open_only=open_only, **flags
                )
                with CaptureQueriesContext(connection) as ctx:
                    fast = selectors.nearest_toilets(**kwargs)
                assert len(ctx.captured_queries) <= 2
                ref = selectors.nearest_toilets(**kwargs, queryset=selectors.public_toilets())

                def seen(found):
                    return [
                        (
                            n.facility.pk,
                            round(n.distance_m, 6),
                            n.open_now,
                            n.facility.opening_hours,
                            n.facility.last_inspection.at if n.facility.last_inspection else None,
                            [(r.key, r.passed) for r in n.facility.last_results],
                        )
                        for n in found
                    ]

                assert seen(fast) == seen(ref), kwargs
                # the public finder reads the public fields, every one equal, and defers the rest
                public = [selectors.Facility._meta.get_field(n).attname for n in selectors.PUBLIC_FIELDS]
                for a, b in zip(fast, ref, strict=True):
                    assert [getattr(a.facility, n) for n in public] == [
                        getattr(b.facility, n) for n in public
                    ]
                    assert a.facility.get_deferred_fields() == {
                        f.attname for f in selectors.Facility._meta.concrete_fields
                    } - {*public, "id"}
                    assert not b.facility.get_deferred_fields()
                    if a.facility.last_inspection:
                        assert a.facility.last_inspection.compliant == b.facility.last_inspection.compliant
                        assert a.facility.last_inspection.get_deferred_fields()
                compared += 1
    assert compared == 3 * 4 * 3
    assert any(n.facility.last_inspection for n in selectors.nearest_toilets(lat=lat, lon=lon, at=NOW))
    assert selectors._NEAREST._plans and all(p is not None for p in selectors._NEAREST._plans.values())


def test_last_results_compiled_once_equal_the_orm(toilets):
    """The finder's checklist lines come from a statement compiled once per number of facilities."""
    from cityops.facilities import selectors
    from cityops.facilities.models import InspectionResult

    lat, lon = CENTRE
    found = selectors.nearest_toilets(lat=lat, lon=lon, at=NOW)
    inspected = [n.facility for n in found if n.facility.last_inspection_id]
    assert inspected
    for f in inspected:
        expected = [
            (r.item.key, r.item.name, r.passed)
            for r in InspectionResult.objects.filter(inspection_id=f.last_inspection_id)
            .select_related("item")
            .order_by("item__order", "id")
        ]
        assert expected and [(r.key, r.name, r.passed) for r in f.last_results] == expected
    plans = selectors._LAST_RESULTS._plans
    assert plans and all(p is not None for p in plans.values())


def test_an_inspection_without_lines_still_shows_its_time_and_result(client, toilets, fac_world):
    """The last inspections come with their lines through an outer join: one with no lines (a checklist
    emptied since) is still shown, with no items."""
    from cityops.facilities.models import Inspection

    near = toilets["near"]
    near.refresh_from_db()
    Inspection.objects.get(pk=near.last_inspection_id).results.all().delete()
    rows = {r["code"]: r for r in get(client)}
    last = rows[near.code]["last_inspection"]
    assert last is not None and last["items"] == [] and last["compliant"] is False
    assert last["at"] == Inspection.objects.get(pk=near.last_inspection_id).at.isoformat()
    assert all(rows[t.code]["last_inspection"] is None for t in toilets.values() if t.code != near.code)
