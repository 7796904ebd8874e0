"""The demo generator's two writers (services and bulk) keep the same invariants."""

from __future__ import annotations

import io
import itertools
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from cityops.cases import deadlines
from cityops.cases.choices import Action, State
from cityops.cases.models import Case, CaseCounter, CaseEvent
from cityops.core.calendar import load_calendar
from cityops.evaluation.metrics import ANCHORS
from cityops.evaluation.models import CaseFact

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _generate(bulk: bool, count: int = 50, seed: int = 7, batch: int = 16, workers: int | None = None) -> int:
    out = io.StringIO()
    args = ["--cases", str(count), "--days", "60", "--seed", str(seed), "--now", NOW.isoformat()]
    if bulk:
        args += ["--bulk", "--batch", str(batch)]
        if workers is not None:
            args += ["--workers", str(workers)]
    call_command("demo_generate", *args, stdout=out)
    return Case.objects.count()


def _rows() -> dict[str, list[tuple]]:
    """Every generated row, field by field, in id order."""
    return {
        model.__name__: list(model.objects.order_by("pk").values_list())
        for model in (Case, CaseEvent, CaseFact, CaseCounter)
    }


def _forget_cases() -> None:
    from cityops.cases.models import Attachment

    Attachment.objects.all().delete()  # the services path's photos
    CaseFact.objects.all().delete()
    CaseEvent.objects.all().delete()
    Case.objects.all().delete()
    CaseCounter.objects.all().delete()


def _check_invariants() -> Counter:
    calendar = load_calendar()
    cases = list(Case.objects.order_by("pk"))
    assert cases
    events: dict[int, list[CaseEvent]] = {c.pk: [] for c in cases}
    for e in CaseEvent.objects.order_by("case_id", "at", "id"):
        events[e.case_id].append(e)
    states = Counter()
    for case in cases:
        evs = events[case.pk]
        assert evs[0].action == Action.REPORT and evs[0].from_state == ""
        for prev, ev in itertools.pairwise(evs):
            assert ev.from_state == prev.to_state, (case.number, prev.action, ev.action)
            assert ev.at >= prev.at
        assert evs[-1].to_state == case.state, case.number
        actions = {e.action for e in evs}
        paused = actions & {Action.PARK, Action.CHECK_FAIL, Action.REQUEST_EXTENSION}
        if case.dispatched_at and not paused and not case.milestones:
            expected = deadlines.due(case.dispatched_at, case.handle_limit, case.handle_unit, calendar)
            assert case.handle_due_at == expected, case.number
        if case.state in (State.CLOSED, State.REJECTED, State.INVALID):
            assert case.due_at is None
        assert case.updated_at == evs[-1].at
        states[case.state] += 1
    numbers = [c.number for c in cases]
    assert len(numbers) == len(set(numbers))
    for month, last in CaseCounter.objects.values_list("month", "last"):
        in_month = [int(n[8:]) for n in numbers if n.startswith(month)]
        assert max(in_month) == last
    assert CaseFact.objects.count() == len(cases)
    for fact in CaseFact.objects.values("last_at", *ANCHORS):  # the latest anchor (metrics.relevant)
        assert fact["last_at"] == max(t for t in (fact[a] for a in ANCHORS) if t is not None)
    return states


@pytest.mark.django_db(transaction=False)
def test_service_path_keeps_the_invariants(world):
    assert _generate(bulk=False) >= 45
    states = _check_invariants()
    assert states[State.CLOSED] > 0


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("workers", [0, 1])
def test_bulk_path_keeps_the_invariants_and_matches_the_services_facts(world, workers):
    made = _generate(bulk=True, workers=workers)
    assert made >= 45
    states = _check_invariants()
    assert states[State.CLOSED] > 0 and len(states) >= 3
    # The bulk facts are what the evaluation app derives from the stored case and events.
    from cityops.evaluation.services import fact_values

    for fact in CaseFact.objects.select_related("case")[:20]:
        evs = list(
            CaseEvent.objects.filter(case=fact.case)
            .order_by("at", "id")
            .values("action", "at", "from_state", "to_state", "actor_id", "department_id")
        )
        from cityops.evaluation.formulas import EventSnap

        values = fact_values(fact.case, [EventSnap(**e) for e in evs])
        for key, value in values.items():
            assert getattr(fact, key) == value, (fact.number, key)


@pytest.mark.django_db(transaction=False)
def test_generation_is_idempotent_and_deterministic(world):
    _generate(bulk=True, count=30)
    first = list(Case.objects.order_by("number").values_list("number", "type_code", "state", "reported_at"))
    _generate(bulk=True, count=30)  # already there: nothing to do
    assert Case.objects.count() == len(first)


@pytest.mark.django_db(transaction=False)
def test_bulk_rows_do_not_depend_on_processes_or_batch_size(world):
    """One process or a forked helper, small chunks or one: the same rows, id for id."""
    _generate(bulk=True, count=80, workers=0, batch=80)
    single = _rows()
    assert len(single["Case"]) >= 70
    _forget_cases()
    _generate(bulk=True, count=80, workers=1, batch=3)
    assert _rows() == single


@pytest.mark.django_db(transaction=False)
def test_bulk_marks_the_days_it_fills_so_earlier_snapshots_are_not_read(world):
    from cityops.evaluation import services as evaluation
    from cityops.evaluation.models import SnapshotDay

    evaluation.snapshots_update(now=NOW, days=20)  # what demo_setup leaves: snapshots of empty days
    usable_before = [h.day for h in SnapshotDay.objects.all() if evaluation.snapshot_usable(h)]
    assert usable_before  # past days, computed after they ended
    _generate(bulk=True, count=40)
    headers = SnapshotDay.objects.filter(day__in=usable_before)
    assert not [h.day for h in headers if evaluation.snapshot_usable(h)]


def _patrols() -> tuple[dict[str, set[str]], dict[tuple[str, str], set[str]]]:
    """Who reported, verified or checked each case (by number), and each (county, grid cell)."""
    by_case: dict[str, set[str]] = {}
    by_cell: dict[tuple[str, str], set[str]] = {}
    acts = (Action.REPORT, Action.VERIFY, Action.CHECK_PASS, Action.CHECK_FAIL)
    for number, county, grid, who in CaseEvent.objects.filter(
        action__in=acts, actor__isnull=False
    ).values_list("case__number", "case__county_code", "case__grid_code", "actor__username"):
        by_case.setdefault(number, set()).add(who)
        by_cell.setdefault((county, grid), set()).add(who)
    return by_case, by_cell


@pytest.mark.django_db(transaction=False)
def test_both_paths_spread_the_inspectors_work_over_each_countys_patrol(world, monkeypatch):
    """Each county gets a patrol sized by its cases a day; one inspector reports, verifies and checks
    each case, the same on both paths, and each cell has one; the demo inspector is one of the core's.
    (The bulk path places a case at its position to 4 decimals, the services path exactly: a case
    near a cell's edge may lie in the next cell there, so cells are compared on the bulk path.)"""
    from dataclasses import replace

    from cityops.demo import generate
    from cityops.demo.people import demo_password
    from cityops.organization.models import Membership

    rules = replace(generate.patrol_rules(), cases_per_day=0.1)  # a tiny city: many patrols
    monkeypatch.setattr(generate, "patrol_rules", lambda: rules)
    found = []
    for bulk in (False, True):
        _forget_cases()
        assert _generate(bulk=bulk, count=80) >= 70
        found.append(_patrols())
    (services, _cells), (bulk, cells) = found
    assert services == bulk
    assert all(len(who) == 1 for who in bulk.values()) and all(len(who) == 1 for who in cells.values())
    core = {next(iter(who)) for (county, _g), who in cells.items() if county == rules.demo_inspector_county}
    assert "demo-inspector" in core and len(core) >= 3, core
    everyone = {next(iter(who)) for who in cells.values()}
    inspectors = Membership.objects.filter(user__username__in=everyone, role="inspector", is_active=True)
    assert inspectors.values("user").distinct().count() == len(everyone)
    for m in inspectors.select_related("user"):  # each logs in with the demo password
        assert m.user.check_password(demo_password()), m.user.username
    inspector_cases = Case.objects.filter(source="inspector")
    assert inspector_cases.exists() and not inspector_cases.filter(reported_by__isnull=True).exists()
    assert inspector_cases.exclude(reported_by__username="demo-inspector").exists()
