"""Every indicator on the hand-worked history of ``conftest.build`` (the working is in docs/evaluation.md)."""

from __future__ import annotations

from datetime import date

import pytest

from cityops.evaluation import report, selectors
from cityops.evaluation.models import CaseFact, ObjectKind
from cityops.evaluation.tests.conftest import NOW

pytestmark = pytest.mark.django_db

MARCH = selectors.Query(start=date(2026, 3, 1), end=date(2026, 3, 31))

# Worked out by hand: see docs/evaluation.md, "Worked example".
EXPECTED_CITY = {
    "reports": 10,
    "valid_report_rate": 77.78,  # 7 filed of 9 decided (H undecided)
    "verify_ontime_rate": 33.33,  # J on time; B late; H overdue and open; G excluded
    "check_ontime_rate": 100.0,  # last checks of A B D F I
    "filed": 7,
    "file_ontime_rate": 85.71,  # C filed late
    "dispatched": 7,
    "dispatch_ontime_rate": 85.71,  # B dispatched late
    "dispatch_accuracy_rate": 85.71,  # D returned
    "to_handle": 6,  # A B C D F I (E parked)
    "handled": 5,
    "handle_ontime_rate": 83.33,  # C overdue and open counts as late
    "rework": 1,  # B
    "rework_rate": 20.0,
    "to_close": 6,  # A B C D F I
    "closed": 4,  # A B D I
    "close_rate": 66.67,
    "close_ontime_rate": 50.0,  # A D I (B's closing was late)
    "overdue_open": 1,  # C
    "avg_handle_hours": 3.78,  # (7200 + 13500 + 1200 + 43800 + 2400) s / 5
    "satisfaction_rate": 50.0,  # A satisfied, B not
}


def city(user=None, q=MARCH):
    p = q.period(NOW)
    data = selectors.counters_by_object(user, ObjectKind.CITY, start=p.start, end=p.end, now=NOW).get(
        "city", {}
    )
    from cityops.evaluation import formulas

    return formulas.indicators(formulas.add_counters(*data.values())), {
        k: formulas.indicators(v) for k, v in data.items()
    }


def test_every_city_indicator_matches_the_hand_worked_answer(history):
    values, by_kind = city()
    assert values == EXPECTED_CITY
    # components and matters apart: I is the only component
    assert by_kind["component"]["reports"] == 1
    assert by_kind["component"]["close_rate"] == 100.0
    assert by_kind["component"]["avg_handle_hours"] == pytest.approx(0.67)
    assert by_kind["matter"]["close_rate"] == 60.0  # A B D of A B C D F
    assert by_kind["matter"]["handle_ontime_rate"] == 80.0  # A B D F of A B C D F


def test_facts_of_the_hand_worked_cases(history):
    facts = {f.number: f for f in CaseFact.objects.all()}
    b = facts[history.cases["B"]]
    assert (
        b.rework_count == 1 and b.handle_done and b.handle_seconds == 13500
    )  # the check wait is not counted
    d = facts[history.cases["D"]]
    assert d.returned and d.dispatch_end < d.handle_start  # first dispatch vs last cycle
    e = facts[history.cases["E"]]
    assert e.parked and e.handle_paused and not e.handle_done
    f = facts[history.cases["F"]]
    assert f.handle_due.isoformat() == "2026-03-03T10:00:00+00:00"  # the approved extension, 18:00 local
    assert f.handle_seconds == 43800  # the pending extension's ten minutes are not counted
    g = facts[history.cases["G"]]
    assert g.valid is False and not g.verify_done and g.file_start is None
    assert facts[history.cases["H"]].valid is None


def test_no_cases_means_no_value_not_zero(history):
    q = selectors.Query(start=date(2026, 2, 1), end=date(2026, 2, 28))
    values, _ = city(q=q)
    assert values["reports"] == 0
    assert values["handle_ontime_rate"] is None
    assert values["avg_handle_hours"] is None
    assert values["satisfaction_rate"] is None


def test_the_period_is_anchored_on_each_steps_start(history):
    # Tuesday only: H reported; B's second report_done is in the handling step that started Monday
    q = selectors.Query(start=date(2026, 3, 3), end=date(2026, 3, 3))
    values, _ = city(q=q)
    assert values["reports"] == 1
    assert values["verify_ontime_rate"] == 0.0  # H, overdue and open
    assert values["handled"] == 0
    assert values["to_handle"] == 0


def test_departments_areas_and_people(history):
    rows = {r["code"]: r for r in selectors.department_rows(None, MARCH, now=NOW)}
    lz = rows["LZ-CGJ"]  # A B C D E F (the component I went to municipal works, CGJ-SZ)
    assert lz["indicators"]["to_handle"] == 5 and lz["indicators"]["handle_ontime_rate"] == 80.0
    assert lz["indicators"]["rework_rate"] == 25.0 and lz["indicators"]["close_rate"] == 60.0
    assert lz["indicators"]["close_ontime_rate"] == 40.0 and lz["indicators"]["satisfaction_rate"] == 50.0
    # department weights 30/20/20/15/15 on 80, 60, 40, 100-25, 50
    assert lz["score"] == 62.75 and lz["grade"] == "C" and lz["rank"] == 2
    sz = rows["CGJ-SZ"]  # I only: no rating, so satisfaction drops out and the rest is renormalised
    assert sz["indicators"]["satisfaction_rate"] is None and sz["score"] == 100.0 and sz["grade"] == "A"
    assert sz["rank"] == 1
    assert rows["CGJ-HW"]["indicators"]["handle_ontime_rate"] is None and rows["CGJ-HW"]["score"] is None
    assert rows["CGJ-HW"]["rank"] is None

    areas = {r["code"]: r for r in selectors.area_rows(None, MARCH, now=NOW)}
    assert areas["140403"]["indicators"]["reports"] == 10
    assert areas["140404"]["indicators"]["reports"] == 0 and areas["140404"]["score"] is None

    people = {r["code"]: r for r in selectors.people_rows(None, MARCH, now=NOW)}
    insp = people["demo-inspector"]["indicators"]
    assert insp["reports"] == 6 and insp["valid_report_rate"] == 100.0
    assert insp["verify_ontime_rate"] == 50.0  # J on time, B late (H is nobody's yet)
    assert insp["check_ontime_rate"] == 100.0
    chief = people["demo-chief"]["indicators"]
    assert chief["filed"] == 7 and chief["file_ontime_rate"] == 85.71
    disp = people["demo-dispatcher"]["indicators"]
    assert disp["dispatched"] == 7 and disp["dispatch_accuracy_rate"] == 85.71
    assert people["demo-dispatcher"]["score"] == 85.71


def test_one_pass_for_departments_and_areas_gives_each_grouping(history, loop_world):
    """The monthly report reads the departments' and the areas' counters in one GROUP BY of
    (department, area, kind): summed up they are exactly the counters of each grouping alone, for the
    whole city and for a handler's view, at each area level."""
    p = MARCH.period(NOW)
    for user in (None, loop_world["demo-handler"]):
        for level in ("county", "township"):
            by_department, by_area = selectors.counters_by_department_and_area(
                user, start=p.start, end=p.end, now=NOW, level=level
            )
            alone = selectors.counters_by_object(user, "department", start=p.start, end=p.end, now=NOW)
            assert by_department == alone and by_department
            areas = selectors.counters_by_object(user, "area", start=p.start, end=p.end, now=NOW, level=level)
            assert by_area == areas and by_area
    month = report.build(None, "2026-03", now=NOW)
    sections = {s["key"]: s["rows"] for s in month["sections"]}
    strip = [{k: v for k, v in r.items() if k != "cells"} for r in sections["areas"]]
    alone_areas = selectors.area_rows(None, MARCH, now=NOW)
    alone_areas.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))
    assert strip == alone_areas
    strip = [{k: v for k, v in r.items() if k != "cells"} for r in sections["departments"]]
    alone = selectors.department_rows(None, MARCH, now=NOW)
    alone.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))
    assert strip == alone


def test_a_handler_sees_only_their_departments_figures(history, loop_world):
    from cityops.cases.services import ActionInput, case_act

    # one case elsewhere: dispatched to the city's sanitation department
    history.report("K", NOW.replace(hour=9))
    history.act("K", "file", "demo-chief", NOW.replace(hour=9, minute=5))
    case_act(
        number=history.cases["K"],
        data=ActionInput(action="dispatch", department="CGJ-HW"),
        actor=loop_world["demo-dispatcher"],
        now=NOW.replace(hour=9, minute=10),
    )
    everyone, _ = city()
    assert everyone["dispatched"] == 8
    mine, _ = city(user=loop_world["demo-handler"])
    assert mine["dispatched"] == 6  # A B C D E F: held by LZ-CGJ; I (CGJ-SZ) and K (CGJ-HW) are not theirs
    assert mine["reports"] == 6
