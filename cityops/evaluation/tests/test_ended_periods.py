"""An ended period read from its days' snapshots counts as its facts count as of its end: the snapshots
count as of now, and the facts that still moved after the end (``CaseFact.settles_at``) are corrected."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import shapely
from django.apps import apps as django_apps
from django.db import connection
from django.db.models import Q

from cityops.evaluation import metrics, selectors, services
from cityops.evaluation.metrics import COUNTERS, Period
from cityops.evaluation.models import CaseFact
from cityops.evaluation.tests.conftest import CHIEF, DISP, HANDLER, INSP, NOW, TZ, at, build

pytestmark = pytest.mark.django_db

WEEK = selectors.Query(start=date(2026, 3, 2), end=date(2026, 3, 3))
TUESDAY = selectors.Query(start=date(2026, 3, 3), end=date(2026, 3, 3))
MONDAY = selectors.Query(start=date(2026, 3, 2), end=date(2026, 3, 2))
# after every event of the history below
MOMENTS = (
    datetime(2026, 3, 5, 18, 0, tzinfo=TZ),
    datetime(2026, 3, 6, 9, 0, tzinfo=TZ),
    NOW + timedelta(days=9),
)


@pytest.fixture
def moving_history(loop_world):
    """The worked example with 东街街道 outlined (the reference data outlines no township), and cases
    whose steps were still open when Tuesday ended: due on Wednesday, acted on on Wednesday and
    Thursday."""
    from cityops.geography.models import Area
    from cityops.geography.services import area_boundary_set

    area_boundary_set(
        area=Area.objects.get(code="140403001"),
        geometry=shapely.box(113.10, 36.18, 113.13, 36.21),
        source="test",
        now=NOW - timedelta(days=400),
    )
    h = build(loop_world)
    h.report("K", at(3, "17:40"), public=True)  # verification due on Wednesday, never verified
    h.report("L", at(3, "17:35")).loop("L", [("file", CHIEF, "17:38"), ("dispatch", DISP, "17:40")], day=3)
    h.loop("L", [("accept", HANDLER, "10:00")], day=4)
    h.loop("L", [("report_done", HANDLER, "09:00"), ("check_pass", INSP, "09:30")], day=5)
    h.act("C", "report_done", HANDLER, at(5, "11:00"))  # late, two days after the period
    h.act("F", "close", CHIEF, at(4, "15:00"))  # its closing was due on Wednesday
    # handled and checked on Tuesday well before its handling was due (Wednesday morning), never
    # closed: it becomes due for closing on Wednesday, by time alone, with every step before it done
    h.report("M", at(3, "16:00")).loop("M", [
        ("file", CHIEF, "16:05"), ("dispatch", DISP, "16:10"), ("accept", HANDLER, "16:15"),
        ("report_done", HANDLER, "16:30"), ("check_pass", INSP, "16:45"),
    ], day=3)  # fmt: skip
    return h


def _nonzero(by_kind: dict) -> dict:
    return {
        k: {c: v for c, v in counters.items() if v}
        for k, counters in by_kind.items()
        if any(counters.values())
    }


def _shape(f: dict) -> dict:
    """The figures with empty counters dropped, positions rounded (means of the same floats)."""
    return {
        "city": _nonzero(f["city"]),
        **{
            name: {code: _nonzero(v) for code, v in f[name].items() if _nonzero(v)}
            for name in ("departments", "area_counters", "township_counters")
        },
        "areas": f["areas"],
        "types": f["types"],
        "hotspots": [(h["grid_code"], h["n"], round(h["lat"], 9), round(h["lon"], 9)) for h in f["hotspots"]],
    }


def _people(data: dict) -> dict:
    return {pk: _nonzero(v) for pk, v in data.items() if _nonzero(v)}


def test_an_ended_period_from_snapshots_counts_as_its_facts_do_at_its_end(moving_history):
    for now in MOMENTS:
        for q in (WEEK, TUESDAY, MONDAY):
            headers, _tracked = services.period_headers(q, now=now)
            assert selectors._covered(headers, q), (q, now)  # every day of it usable
            live = _shape(selectors._ended_live(q, now))
            assert _shape(selectors._ended_from_snapshots(q, now, headers)) == live, (q, now)
            assert live["township_counters"] and live["area_counters"], (q, now)
            people = _people(selectors.counters_by_person(None, q.period(now)))
            assert _people(selectors._people_ended_from_snapshots(q, now, headers)) == people, (q, now)
    # the correction is what makes them agree: cases K, L, C, F and M moved after Tuesday ended
    p = WEEK.period(MOMENTS[0])
    moved = set(CaseFact.objects.filter(pk__in=selectors.settled_after(p)).values_list("number", flat=True))
    assert {moving_history.cases[n] for n in "KLCFM"} <= moved
    assert len(moved) < CaseFact.objects.count()
    live = _shape(selectors._ended_live(WEEK, MOMENTS[0]))
    headers, _tracked = services.period_headers(WEEK, now=MOMENTS[0])
    real = selectors.settled_after
    try:
        selectors.settled_after = lambda p: []
        assert _shape(selectors._ended_from_snapshots(WEEK, MOMENTS[0], headers)) != live
    finally:
        selectors.settled_after = real


def test_the_dashboard_ranking_and_report_of_an_ended_period_read_its_snapshots(moving_history, monkeypatch):
    """Through ``period_headers`` as the pages call it: no pass over all the period's facts while its
    days' snapshots are usable, the same rows as counted over them otherwise."""
    from cityops.evaluation.report import build as report_build

    leader = moving_history.p["demo-leader"]
    now = datetime(2026, 4, 20, 10, 0, tzinfo=TZ)  # March lies outside the trend's 30 days
    calls = []
    real = selectors._groups

    def counted(qs, groups, p, keys, *, scope=None):
        if p.end - p.start > timedelta(days=1):
            calls.append(scope is None)
        return real(qs, groups, p, keys, scope=scope)

    monkeypatch.setattr(selectors, "_groups", counted)
    q = selectors.Query(start=date(2026, 3, 1), end=date(2026, 3, 3))
    services.snapshots_ensure(first=q.start, last=q.end, now=now)  # as the nightly timer leaves them
    shown = {
        "departments": selectors.department_rows(
            leader, q, now=now, headers=services.period_headers(q, now=now)
        ),
        "people": selectors.ROWS["people"](leader, q, now=now, headers=services.period_headers(q, now=now)),
    }
    figures = selectors.dashboard_figures(q, now=now, headers=services.period_headers(q, now=now)[0])
    assert True not in calls and False in calls  # only the few facts that moved, by their keys
    assert figures["city"]
    # with its days out of date, beyond what is computed on the way: counted over all of its facts
    from django.core.cache import cache
    from django.db.models import F

    from cityops.evaluation.models import SnapshotDay

    cache.clear()
    SnapshotDay.objects.filter(day__month=3).update(changes=F("changes") + 1)
    monkeypatch.setattr(services, "ENDED_STALE_MOST", 0)
    calls.clear()
    counted_rows = {
        "departments": selectors.department_rows(
            leader, q, now=now, headers=services.period_headers(q, now=now)
        ),
        "people": selectors.ROWS["people"](leader, q, now=now, headers=services.period_headers(q, now=now)),
    }
    assert True in calls
    assert counted_rows == shown
    assert report_build(leader, "2026-03", now=now)["sections"]


def test_a_fact_settles_at_the_latest_moment_a_counter_compares_with_the_time(moving_history):
    facts = list(CaseFact.objects.values("pk", "settles_at", *metrics.AS_OF_FIELDS))
    assert facts
    for f in facts:
        moments = [f[name] for name in metrics.AS_OF_FIELDS if f[name] is not None]
        assert f["settles_at"] == (max(moments) if moments else None)
    # every counter counts a fact settled before a period's end the same at any later moment
    for q in (WEEK, TUESDAY, MONDAY):
        end = q.period(NOW).end
        settled = [f["pk"] for f in facts if f["settles_at"] is None or f["settles_at"] < end]
        assert settled
        for name, counter in COUNTERS.items():
            seen = [
                set(
                    CaseFact.objects.filter(pk__in=settled)
                    .filter(counter(Period(q.period(NOW).start, end, moment)))
                    .values_list("pk", flat=True)
                )
                for moment in (end, *MOMENTS)
            ]
            assert all(s == seen[0] for s in seen), (q, name)


def test_the_migration_fills_in_each_stored_facts_settling_moment(moving_history):
    from importlib import import_module

    expected = dict(CaseFact.objects.values_list("pk", "settles_at"))
    assert any(expected.values()) and len(expected) > 10
    CaseFact.objects.update(settles_at=None)
    migration = import_module("cityops.evaluation.migrations.0006_fact_settles_at")

    class Editor:  # what the migration uses of a schema editor (SQLite's refuses to open in a test)
        def __init__(self):
            self.connection = connection

        def execute(self, sql):
            with connection.cursor() as cursor:
                cursor.execute(sql)

    migration.backfill(django_apps, Editor())
    assert dict(CaseFact.objects.values_list("pk", "settles_at")) == expected


def test_a_fact_counts_in_no_period_that_starts_after_its_latest_anchor(moving_history):
    """``last_at`` is the latest anchor, and ``metrics.relevant`` may leave out the facts whose
    ``last_at`` is before a period: no counter counts them there, at any moment."""
    facts = list(CaseFact.objects.values("pk", "last_at", *metrics.ANCHORS))
    assert len(facts) > 10
    for f in facts:
        assert f["last_at"] == max(f[a] for a in metrics.ANCHORS if f[a] is not None)
    lasts = sorted({f["last_at"] for f in facts})
    for start in (*lasts[1:], lasts[-1] + timedelta(seconds=1)):  # each fact's last moment, and later
        before = [f["pk"] for f in facts if f["last_at"] < start]
        assert before
        for moment in (start, *MOMENTS):
            p = Period(start, max(start, NOW) + timedelta(days=30), moment)
            for name in selectors.PERIOD_COUNTERS:  # overdue_now is a stock, of no period
                assert not CaseFact.objects.filter(pk__in=before).filter(COUNTERS[name](p)).exists(), (
                    start,
                    name,
                )
            counted = set(CaseFact.objects.filter(metrics.relevant(p)).values_list("pk", flat=True))
            assert not counted & set(before)
            by_anchors = Q()
            for a in metrics.ANCHORS:
                by_anchors |= Q(**{f"{a}__gte": p.start, f"{a}__lt": p.end})
            assert counted == set(CaseFact.objects.filter(by_anchors).values_list("pk", flat=True))


def test_the_migration_fills_in_each_stored_facts_latest_anchor(moving_history):
    from importlib import import_module

    expected = dict(CaseFact.objects.values_list("pk", "last_at"))
    assert len(set(expected.values())) > 5
    CaseFact.objects.update(last_at=None)
    migration = import_module("cityops.evaluation.migrations.0009_fact_last_at")

    class Editor:  # what the migration uses of a schema editor
        def __init__(self):
            self.connection = connection

    migration.fill(django_apps, Editor())
    assert dict(CaseFact.objects.values_list("pk", "last_at")) == expected


def test_a_fact_written_without_its_latest_anchor_counts_and_is_rebuilt(moving_history):
    """A process of the release before ``last_at`` writes facts without it: they still count in every
    period (``metrics.relevant`` keeps them), and the timer's rebuild of stale facts fills it in."""
    p = WEEK.period(NOW)
    whole = selectors._group(CaseFact.objects.all(), None, p, selectors.PERIOD_COUNTERS)
    assert whole["city"]
    right = dict(CaseFact.objects.values_list("pk", "last_at"))
    CaseFact.objects.update(last_at=None)
    assert selectors._group(CaseFact.objects.all(), None, p, selectors.PERIOD_COUNTERS) == whole
    assert services.facts_rebuild(stale_only=True) == len(right)
    assert dict(CaseFact.objects.values_list("pk", "last_at")) == right
    assert services.facts_rebuild(stale_only=True) == 0
    # an update by that release leaves ``last_at`` as it was, before the anchor it writes: the fact
    # drops out of the periods after the old value until the rebuild puts it right
    fact = CaseFact.objects.get(number=moving_history.cases["C"])
    anchors = sorted({t for t in (getattr(fact, a) for a in metrics.ANCHORS) if t is not None})
    assert fact.last_at == anchors[-1] == at(5, "11:00")
    thursday = Period(at(5, "00:00"), at(6, "00:00"), at(6, "00:00"))
    counted = selectors._group(CaseFact.objects.all(), None, thursday, selectors.PERIOD_COUNTERS)
    CaseFact.objects.filter(pk=fact.pk).update(last_at=anchors[-2])
    assert selectors._group(CaseFact.objects.all(), None, thursday, selectors.PERIOD_COUNTERS) != counted
    assert services.facts_rebuild(stale_only=True) == 1
    assert selectors._group(CaseFact.objects.all(), None, thursday, selectors.PERIOD_COUNTERS) == counted


def test_facts_written_by_an_earlier_release_during_an_upgrade_are_rebuilt(moving_history):
    """A process of the release before ``settles_at`` and ``held`` inserts facts without them and
    updates facts leaving them as they were; the timer's rebuild of stale facts puts both right."""
    from django.db import transaction

    numbers = moving_history.cases
    right = dict(CaseFact.objects.values_list("number", "settles_at"))
    held = dict(CaseFact.objects.values_list("number", "held"))
    assert held[numbers["C"]]
    # an insert that names neither column: the database's default holds the case, no settling moment
    fact = CaseFact.objects.get(number=numbers["K"])
    fields = [f for f in CaseFact._meta.concrete_fields if f.name not in ("held", "settles_at")]
    values = [f.get_db_prep_save(getattr(fact, f.attname), connection) for f in fields]
    CaseFact.objects.filter(pk=fact.pk).delete()
    q = connection.ops.quote_name
    sql = (
        f"INSERT INTO {q(CaseFact._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, values)
    assert CaseFact.objects.filter(number=numbers["K"], held=True, settles_at=None).exists()
    # an update that left the settling moment before a later event, and a return left held
    CaseFact.objects.filter(number=numbers["C"]).update(settles_at=datetime(2026, 3, 2, 10, 0, tzinfo=TZ))
    moving_history.report("R", at(3, "09:00")).loop(
        "R", [("file", CHIEF, "09:05"), ("dispatch", DISP, "09:10"), ("return", HANDLER, "09:30")], day=3
    )
    right[numbers["R"]] = CaseFact.objects.get(number=numbers["R"]).settles_at
    assert not CaseFact.objects.get(number=numbers["R"]).held
    CaseFact.objects.filter(number=numbers["R"]).update(held=True)
    assert services.facts_rebuild(stale_only=True) == 3
    assert dict(CaseFact.objects.values_list("number", "settles_at")) == right
    assert not CaseFact.objects.get(number=numbers["R"]).held
    assert services.facts_rebuild(stale_only=True) == 0


def test_snapshots_computed_after_the_requests_own_moment_give_the_same_figures(history):
    """The timer or another worker (another clock) may compute a day's snapshots later than a request's
    ``now``: the figures, kept until a fact of the period changes, must not depend on it."""
    history.report("K", at(3, "17:40"), public=True)  # its verification is due on Wednesday at 09:10
    t0, t1 = at(4, "09:00"), at(4, "09:30")
    for day in (date(2026, 3, 2), date(2026, 3, 3)):
        services.snapshot_compute(day=day, now=t1)
    headers, tracked = services.period_headers(WEEK, now=t0)
    assert selectors._covered(headers, WEEK)
    shown = selectors.city_figures(WEEK, now=t0, headers=(headers, tracked))
    assert _shape(shown) == _shape(selectors._ended_live(WEEK, t0))
    people = selectors.people_figures(WEEK, now=t0, headers=(headers, tracked))
    assert _people(people) == _people(selectors.counters_by_person(None, WEEK.period(t0)))
    later = at(6, "12:00")
    again = selectors.city_figures(WEEK, now=later, headers=services.period_headers(WEEK, now=later))
    assert _shape(again) == _shape(selectors._ended_live(WEEK, later))


def test_an_ended_period_with_many_days_to_compute_is_counted_over_its_facts(moving_history, monkeypatch):
    """Computing a day costs more than counting a day of the period live: past a third of its days
    (or 31) to compute first, an ended period is counted over its facts."""
    from django.db.models import F

    from cityops.evaluation.models import SnapshotDay

    later = datetime(2026, 4, 20, 10, 0, tzinfo=TZ)  # March lies outside the trend's 30 days
    q = selectors.Query(start=date(2026, 3, 1), end=date(2026, 3, 9))
    services.snapshots_ensure(first=q.start, last=q.end, now=later)
    SnapshotDay.objects.filter(day__in=[date(2026, 3, 2), date(2026, 3, 3)]).update(changes=F("changes") + 1)
    headers, _tracked = services.period_headers(q, now=later)  # 2 of 9 days: computed
    assert selectors._covered(headers, q)
    SnapshotDay.objects.filter(day__in=[date(2026, 3, d) for d in (2, 3, 4, 5)]).update(
        changes=F("changes") + 1
    )
    headers, _tracked = services.period_headers(q, now=later)  # 4 of 9: not computed, counted live
    assert not selectors._covered(headers, q)
    assert not any(
        services.snapshot_usable(h) for h in SnapshotDay.objects.filter(day__in=[date(2026, 3, 2)])
    )
