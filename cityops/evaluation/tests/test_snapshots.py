"""Snapshots stand in for the facts: brought forward in time, marked stale by fact writes, equal to live."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import shapely
from django.contrib.auth import get_user_model

from cityops.evaluation import formulas, selectors, services
from cityops.evaluation.metrics import Period
from cityops.evaluation.models import CaseFact, ObjectKind, SnapshotDay
from cityops.evaluation.tests.conftest import CHIEF, DISP, HANDLER, NOW, TZ, at, build

pytestmark = pytest.mark.django_db
MARCH = selectors.Query(start=date(2026, 3, 1), end=date(2026, 3, 31))


@pytest.fixture
def town_history(loop_world):
    """The history with 潞州区's 东街街道 outlined around the point every case is reported at (the
    reference data outlines no township), so that each case lies in a township."""
    from cityops.geography.models import Area
    from cityops.geography.services import area_boundary_set

    area_boundary_set(
        area=Area.objects.get(code="140403001"),
        geometry=shapely.box(113.10, 36.18, 113.13, 36.21),
        source="test",
        now=NOW - timedelta(days=400),
    )
    return build(loop_world)


def _nonzero(by_kind: dict) -> dict:
    return {
        k: {c: v for c, v in counters.items() if v}
        for k, counters in by_kind.items()
        if any(counters.values())
    }


def _live(group: str | None, p: Period) -> dict:
    """Counters of ``p`` at exactly ``p.as_of`` (no clamping to the end of the period)."""
    return selectors._group(CaseFact.objects.all(), group, p, selectors.PERIOD_COUNTERS)


def test_flips_bring_a_day_forward_to_any_later_moment(town_history):
    history = town_history
    # open steps with due times ahead of the moment the snapshot is taken
    history.report("K", at(3, "17:40"), public=True)
    history.report("L", at(3, "17:35")).loop(
        "L", [("file", CHIEF, "17:38"), ("dispatch", DISP, "17:40")], day=3
    )
    # a check the reporting inspector answers for, still open: a person's counters move with time too
    history.report("M", at(3, "17:20")).loop(
        "M",
        [
            ("file", CHIEF, "17:22"),
            ("dispatch", DISP, "17:24"),
            ("accept", HANDLER, "17:26"),
            ("report_done", HANDLER, "17:30"),
        ],
        day=3,
    )
    taken = at(3, "17:45")
    people = {}
    for day in (date(2026, 3, 2), date(2026, 3, 3)):
        start, end = services.day_bounds(day)
        figures = selectors.day_figures(Period(start, end, taken), flips=True)
        people[day] = selectors.day_people(Period(start, end, taken))
        assert day == date(2026, 3, 2) or figures["city"]["city"]["_flips"]  # Tuesday has open steps
        for later in (
            taken,
            at(3, "17:59"),
            at(3, "18:01"),
            at(4, "09:00"),
            at(4, "12:00"),
            NOW + timedelta(days=3),
        ):
            p, t = Period(start, end, later), selectors.micros(later)
            city = figures["city"]["city"]
            brought = selectors._brought_to(selectors._kinds(city), city.get("_flips", {}), t)
            assert _nonzero(brought) == _nonzero(_live(None, p).get("city", {})), (day, later)
            live = _live("department__code", p)
            for code, obj in figures["department"].items():
                brought = selectors._brought_to(selectors._kinds(obj), obj.get("_flips", {}), t)
                assert _nonzero(brought) == _nonzero(live.get(code, {})), (day, later, code)
            # each county's townships, kept under it
            live = _live("township_code", p)
            towns = {
                code: town
                for obj in figures["area"].values()
                for code, town in obj.get("_townships", {}).items()
            }
            assert set(towns) == {code for code in live if code} == {"140403001"}, (day, later)
            for code, town in towns.items():
                brought = selectors._brought_to(selectors._kinds(town), town.get("_flips", {}), t)
                assert _nonzero(brought) == _nonzero(live[code]), (day, later, code)
            # every person's, in the day's one row of people (the assigned inspector answers for an
            # open verification: it has flips)
            assert day == date(2026, 3, 2) or any("_flips" in obj for obj in people[day].values())
            live = {pk: _nonzero(v) for pk, v in selectors.counters_by_person(None, p).items() if _nonzero(v)}
            brought = {
                int(pk): _nonzero(selectors._brought_to(selectors._kinds(obj), obj.get("_flips", {}), t))
                for pk, obj in people[day].items()
            }
            assert {pk: v for pk, v in brought.items() if v} == live, (day, later)


def _expected(q: selectors.Query, now) -> dict:
    p = q.period(now)
    city = selectors.counters_by_object(None, ObjectKind.CITY, start=p.start, end=p.end, now=now)
    depts = selectors.counters_by_object(None, ObjectKind.DEPARTMENT, start=p.start, end=p.end, now=now)
    return {
        "city": _nonzero(city.get("city", {})),
        "departments": {code: _nonzero(v) for code, v in depts.items() if _nonzero(v)},
        "areas": {k: n for k, n in selectors.area_counts(None, p).items() if n},
        "types": [(t["type_code"], t["kind"], t["n"], t["name"]) for t in selectors.top_types(None, p)],
        "hotspots": [
            (h["grid_code"], h["n"], round(h["lat"], 9), round(h["lon"], 9))
            for h in selectors.hotspots(None, p)
        ],
    }


def _shown(q: selectors.Query, now) -> dict:
    headers, tracked = services.period_headers(q, now=now)
    f = selectors.dashboard_figures(q, now=now, headers=headers, period_headers=tracked)
    return {
        "city": _nonzero(f["city"]),
        "departments": {code: _nonzero(v) for code, v in f["departments"].items() if _nonzero(v)},
        "areas": f["areas"],
        "types": [(t["type_code"], t["kind"], t["n"], t["name"]) for t in f["types"]],
        "hotspots": [(h["grid_code"], h["n"], round(h["lat"], 9), round(h["lon"], 9)) for h in f["hotspots"]],
        "trend": f["trend"],
    }


def test_the_dashboard_figures_from_snapshots_equal_the_live_computation(history):
    moments = (NOW, NOW + timedelta(hours=2), NOW + timedelta(days=1), NOW + timedelta(days=9))
    for now in moments:
        live_trend = selectors.trend(None, now=now)  # before any snapshot of the new days exists
        shown = _shown(MARCH, now)
        assert {k: v for k, v in shown.items() if k != "trend"} == _expected(MARCH, now), now
        assert shown["trend"] == live_trend, now
    # every past day of the period was read from a usable snapshot
    assert all(services.snapshot_usable(h) for h in SnapshotDay.objects.filter(day__lt=date(2026, 3, 13)))
    # a period that has ended is evaluated as of its end, and cached until one of its facts changes
    week = selectors.Query(start=date(2026, 3, 2), end=date(2026, 3, 3))
    now = NOW + timedelta(days=9)
    assert {k: v for k, v in _shown(week, now).items() if k != "trend"} == _expected(week, now)
    history.act("C", "report_done", "demo-handler", now)
    assert {k: v for k, v in _shown(week, now).items() if k != "trend"} == _expected(week, now)


def test_the_department_ranking_read_from_snapshots_equals_the_live_one(town_history, monkeypatch):
    """The evaluation API ranks departments, counties and townships for a whole-city viewer from the
    dashboard's figures (snapshots of past days, today live, an ended period cached): the same rows as
    counted live."""
    history = town_history
    leader = history.p["demo-leader"]
    week = selectors.Query(start=date(2026, 3, 2), end=date(2026, 3, 3))
    components = selectors.Query(start=date(2026, 3, 1), end=date(2026, 3, 31), kind="component")
    townships = selectors.Query(start=date(2026, 3, 1), end=date(2026, 3, 31), level="township")
    town_week = selectors.Query(start=date(2026, 3, 2), end=date(2026, 3, 3), level="township")
    compared, towns = 0, 0
    for now in (NOW, NOW + timedelta(hours=2), NOW + timedelta(days=1), NOW + timedelta(days=9)):
        for q in (MARCH, week, components, townships, town_week):
            headers = services.period_headers(q, now=now)
            for rows in (selectors.department_rows, selectors.area_rows, selectors.people_rows):
                fast = rows(leader, q, now=now, headers=headers)
                assert fast == rows(leader, q, now=now), (rows, now, q)
                compared += sum(1 for r in fast if r["indicators"]["reports"])
                if rows is selectors.area_rows and q.level == "township":
                    assert all(r["level"] == "township" for r in fast)
                    towns += sum(1 for r in fast if r["indicators"]["reports"])
    assert compared >= 20 and towns >= 4
    # a period that reaches today is not counted over its facts at all (the past from snapshots)
    headers = services.period_headers(MARCH, now=NOW + timedelta(days=1))

    def counted_live(*args, **kwargs):
        raise AssertionError("counted over the period's facts")

    with monkeypatch.context() as m:
        m.setattr(selectors, "counters_by_object", counted_live)
        assert selectors.department_rows(leader, MARCH, now=NOW + timedelta(days=1), headers=headers)
        assert selectors.area_rows(leader, MARCH, now=NOW + timedelta(days=1), headers=headers)
        later = NOW + timedelta(days=1)
        assert selectors.area_rows(
            leader, townships, now=later, headers=services.period_headers(townships, now=later)
        )
    # people: only today is counted over the facts, the month's past days come from their snapshots
    periods = []
    by_person = selectors.counters_by_person

    def counted(user, p):
        periods.append(p.end - p.start)
        return by_person(user, p)

    with monkeypatch.context() as m:
        m.setattr(selectors, "counters_by_person", counted)
        later = NOW + timedelta(days=1)
        people = selectors.people_rows(
            leader, MARCH, now=later, headers=services.period_headers(MARCH, now=later)
        )
    assert periods == [timedelta(days=1)]
    assert any(r["indicators"]["reports"] for r in people)


def test_a_handlers_departments_are_the_citys_less_the_cases_they_no_longer_see(history, monkeypatch):
    """A department's figures count the cases of its last dispatch: a case returned by the handler (or
    reopened) waits for the next dispatch held by no department, out of the handler's sight, and stays
    in the department's figures. A handler's rows are the city's figures less those cases, equal to
    counting what they see; an inspector, who sees the cases they reported, is counted live."""
    from cityops.organization.models import Department, Membership

    # R is dispatched to the handler's department and returned: no department holds it now
    history.report("R", at(3, "09:00")).loop(
        "R", [("file", CHIEF, "09:05"), ("dispatch", DISP, "09:10"), ("return", HANDLER, "09:30")], day=3
    )
    # A (closed on Monday) is reopened: it waits for a dispatch too
    history.act("A", "reopen", CHIEF, at(3, "10:00"), reason="the ads are back")
    inspector = history.p["demo-inspector"]
    handler_dept = Department.objects.get(code="LZ-CGJ")
    Membership.objects.get_or_create(user=inspector, department=handler_dept, role="inspector")
    people = {
        name: get_user_model().objects.get(username=name) for name in ("demo-inspector", "demo-handler")
    }
    unheld = set(CaseFact.objects.filter(held=False).values_list("number", flat=True))
    assert unheld == {history.cases["R"], history.cases["A"]}
    assert selectors.reads_city_figures(people["demo-handler"], "departments")
    assert not selectors.reads_city_figures(people["demo-inspector"], "departments")
    assert not selectors.reads_city_figures(people["demo-handler"], "areas")

    def from_city(*args, **kwargs):
        raise AssertionError("read from the whole city's figures")

    def counted_live(*args, **kwargs):
        raise AssertionError("counted over the period's facts")

    week = selectors.Query(start=date(2026, 3, 2), end=date(2026, 3, 3))
    for now in (NOW, NOW + timedelta(hours=3), NOW + timedelta(days=9)):
        for q in (MARCH, week, selectors.Query(start=date(2026, 3, 1), end=date(2026, 3, 31), kind="matter")):
            headers = services.period_headers(q, now=now)
            live = {name: selectors.department_rows(person, q, now=now) for name, person in people.items()}
            with monkeypatch.context() as m:
                m.setattr(selectors, "counters_by_object", counted_live)
                fast = selectors.department_rows(people["demo-handler"], q, now=now, headers=headers)
            assert fast == live["demo-handler"], (q, now)
            with monkeypatch.context() as m:
                m.setattr(selectors, "city_figures", from_city)
                seen = selectors.department_rows(people["demo-inspector"], q, now=now, headers=headers)
            assert seen == live["demo-inspector"], (q, now)
            city = {r["code"]: r for r in selectors.department_rows(None, q, now=now)}
            seen = {r["code"]: r for r in seen}
            assert seen["LZ-CGJ"]["indicators"]["reports"] < city["LZ-CGJ"]["indicators"]["reports"]
            # the returned and the reopened case count in the department's figures, not in the handler's
            handled = {r["code"]: r for r in fast}
            assert handled["LZ-CGJ"]["indicators"]["dispatched"] < city["LZ-CGJ"]["indicators"]["dispatched"]
    # dispatched again, R is held again and the handler's rows count it
    history.act("R", "dispatch", DISP, NOW + timedelta(days=9, hours=1), department=handler_dept.code)
    assert set(CaseFact.objects.filter(held=False).values_list("number", flat=True)) == {history.cases["A"]}
    later = NOW + timedelta(days=9, hours=2)
    headers = services.period_headers(MARCH, now=later)
    live = selectors.department_rows(people["demo-handler"], MARCH, now=later)
    assert selectors.department_rows(people["demo-handler"], MARCH, now=later, headers=headers) == live


def test_the_migration_marks_the_facts_no_department_of_theirs_holds(history):
    from importlib import import_module

    from django.apps import apps as django_apps
    from django.db import connection

    history.report("R", at(3, "09:00")).loop(
        "R", [("file", CHIEF, "09:05"), ("dispatch", DISP, "09:10"), ("return", HANDLER, "09:30")], day=3
    )
    expected = dict(CaseFact.objects.values_list("pk", "held"))
    assert sorted(expected.values()) == [False] + [True] * (len(expected) - 1)
    CaseFact.objects.update(held=True)
    migration = import_module("cityops.evaluation.migrations.0007_fact_held")

    class Editor:  # what the migration uses of a schema editor (SQLite's refuses to open in a test)
        def __init__(self):
            self.connection = connection

        def execute(self, sql, params=()):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

    migration.backfill(django_apps, Editor())
    assert dict(CaseFact.objects.values_list("pk", "held")) == expected


def test_a_day_computed_with_an_older_shape_is_computed_again(town_history):
    """Snapshots computed before they kept the townships lack them: their days are not usable, and the
    next read computes them again, with the townships."""
    later = NOW + timedelta(days=1)
    headers, _tracked = services.period_headers(MARCH, now=later)
    assert headers and all(services.snapshot_usable(h) for h in headers)
    SnapshotDay.objects.update(shape=services.SNAPSHOT_SHAPE - 1)
    assert not any(services.snapshot_usable(h) for h in SnapshotDay.objects.all())
    headers, _tracked = services.period_headers(MARCH, now=later)
    assert all(h.shape == services.SNAPSHOT_SHAPE and services.snapshot_usable(h) for h in headers)
    towns = selectors.city_figures(MARCH, now=later, headers=(headers, None))["township_counters"]
    assert towns and any(c.get("reports") for by_kind in towns.values() for c in by_kind.values())


def test_a_day_computed_again_by_an_earlier_release_is_not_taken_for_the_current_shape(history):
    """During an upgrade a process of the earlier release may compute a day again: it writes the rows
    it knows (no townships, no people) and sets ``computed_at``, leaving the shape as it was. The day is
    then no longer usable here, and is computed again with everything; the people's row is one of the
    city's, so that the earlier release's reader (the city row by its code, any other kind a department
    or an area) never meets it."""
    from django.db.models import F

    from cityops.evaluation.models import PEOPLE, MetricSnapshot

    later = NOW + timedelta(days=1)
    services.period_headers(MARCH, now=later)
    day = date(2026, 3, 2)
    kinds = set(MetricSnapshot.objects.filter(day=day).values_list("object_kind", "object_code").distinct())
    assert ("city", PEOPLE) in kinds and {k for k, _c in kinds} == {"city", "department", "area"}
    MetricSnapshot.objects.filter(day=day, object_code=PEOPLE).delete()
    SnapshotDay.objects.filter(day=day).update(
        computed_changes=F("changes"), computed_at=later + timedelta(hours=1)
    )
    assert not services.snapshot_usable(SnapshotDay.objects.get(day=day))
    services.period_headers(MARCH, now=later + timedelta(hours=2))
    assert services.snapshot_usable(SnapshotDay.objects.get(day=day))
    assert MetricSnapshot.objects.filter(day=day, object_code=PEOPLE).exists()


def test_a_fact_write_makes_the_days_it_touches_stale(history):
    services.snapshots_update(now=NOW, days=3)
    headers = {h.day: h for h in SnapshotDay.objects.all()}
    assert all(services.snapshot_usable(headers[date(2026, 3, d)]) for d in (1, 2, 3))
    later = NOW + timedelta(hours=1)
    history.act("C", "report_done", "demo-handler", later)  # dispatched Monday: Monday's handling cohort
    headers = {h.day: h for h in SnapshotDay.objects.all()}
    assert not services.snapshot_usable(headers[date(2026, 3, 2)])
    assert services.snapshot_usable(headers[date(2026, 3, 1)]) and services.snapshot_usable(
        headers[date(2026, 3, 3)]
    )
    shown = _shown(MARCH, later)
    assert {k: v for k, v in shown.items() if k != "trend"} == _expected(MARCH, later)
    assert services.snapshot_usable(SnapshotDay.objects.get(day=date(2026, 3, 2)))  # computed once, stored
    # a rebuild of the facts touches their days too
    services.snapshots_update(now=later, days=3)
    services.facts_rebuild()
    assert not any(
        services.snapshot_usable(h) for h in SnapshotDay.objects.filter(day__in=[date(2026, 3, 2)])
    )


def test_a_report_in_the_last_minute_of_its_day_touches_the_day(history, monkeypatch):
    """A report's transaction may commit after midnight, once a reader has taken its day's header to
    count the day as ended: in the day's last minute a report touches its day (making its header
    where there is none), as one of a past day does. Earlier it touches nothing (every report of the
    day would update the one row)."""
    day = date(2026, 3, 5)
    services.snapshot_days_track(first=day, last=day)

    def changes() -> int:
        return SnapshotDay.objects.get(day=day).changes

    before = changes()
    for moment, touched in (
        (datetime(2026, 3, 5, 12, 0, tzinfo=TZ), 0),
        (datetime(2026, 3, 5, 23, 58, 50, tzinfo=TZ), 0),
        (datetime(2026, 3, 5, 23, 59, 30, tzinfo=TZ), 1),
    ):
        monkeypatch.setattr(services.timezone, "now", lambda moment=moment: moment)
        history.report(f"N{moment.minute}", moment)
        assert changes() == before + touched, moment
        before = changes()
    # a day without a header yet (no snapshot taken of it so far) gets one, already touched: a reader
    # after midnight would make it with no change counted, and keep what it counted under it
    late = datetime(2026, 3, 6, 23, 59, 30, tzinfo=TZ)
    monkeypatch.setattr(services.timezone, "now", lambda: late)
    assert not SnapshotDay.objects.filter(day=late.date()).exists()
    history.report("N6", late)
    assert SnapshotDay.objects.get(day=late.date()).changes == 1
    # and so does an action in its day's last minute (``fact_refresh`` touches the days it moves)
    later = late + timedelta(days=1)
    monkeypatch.setattr(services.timezone, "now", lambda: later)
    history.act("N6", "file", CHIEF, later)
    assert SnapshotDay.objects.get(day=later.date()).changes == 1


def test_the_grouped_query_compiled_once_matches_the_orm(history):
    for start, end, as_of in (
        (date(2026, 3, 1), date(2026, 3, 31), NOW),
        (date(2026, 3, 2), date(2026, 3, 2), at(2, "15:00")),
        (date(2026, 3, 3), date(2026, 3, 4), NOW + timedelta(days=1)),
    ):
        p = Period(services.day_bounds(start)[0], services.day_bounds(end)[1], as_of)
        city = selectors.day_figures(p)["city"]["city"]
        assert _nonzero(selectors._kinds(city)) == _nonzero(_live(None, p).get("city", {}))
        assert formulas.add_counters(*selectors._kinds(city).values())


def test_a_fact_carries_its_cases_type_name_and_position(history):
    """The top types and the hotspots read them from the facts: no join with the cases at any view."""
    from importlib import import_module

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cityops.cases.models import Case

    history.report("T", at(3, "10:00"), type_code="06010").loop("T", [("file", CHIEF, "10:05")], day=3)
    case = Case.objects.get(number=history.cases["T"])
    fact = CaseFact.objects.get(pk=case.pk)
    assert (fact.type_name, fact.lat, fact.lon) == (case.type_name, case.lat, case.lon)
    assert fact.type_name  # the catalogue's name, not empty

    start, end = services.day_bounds(date(2026, 3, 3))
    with CaptureQueriesContext(connection) as queries:
        figures = selectors.day_figures(Period(start, end, NOW))
    assert not [q["sql"] for q in queries if "cases_case" in q["sql"]]
    types = {(code, name) for code, _kind, _n, name in figures["city"]["city"]["_types"]}
    assert ("06010", case.type_name) in types
    n, lat, lon = figures["city"]["city"]["_grids"][case.grid_code]
    assert n >= 1 and lat == pytest.approx(case.lat * n) and lon == pytest.approx(case.lon * n)

    # the migration that added them fills the facts written before it from their cases
    CaseFact.objects.update(type_name=None, lat=None, lon=None)
    backfill = import_module("cityops.evaluation.migrations.0004_fact_type_and_place").BACKFILL
    with connection.cursor() as cursor:
        cursor.execute(backfill[connection.vendor])
    fact.refresh_from_db()
    assert (fact.type_name, fact.lat, fact.lon) == (case.type_name, case.lat, case.lon)
    assert not CaseFact.objects.filter(lat__isnull=True).exists()
    if connection.vendor == "sqlite":  # the statement for SQLite works on PostgreSQL too
        CaseFact.objects.update(type_name=None, lat=None, lon=None)
        with connection.cursor() as cursor:
            cursor.execute(backfill["sqlite"])
        fact.refresh_from_db()
        assert (fact.type_name, fact.lat, fact.lon) == (case.type_name, case.lat, case.lon)

    # a fact left without them (written by a worker of the old code) is rebuilt as stale, and until
    # then the dashboard shows its type without a name and leaves it out of the hotspots
    CaseFact.objects.filter(pk=case.pk).update(type_name=None, lat=None, lon=None)
    figures = selectors.day_figures(Period(start, end, NOW))
    assert figures["city"]["city"]["_grids"].get(case.grid_code, [0])[0] == n - 1
    assert ("06010", "") in {(code, name) for code, _kind, _n, name in figures["city"]["city"]["_types"]}
    assert services.facts_rebuild(stale_only=True) >= 1
    fact.refresh_from_db()
    assert (fact.type_name, fact.lat, fact.lon) == (case.type_name, case.lat, case.lon)


def test_a_long_period_is_merged_a_month_at_a_time_and_only_a_changed_month_again(history, monkeypatch):
    """The months' merges add up to the whole span's; after a fact of one day changes, only that day's
    month is read from its snapshots again."""
    feb = datetime(2026, 2, 26, 9, 0, tzinfo=TZ)
    history.report("P", feb).loop("P", [("file", CHIEF, feb + timedelta(minutes=5))])
    # public, on Tuesday evening: its verification is due on Wednesday morning (a flip)
    history.report("Q", datetime(2026, 3, 31, 17, 50, tzinfo=TZ), public=True)
    now = datetime(2026, 4, 1, 8, 0, tzinfo=TZ)
    span = (date(2026, 2, 20), date(2026, 3, 31))
    headers = services.snapshots_ensure(first=span[0], last=span[1], now=now)
    assert selectors._month_spans(span) == [
        (date(2026, 2, 20), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 31)),
    ]
    assert selectors._month_spans((date(2025, 12, 31), date(2026, 1, 1))) == [
        (date(2025, 12, 31), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 1)),
    ]

    def comparable(out: dict) -> dict:
        grids = {c: (n, round(lat, 9), round(lon, 9)) for c, (n, lat, lon) in out["grids"].items()}
        return {**out, "grids": grids, "trend": None, "stock": None}

    whole = selectors._past_from_snapshots(span, None)
    assert (
        whole["city"] and whole["departments"] and whole["types"] and whole["grids"] and whole["city_flips"]
    )
    assert comparable(selectors._merged(span, headers)) == comparable(whole)
    assert selectors._people_merged(span, headers) == selectors._people_from_snapshots(span)
    read = []
    real = selectors._past_from_snapshots

    def reading(days, trend_days):
        read.append(days)
        return real(days, trend_days)

    monkeypatch.setattr(selectors, "_past_from_snapshots", reading)
    selectors._merged(span, headers)
    assert read == []  # every month from the cache
    history.act("P", "dispatch", DISP, now, department="LZ-CGJ")  # February's day changes
    headers = services.snapshots_ensure(first=span[0], last=span[1], now=now)
    read.clear()
    after = selectors._merged(span, headers)
    assert read == [(date(2026, 2, 20), date(2026, 2, 28))]
    assert comparable(after) == comparable(real(span, None)) != comparable(whole)
