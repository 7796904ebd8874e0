"""The pure formulas on constructed inputs: no database, natural-hour clocks for easy hand arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cityops.evaluation import formulas
from cityops.evaluation.formulas import CaseSnap, EventSnap


def t(h: float) -> datetime:
    return datetime(2026, 3, 2, tzinfo=UTC) + timedelta(hours=h)


STEP = {"verify": 1, "file": 0.5, "dispatch": 0.5, "check": 2, "close": 1}


def derive(case, events, handle_hours=4):
    def work_seconds(start, end, pauses):
        paused = sum(((b or end) - a).total_seconds() for a, b in pauses)
        return (end - start).total_seconds() - paused

    return formulas.derive_fact(
        case,
        events,
        step_due=lambda stage, start: start + timedelta(hours=STEP[stage]),
        handle_due=lambda start: start + timedelta(hours=handle_hours),
        work_seconds=work_seconds,
    )


def snap(**kw) -> CaseSnap:
    base = dict(
        id=1, number="2026-03-000001", kind="matter", type_code="07001", source="public",
        county_code="140403", township_code="", grid_code="g", state="closed", reported_at=t(0),
    )  # fmt: skip
    return CaseSnap(**{**base, **kw})


def ev(action, h, frm="", to="", actor=None, dept=None) -> EventSnap:
    return EventSnap(
        action=action, at=t(h), from_state=frm, to_state=to or frm, actor_id=actor, department_id=dept
    )


FULL = [
    ev("report", 0, "", "to_verify"),
    ev("verify", 0.5, "to_verify", "to_file", actor=1),
    ev("file", 0.75, "to_file", "to_dispatch", actor=2),
    ev("dispatch", 1.5, "to_dispatch", "dispatched", actor=3, dept=10),  # due 1.25: late
    ev("accept", 2, "dispatched", "handling", dept=10),
    ev("park", 2.5, "handling", "parked", dept=10),
    ev("unpark", 4.5, "parked", "handling", dept=10),
    ev("report_done", 5, "handling", "to_check", dept=10),
    ev("check_fail", 6, "to_check", "handling", actor=1, dept=10),
    ev("report_done", 6.5, "handling", "to_check", dept=10),
    ev("check_pass", 7, "to_check", "to_close", actor=4, dept=10),
    ev("close", 9, "to_close", "closed", actor=2, dept=10),  # due 8: late
]


def test_a_full_history_gives_each_steps_times_and_actors():
    f = derive(snap(handle_due_at=t(9), rework_count=1, department_id=10, rating="satisfied"), FULL)
    assert (f["verify_start"], f["verify_due"], f["verify_end"], f["verify_done"]) == (
        t(0),
        t(1),
        t(0.5),
        True,
    )
    assert (f["file_start"], f["file_due"], f["file_end"], f["filer_id"]) == (t(0.5), t(1), t(0.75), 2)
    assert (f["dispatch_start"], f["dispatch_due"], f["dispatch_end"]) == (t(0.75), t(1.25), t(1.5))
    assert f["handle_start"] == t(1.5) and f["handle_end"] == t(6.5) and f["handle_done"]
    assert f["handle_due"] == t(9)  # stored on the case (moved by the pause and the check wait)
    # 5 h from dispatch to the last report_done, minus 2 h parked and 1 h waiting for the failed check
    assert f["handle_seconds"] == 2 * 3600
    assert (f["check_start"], f["check_end"], f["checker_id"]) == (t(6.5), t(7), 4)
    assert (f["close_start"], f["close_due"], f["close_end"], f["closer_id"]) == (t(7), t(8), t(9), 2)
    assert f["valid"] is True and f["department_id"] == 10 and f["rating"] == "satisfied"


def test_a_return_ends_the_cycle_and_the_next_dispatch_starts_a_new_one():
    events = [
        ev("report", 0, "", "to_file"),
        ev("file", 0.2, "to_file", "to_dispatch", actor=2),
        ev("dispatch", 0.4, "to_dispatch", "dispatched", actor=3, dept=10),
        ev("return", 1, "dispatched", "to_dispatch", dept=10),
    ]
    f = derive(snap(state="to_dispatch", return_count=1), events)
    assert f["returned"] and f["dispatch_end"] == t(0.4)
    assert f["handle_end"] == t(1) and not f["handle_done"] and f["department_id"] == 10
    assert f["verify_start"] is None  # an inspector's report needs no verification
    events.append(ev("dispatch", 1.5, "to_dispatch", "dispatched", actor=3, dept=11))
    f = derive(snap(state="dispatched", return_count=1, handle_due_at=t(5.5), department_id=11), events)
    assert f["dispatch_end"] == t(0.4)  # the first dispatch is the dispatch step
    assert (f["handle_start"], f["handle_due"], f["handle_end"], f["department_id"]) == (
        t(1.5),
        t(5.5),
        None,
        11,
    )


def test_open_steps_are_attributed_to_the_assigned_inspector_and_parking_pauses():
    f = derive(snap(state="to_verify", inspector_id=7), [ev("report", 0, "", "to_verify")])
    assert f["verify_end"] is None and f["verifier_id"] == 7 and f["valid"] is None
    parked = [
        ev("report", 0, "", "to_file"),
        ev("file", 0.2, "to_file", "to_dispatch"),
        ev("dispatch", 0.4, "to_dispatch", "dispatched", dept=10),
        ev("park", 1, "dispatched", "parked", dept=10),
    ]
    f = derive(snap(state="parked", paused_at=t(1), handle_due_at=t(4.4)), parked)
    assert f["parked"] and f["handle_paused"] and not f["handle_done"]


def test_rejected_before_verification_is_invalid_and_has_no_filing_step():
    events = [ev("report", 0, "", "to_verify"), ev("reject", 0.3, "to_verify", "rejected", actor=2)]
    f = derive(snap(state="rejected"), events)
    assert f["valid"] is False and f["verify_end"] == t(0.3) and not f["verify_done"]
    assert f["file_start"] is None and f["verifier_id"] is None


def test_a_reopened_case_is_no_longer_closed():
    events = [*FULL, ev("reopen", 10, "closed", "to_dispatch", actor=2)]
    f = derive(snap(state="to_dispatch", closed_at=None, handle_due_at=None), events)
    assert f["close_end"] is None and f["handle_done"]
    assert f["handle_due"] == t(5.5)  # not stored any more: recomputed from the dispatch


def test_rates_have_no_value_without_a_denominator():
    assert formulas.ratio(0, 0) is None
    assert formulas.ratio(0, 3) == 0.0
    assert formulas.ratio(2, 3) == 66.67
    values = formulas.indicators({})
    assert values["reports"] == 0 and values["close_rate"] is None and values["avg_handle_hours"] is None
    values = formulas.indicators({"handle_done": 2, "handle_seconds": 9000, "rework": 1})
    assert values["avg_handle_hours"] == 1.25 and values["rework_rate"] == 50.0


def test_counters_add_up_across_kinds():
    total = formulas.add_counters({"closed": 1, "to_close": 2}, {"closed": 3, "to_close": 3})
    assert formulas.indicators(total)["close_rate"] == 80.0


@pytest.mark.parametrize(
    ("score", "expected"),
    [(100, "A"), (90, "A"), (89.99, "B"), (75, "B"), (74.9, "C"), (60, "C"), (40, "D"), (39.99, "E"),
     (0, "E"), (None, "")],
)  # fmt: skip
def test_grades(score, expected):
    assert formulas.grade(score) == expected


def test_composite_score_renormalises_over_indicators_with_values_and_inverts_lower_is_better():
    weights = {"handle_ontime_rate": 30, "rework_rate": 20, "satisfaction_rate": 50}
    values = {"handle_ontime_rate": 80.0, "rework_rate": 10.0, "satisfaction_rate": None}
    assert formulas.composite_score(values, weights) == (30 * 80 + 20 * 90) / 50
    assert formulas.composite_score({}, weights) is None
    with pytest.raises(ValueError):
        formulas.composite_score({"reports": 3}, {"reports": 1})


def test_rank_shares_ties_and_skips_missing_scores():
    rows = [{"score": 80}, {"score": None}, {"score": 90}, {"score": 80}]
    formulas.rank(rows)
    assert [r["rank"] for r in rows] == [2, None, 1, 2]


def test_change_against_last_week():
    c = formulas.Change(today=12, last_week=8)
    assert (c.delta, c.percent) == (4, 50.0)
    assert formulas.Change(today=3, last_week=None).delta is None
    assert formulas.Change(today=3, last_week=0).percent is None
