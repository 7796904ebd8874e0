"""The evaluation API's rankings in pages, in rank order, and narrowed to the areas inside one area."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import shapely
from django.utils import timezone

from cityops.cases.services import ReportInput, case_report
from cityops.evaluation import selectors
from cityops.evaluation.models import CaseFact
from cityops.evaluation.tests.conftest import CHIEF, DISP, HANDLER, INSP, NOW, at, build
from cityops.geography.models import Area, AreaBoundary

pytestmark = pytest.mark.django_db
TOWNSHIP_BOX = shapely.box(113.10, 36.18, 113.13, 36.21)
URL = "/api/v1/evaluation/areas"


def _inside(code: str, *, outside=None) -> tuple[float, float]:
    geometry = shapely.from_geojson(AreaBoundary.objects.get(area__code=code).geometry)
    if outside is not None:
        geometry = geometry.difference(outside)
    point = geometry.representative_point()
    return point.y, point.x


@pytest.fixture
def spread(loop_world):
    """The hand-made history (all at one point of 东街街道), plus cases in other cells of the township
    (outlined here: the reference data outlines no township), elsewhere in 潞州区, and in 上党区."""
    from cityops.geography.services import area_boundary_set

    area_boundary_set(
        area=Area.objects.get(code="140403001"),
        geometry=TOWNSHIP_BOX,
        source="test",
        now=NOW - timedelta(days=400),
    )
    history = build(loop_world)
    lz_lat, lz_lon = _inside("140403", outside=TOWNSHIP_BOX.buffer(0.01))
    sd_lat, sd_lon = _inside("140404")
    places = [(36.185 + 0.005 * i, 113.105 + 0.004 * i) for i in range(5)]
    places += [(lz_lat, lz_lon), (lz_lat, lz_lon), (sd_lat, sd_lon)]
    for i, (lat, lon) in enumerate(places):
        data = ReportInput(
            source="inspector", kind="matter", type_code="07001", description=f"spread {i}", lat=lat, lon=lon
        )
        history.cases[f"S{i}"] = case_report(
            data=data, actor=loop_world["demo-inspector"], now=at(3, "10:00") + timedelta(minutes=i)
        ).number
    # one of them handled on time all the way: its cell ranks first, wherever its code sorts
    history.loop("S2", [
        ("file", CHIEF, "10:10"), ("dispatch", DISP, "10:20"), ("accept", HANDLER, "10:30"),
        ("report_done", HANDLER, "11:00"), ("check_pass", INSP, "11:30"), ("close", CHIEF, "11:40"),
    ], day=3)  # fmt: skip
    return history


def _march(**extra) -> dict:
    return {"from": "2026-03-01", "to": "2026-03-31", **extra}


def _by_rank(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))


def test_grid_cells_come_in_pages_and_every_page_is_a_slice_of_the_whole_ranking(spread, api_for):
    api = api_for("demo-leader")
    q = selectors.Query(start=date(2026, 3, 1), end=date(2026, 3, 31), level="grid")
    whole = selectors.area_rows(None, q, now=timezone.now())
    cells = set(CaseFact.objects.values_list("grid_code", flat=True))
    assert {r["code"] for r in whole} == cells and len(cells) >= 7
    assert _by_rank(whole) != whole  # the ranks do not follow the codes
    assert all(r["by_kind"] is not None for r in whole)

    body = api.get(URL, _march(level="grid")).json()
    assert (body["count"], body["page"], body["page_size"], body["order"]) == (len(cells), 1, 100, "code")
    assert body["results"] == whole  # in code order, each with its indicators per kind of case

    paged = []
    for page in range(1, 5):
        r = api.get(URL, _march(level="grid", order="rank", page=page, page_size=2))
        assert r.status_code == 200 and r.json()["count"] == len(cells)
        paged += r.json()["results"]
        if len(paged) == len(cells):
            break
    assert paged == _by_rank(whole)  # ranks of the whole ranking, unranked cells last
    assert [r["rank"] for r in paged if r["rank"] is not None] == sorted(
        r["rank"] for r in whole if r["rank"] is not None
    )
    assert api.get(URL, _march(level="grid", page=page + 1, page_size=2)).status_code == 404

    # the other rankings keep every row unless a page is asked for
    counties = api.get(URL, _march()).json()
    assert counties["page_size"] is None and counties["count"] == len(counties["results"]) >= 10
    one = api.get(URL, _march(order="rank", page_size=1)).json()["results"]
    assert [r["code"] for r in one] == [_by_rank(counties["results"])[0]["code"]]
    for ranking in ("/api/v1/evaluation/departments", "/api/v1/evaluation/people", URL):
        assert api.get(ranking, _march(page=2)).status_code == 404  # every row was on page 1


def test_areas_within_one_area_are_counted_over_its_facts_only(spread, api_for):
    api = api_for("demo-leader")
    facts = CaseFact.objects.all()
    in_town = {f.grid_code for f in facts if f.township_code == "140403001"}
    in_lz = {f.grid_code for f in facts if f.county_code == "140403"}
    in_sd = {f.grid_code for f in facts if f.county_code == "140404"}
    assert in_town < in_lz and in_sd and not in_sd & in_lz  # the places are where the test says

    whole = {r["code"]: r for r in api.get(URL, _march(level="grid", page_size=1000)).json()["results"]}
    for within, cells in (("140403001", in_town), ("140403", in_lz), ("140404", in_sd)):
        body = api.get(URL, _march(level="grid", within=within, order="rank")).json()
        assert body["within"] == within and body["count"] == len(cells)
        rows = {r["code"]: r for r in body["results"]}
        assert set(rows) == cells
        for code, row in rows.items():  # a cell lies in one area: its figures are the city's
            assert {k: row[k] for k in ("indicators", "by_kind", "score")} == {
                k: whole[code][k] for k in ("indicators", "by_kind", "score")
            }
        ranked = [r["rank"] for r in body["results"] if r["rank"] is not None]
        assert ranked and ranked[0] == 1  # ranked among themselves

    towns = api.get(URL, _march(level="township", within="140403")).json()["results"]
    assert {r["code"] for r in towns} == set(
        Area.objects.filter(parent__code="140403", level="township").values_list("code", flat=True)
    )
    reports = {r["code"]: r["indicators"]["reports"] for r in towns}
    assert reports["140403001"] == sum(1 for f in facts if f.township_code == "140403001") > 0
    every = {r["code"]: r for r in api.get(URL, _march(level="township")).json()["results"]}
    for row in towns:  # the whole city's township figures (the snapshots' for a leader), only fewer
        assert {k: row[k] for k in ("indicators", "by_kind", "score")} == {
            k: every[row["code"]][k] for k in ("indicators", "by_kind", "score")
        }


def test_a_handler_sees_only_their_cases_within_an_area(spread, api_for):
    handler = api_for("demo-handler")
    body = handler.get(URL, _march(level="grid", within="140403", page_size=1000)).json()
    seen = CaseFact.objects.filter(case__in=selectors.case_list_for(spread.p["demo-handler"]))
    expected = {f.grid_code for f in seen if f.county_code == "140403"}
    assert {r["code"] for r in body["results"]} == expected
    total = sum(r["indicators"]["reports"] for r in body["results"])
    assert total == sum(1 for f in seen if f.county_code == "140403" and f.reported_at.month == 3)


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (URL, {"level": "county", "within": "140403"}, "within"),
        (URL, {"level": "township", "within": "140403001"}, "within"),
        (URL, {"level": "grid", "within": "no-such-area"}, "within"),
        ("/api/v1/evaluation/departments", {"within": "140403"}, "within"),
        (URL, {"order": "best"}, "order"),
        (URL, {"page": "0"}, "page"),
        (URL, {"page": "１"}, "page"),
        (URL, {"level": "grid", "page_size": "1001"}, "page_size"),
        (URL, {"page_size": "-5"}, "page_size"),
        (URL, {"page": "9" * 5000}, "page"),
        ("/api/v1/evaluation/people", {"within": "140403"}, "within"),
    ],
)
def test_bad_paging_and_area_parameters_are_refused(spread, api_for, url, params, field):
    r = api_for("demo-leader").get(url, _march(**params))
    assert r.status_code == 400 and field in r.json(), r.content


def test_only_the_areas_are_ranked_within_an_area_and_the_dashboard_does_not_ask(spread, api_for, client):
    r = api_for("demo-leader").get("/api/v1/evaluation/departments", _march(within="140403"))
    assert r.json() == {"within": "只有区域可以在某一区域内排名。"}
    client.force_login(spread.p["demo-leader"])
    assert client.get("/dashboard/", _march(within="140403")).status_code == 200  # not its parameter


def test_an_ended_periods_grid_cells_are_counted_again_only_when_a_fact_of_its_days_changes(
    spread, api_for, monkeypatch
):
    """Thousands of cells are counted over the period's facts (0.9 s at 1M cases on SQLite): for a
    period that has ended, a whole-city viewer's counters are kept until a fact of its days changes,
    as the monthly report's; a period that reaches today, and a narrower view, are counted each time."""
    from django.core.cache import cache

    passes = []
    real = selectors.counters_by_object

    def counted(*args, **kwargs):
        passes.append(kwargs.get("level"))
        return real(*args, **kwargs)

    monkeypatch.setattr(selectors, "counters_by_object", counted)
    leader, handler = api_for("demo-leader"), api_for("demo-handler")

    def cells(api, **extra) -> list[dict]:
        body = api.get(URL, _march(level="grid", page_size=1000, **extra))
        assert body.status_code == 200, body.content
        return body.json()["results"]

    first = cells(leader)
    assert len(passes) == 1 and first
    assert cells(leader) == first and cells(leader, order="rank") == _by_rank(first)
    assert len(passes) == 1  # kept: the same rows, in either order
    # inside one area: counted on its own, then kept on its own
    town = cells(leader, within="140403001")
    assert cells(leader, within="140403001") == town and len(passes) == 2
    # a narrower view is counted on every look
    mine = cells(handler)
    assert cells(handler) == mine and len(passes) == 4
    # S0 (an inspector's report of 3 March, waiting to be filed) is filed on 20 March: its days are
    # touched, and the cells are counted again, as counted afresh
    kept = {k for k in cache._cache if k.startswith(":1:evaluation:")}
    assert len(kept) == 2  # the city's cells and the township's
    spread.act("S0", "file", CHIEF, at(20, "09:00"))
    after = cells(leader)
    assert len(passes) == 5 and after != first
    assert {k for k in cache._cache if k.startswith(":1:evaluation:")} == kept  # replaced, not added to
    # a case reported and filed today, with no day in March, leaves March's cells as they were kept
    data = ReportInput(
        source="inspector", kind="matter", type_code="07001", description="today", lat=36.19, lon=113.11
    )
    spread.cases["T"] = case_report(data=data, actor=spread.p[INSP], now=timezone.now()).number
    spread.act("T", "file", CHIEF, timezone.now())
    assert cells(leader) == after and len(passes) == 5
    cache.clear()
    assert cells(leader) == after and len(passes) == 6
    # a period that reaches today is counted on every look
    today = timezone.localdate().isoformat()
    for _ in range(2):
        assert leader.get(URL, {"level": "grid", "from": today, "to": today}).status_code == 200
    assert len(passes) == 8
