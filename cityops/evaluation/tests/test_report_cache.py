"""The monthly report: a month that has ended is counted once per change of its facts; for a whole-city
viewer a running month comes from the dashboard's figures (past days from snapshots, today live)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.db.models import F

from cityops.evaluation import report, selectors, services
from cityops.evaluation.models import SnapshotDay
from cityops.evaluation.tests.conftest import HANDLER, INSP, NOW, TZ

APRIL = datetime(2026, 4, 2, 12, 0, tzinfo=TZ)  # March has ended


@pytest.fixture(autouse=True)
def _passes(monkeypatch):
    """Counts the passes over a period's facts (``selectors._groups``: the month's GROUP BY, "all"), the
    computations of an ended period from its days' snapshots ("ended") and their passes over the few
    facts that moved after its end ("moved", read by their keys); not the one-day passes of the
    snapshots computed on the way (``selectors.day_people``)."""
    calls = []
    real = selectors._groups

    def counted(qs, groups, p, keys, *, scope=None):
        if p.end - p.start > timedelta(days=1):
            calls.append("moved" if scope is not None else "all")
        return real(qs, groups, p, keys, scope=scope)

    def settled_after(p):
        calls.append("ended")  # an ended period computed from its days' snapshots
        return real_settled(p)

    real_settled = selectors.settled_after
    monkeypatch.setattr(selectors, "_groups", counted)
    monkeypatch.setattr(selectors, "settled_after", settled_after)
    _passes.calls = calls


def _build(user, now, kind: str = "all") -> tuple[dict, int]:
    """The report of March and the passes of ``kind`` it made."""
    before = len(_passes.calls)
    data = report.build(user, "2026-03", now=now)
    return data, _passes.calls[before:].count(kind)


def _counters(data: dict) -> list:
    return [[(r["code"], r["cells"]) for r in s["rows"]] for s in data["sections"]]


@pytest.mark.django_db
def test_an_ended_month_is_counted_again_only_when_a_fact_of_its_days_changes(
    history, loop_world, monkeypatch
):
    leader, handler = loop_world["demo-leader"], loop_world[HANDLER]
    before = len(_passes.calls)
    # the whole city's from the snapshots of March's days: no pass over all of its facts
    first, ended = _build(leader, APRIL, "ended")
    assert ended == 1
    again, ended = _build(leader, APRIL, "ended")
    assert ended == 0 and _counters(again) == _counters(first)
    assert _passes.calls[before:].count("all") == 0
    # another visibility is counted on its own, and kept on its own
    mine, grouped = _build(handler, APRIL)
    assert grouped == 1 and _counters(mine) != _counters(first)
    assert _build(handler, APRIL)[1] == 0
    rows = {s["key"]: s["rows"] for s in mine["sections"]}
    assert {r["code"] for r in rows["departments"]} == {"LZ-CGJ"}
    # case H (reported on 3 March, never verified) is verified late in March, after the report was
    # counted: the days of its anchors are touched, and the report is counted again with it
    kept = {k for k in cache._cache if k.startswith(":1:evaluation:")}
    history.act("H", "verify", INSP, datetime(2026, 3, 31, 10, 0, tzinfo=TZ))
    after, ended = _build(leader, APRIL, "ended")
    assert ended == 1 and _counters(after) != _counters(first)
    assert {k for k in cache._cache if k.startswith(":1:evaluation:")} == kept  # replaced, none left behind
    cache.clear()
    assert _counters(report.build(leader, "2026-03", now=APRIL)) == _counters(after)
    assert _build(leader, APRIL, "ended")[1] == 0
    # and as the month's facts count when counted over all of them
    cache.clear()
    # more of its days out of date than are computed on the way: counted over its facts
    SnapshotDay.objects.filter(day__month=3).update(changes=F("changes") + 1)
    monkeypatch.setattr(services, "ENDED_STALE_MOST", 0)
    live, grouped = _build(leader, APRIL)
    assert grouped == 1 and _counters(live) == _counters(after)


@pytest.mark.django_db
def test_a_running_month_is_counted_on_every_load_or_read_from_the_snapshots(
    history, loop_world, monkeypatch
):
    handler, leader = loop_world[HANDLER], loop_world["demo-leader"]
    assert _build(handler, NOW)[1] == 1
    assert _build(handler, NOW)[1] == 1
    # the whole city's: no pass over the month's facts, and the same figures as one
    later = NOW.replace(day=13)
    from_snapshots, passes = _build(leader, later)
    assert passes == 0
    monkeypatch.setattr(report, "sees_whole_city", lambda user: False)
    counted, passes = _build(leader, later)
    assert passes == 1 and _counters(counted) == _counters(from_snapshots)
    assert any(r["cells"][0] for s in counted["sections"] for r in s["rows"])  # figures, not zeros


@pytest.mark.django_db
def test_a_role_moved_between_a_persons_departments_is_counted_for_what_they_now_see(history, loop_world):
    """The figures are kept per reach of the case rule (the departments a person handles for, and the
    person when they inspect), not per set of roles and departments: swapping which department holds
    which role changes what they see, and the report with it."""
    from django.contrib.auth import get_user_model

    from cityops.organization.models import Department
    from cityops.organization.services import membership_grant, membership_revoke

    district, street = Department.objects.get(code="LZ-GOV"), Department.objects.get(code="LZ-001")
    User = get_user_model()
    person = User.objects.create_user("probe", password="x")
    membership_grant(user=person, department=district, role="handler")
    membership_grant(user=person, department=street, role="inspector")
    before, grouped = _build(User.objects.get(pk=person.pk), APRIL)
    assert grouped == 1
    membership_revoke(user=person, department=district, role="handler")
    membership_revoke(user=person, department=street, role="inspector")
    membership_grant(user=person, department=street, role="handler")
    membership_grant(user=person, department=district, role="inspector")
    after, grouped = _build(User.objects.get(pk=person.pk), APRIL)
    assert grouped == 1 and _counters(after) != _counters(before)
    cache.clear()
    assert _counters(report.build(User.objects.get(pk=person.pk), "2026-03", now=APRIL)) == _counters(after)
