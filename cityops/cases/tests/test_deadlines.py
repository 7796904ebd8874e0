"""Due times of the loop over the real 2026 calendar, without a database."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cityops.cases import deadlines
from cityops.core import worktime
from cityops.core.calendar import package_calendar

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def cal():
    return package_calendar()


def at(*args):
    return datetime(*args, tzinfo=SH)


def test_two_working_days_from_friday_evening_use_the_sunday_make_up_day(cal):
    # Dispatched Fri 2026-09-18 17:00; Sun 09-20 is a make-up working day, so day 1 is Sunday.
    due = deadlines.due(at(2026, 9, 18, 17), Decimal(2), "work_day", cal)
    assert due == at(2026, 9, 21, 18)


def test_parking_for_a_day_moves_the_due_time_by_the_working_time_parked(cal):
    due = deadlines.due(at(2026, 9, 18, 17), Decimal(2), "work_day", cal)
    parked, unparked = at(2026, 9, 20, 8, 30), at(2026, 9, 21, 8, 30)  # all of Sunday's working time: 7 h
    parked_working = worktime.working_time_between(parked, unparked, cal)
    assert parked_working == timedelta(hours=7)
    moved = deadlines.resumed_due(due, parked, unparked, "work_day", cal)
    assert moved == at(2026, 9, 22, 18)
    assert worktime.working_time_between(due, moved, cal) == parked_working


def test_natural_units_move_by_wall_clock_time(cal):
    due = deadlines.due(at(2026, 10, 1, 10), Decimal(24), "hour", cal)  # National Day counts for safety cases
    assert due == at(2026, 10, 2, 10)
    assert deadlines.resumed_due(due, at(2026, 10, 1, 12), at(2026, 10, 1, 15), "hour", cal) == at(
        2026, 10, 2, 13
    )


def test_no_limit_no_due(cal):
    assert deadlines.due(at(2026, 9, 18, 17), None, "work_hour", cal) is None


def test_overdue_and_time_left(cal):
    due = at(2026, 9, 21, 18)
    assert not deadlines.is_overdue(due, at(2026, 9, 21, 17, 59))
    assert deadlines.is_overdue(due, at(2026, 9, 21, 18, 1))
    assert not deadlines.is_overdue(due, at(2026, 9, 22, 9), paused=True)
    assert deadlines.time_left(due, at(2026, 9, 21, 16), "work_day", cal) == timedelta(hours=2)
    assert deadlines.time_left(due, at(2026, 9, 22, 9, 30), "work_day", cal) == -timedelta(hours=1)
