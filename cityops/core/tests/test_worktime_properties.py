"""Properties of the working-time arithmetic over 2025-2027 (2027 by the fallback), no database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.core import worktime as wt
from cityops.core.calendar import package_calendar
from cityops.core.worktime import Schedule, Unit

SH = ZoneInfo("Asia/Shanghai")

# Official 2025-2026 from the package, a summer schedule in 2026, Monday-Friday assumed in 2027.
SUMMER = Schedule(((time(8), time(12)), (time(15), time(18, 30))), date(2026, 5, 1), date(2026, 9, 30))
CAL = package_calendar(range(2025, 2027), schedules=(Schedule(wt.DEFAULT_PERIODS), SUMMER))

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(SH)
)
# Whole minutes keep additivity exact; up to 300 working hours (about two months).
work_minutes = st.integers(min_value=0, max_value=300 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def pause_lists(draw):
    """Up to four pauses near the start, some open-ended."""
    start = draw(instants)
    pauses = []
    for _ in range(draw(st.integers(0, 4))):
        begin = start + timedelta(minutes=draw(st.integers(-3 * 1440, 40 * 1440)))
        end = (
            None
            if draw(st.integers(0, 9)) == 0
            else begin + timedelta(minutes=draw(st.integers(0, 20 * 1440)))
        )
        pauses.append((begin, end))
    return start, pauses


common = settings(max_examples=150, deadline=None)


@common
@given(instants, work_minutes, work_minutes)
def test_monotonic_in_the_amount(start, a, b):
    small, large = sorted((a, b))
    assert wt.add(start, small, Unit.WORK_HOUR, CAL) <= wt.add(start, large, Unit.WORK_HOUR, CAL)


@common
@given(pause_lists(), work_minutes, work_minutes)
def test_additive(start_and_pauses, a, b):
    start, pauses = start_and_pauses
    first = wt.add(start, a, Unit.WORK_HOUR, CAL, pauses)
    whole = wt.add(start, a + b, Unit.WORK_HOUR, CAL, pauses)
    if first is None:
        assert whole is None
    else:
        assert wt.add(first, b, Unit.WORK_HOUR, CAL, pauses) == whole


@common
@given(pause_lists(), work_minutes)
def test_never_lands_outside_a_work_period(start_and_pauses, amount):
    start, pauses = start_and_pauses
    result = wt.add(start, amount, Unit.WORK_HOUR, CAL, pauses)
    if result is not None:
        assert result >= start
        assert wt.in_work_period(result, CAL)
        assert result.tzinfo == SH


@common
@given(pause_lists(), work_minutes)
def test_the_working_time_between_start_and_result_is_the_amount(start_and_pauses, amount):
    start, pauses = start_and_pauses
    result = wt.add(start, amount, Unit.WORK_HOUR, CAL, pauses)
    if result is not None:
        assert wt.working_time_between(start, result, CAL, pauses) == amount
        # The earliest such instant: a minute earlier there was less working time.
        if amount:
            assert wt.working_time_between(start, result - timedelta(minutes=1), CAL, pauses) < amount


@common
@given(instants, st.integers(min_value=1, max_value=25))
def test_work_days_end_at_the_close_of_a_working_day(start, days):
    due = wt.add(start, days, Unit.WORK_DAY, CAL)
    due_day = due.date()
    assert CAL.is_working_day(due_day)
    assert due.timetz().replace(tzinfo=None) == CAL.periods_for(due_day)[-1][1]
    assert wt.workdays_between(start.date() + timedelta(days=1), due_day, CAL) == days


@common
@given(pause_lists(), st.integers(min_value=1, max_value=25))
def test_pauses_move_a_work_day_deadline_by_exactly_the_paused_working_time(start_and_pauses, days):
    start, pauses = start_and_pauses
    plain = wt.add(start, days, Unit.WORK_DAY, CAL)
    moved = wt.add(start, days, Unit.WORK_DAY, CAL, pauses)
    if moved is not None:
        assert moved >= plain
        assert wt.working_time_between(start, moved, CAL, pauses) == wt.working_time_between(
            start, plain, CAL
        )


@common
@given(
    pause_lists(), st.integers(min_value=0, max_value=30 * 1440), st.sampled_from(["minute", "hour", "day"])
)
def test_natural_time_runs_except_during_pauses(start_and_pauses, minutes, unit):
    start, pauses = start_and_pauses
    amount = {"minute": minutes, "hour": minutes / 60, "day": minutes / 1440}[unit]
    result = wt.add(start, amount, unit, CAL, pauses)
    if result is not None:
        expected = wt.to_duration(amount, unit)
        assert abs(wt.natural_time_between(start, result, pauses) - expected) < timedelta(milliseconds=1)


@common
@given(pause_lists())
def test_the_next_work_start_is_a_working_instant_with_no_work_before_it(start_and_pauses):
    start, pauses = start_and_pauses
    begin = wt.next_work_start(start, CAL, pauses)
    if begin is not None:
        assert wt.is_working_instant(begin, CAL, pauses)
        assert wt.working_time_between(start, begin, CAL, pauses) == timedelta(0)
