"""The pure working-time rules against the real 2026 schedule, without a database."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cityops.core import worktime as wt
from cityops.core.worktime import Schedule, Unit, WorkCalendar

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def _span(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# The State Council's 2026 schedule (国办发明电〔2025〕7号), written out by hand on purpose: the tests
# must not trust the package they are checking against.
HOLIDAYS_2026 = {
    "元旦": (date(2026, 1, 1), date(2026, 1, 3)),
    "春节": (date(2026, 2, 15), date(2026, 2, 23)),
    "清明": (date(2026, 4, 4), date(2026, 4, 6)),
    "劳动节": (date(2026, 5, 1), date(2026, 5, 5)),
    "端午": (date(2026, 6, 19), date(2026, 6, 21)),
    "中秋": (date(2026, 9, 25), date(2026, 9, 27)),
    "国庆节": (date(2026, 10, 1), date(2026, 10, 7)),
}
MAKE_UP_2026 = {
    date(2026, 1, 4): "元旦调休上班",
    date(2026, 2, 14): "春节调休上班",
    date(2026, 2, 28): "春节调休上班",
    date(2026, 5, 9): "劳动节调休上班",
    date(2026, 9, 20): "国庆节调休上班",
    date(2026, 10, 10): "国庆节调休上班",
}


def calendar_2026(**kwargs) -> WorkCalendar:
    days, names = {}, {}
    for name, (first, last) in HOLIDAYS_2026.items():
        for d in _span(first, last):
            days[d], names[d] = False, name
    for d, name in MAKE_UP_2026.items():
        days[d], names[d] = True, name
    return WorkCalendar(days=days, names=names, covered_years=frozenset({2026}), **kwargs)


CAL = calendar_2026()


# ---------------------------------------------------------------------------------------------
# The done-when cases


def test_four_working_hours_from_friday_evening_land_on_the_make_up_saturday():
    assert wt.add(at(2026, 2, 13, 17), 4, Unit.WORK_HOUR, CAL) == at(2026, 2, 14, 11, 30)


def test_twelve_working_hours_cross_the_whole_spring_festival():
    assert wt.add(at(2026, 2, 13, 17), 12, "work_hour", CAL) == at(2026, 2, 24, 15)


def test_two_working_days_count_the_make_up_sunday_before_national_day():
    assert wt.add(at(2026, 9, 18, 17), 2, Unit.WORK_DAY, CAL) == at(2026, 9, 21, 18)


def test_parking_for_a_working_day_moves_the_due_time_by_exactly_that_working_time():
    start = at(2026, 9, 18, 17)
    due = wt.add(start, 2, Unit.WORK_DAY, CAL)
    parked = [(at(2026, 9, 20), at(2026, 9, 21))]  # the whole make-up Sunday
    moved = wt.add(start, 2, Unit.WORK_DAY, CAL, parked)
    assert moved == at(2026, 9, 22, 18)
    paused_work = wt.working_time_between(*parked[0], CAL)
    assert paused_work == timedelta(hours=7)
    assert wt.working_time_between(due, moved, CAL) == paused_work


def test_a_short_pause_moves_a_work_day_deadline_by_the_paused_hour():
    parked = [(at(2026, 9, 21, 10), at(2026, 9, 21, 11))]
    assert wt.add(at(2026, 9, 18, 17), 2, Unit.WORK_DAY, CAL, parked) == at(2026, 9, 22, 9, 30)


# ---------------------------------------------------------------------------------------------
# Edges


def test_start_inside_the_lunch_break_counts_from_the_afternoon():
    assert wt.add(at(2026, 3, 2, 12, 30), 1, Unit.WORK_HOUR, CAL) == at(2026, 3, 2, 15, 30)


def test_start_on_a_holiday_counts_from_the_first_working_morning_after_it():
    assert wt.add(at(2026, 10, 3, 10), 1, Unit.WORK_HOUR, CAL) == at(2026, 10, 8, 9, 30)


def test_start_before_office_hours_counts_from_the_first_period():
    assert wt.add(at(2026, 3, 2, 7), 2, Unit.WORK_HOUR, CAL) == at(2026, 3, 2, 10, 30)


def test_a_result_that_fills_a_period_stays_at_its_end():
    assert wt.add(at(2026, 3, 2, 8, 30), 3.5, Unit.WORK_HOUR, CAL) == at(2026, 3, 2, 12)
    assert wt.add(at(2026, 3, 2, 8, 30), 7, Unit.WORK_HOUR, CAL) == at(2026, 3, 2, 18)


def test_zero_working_time_moves_an_outside_start_to_the_next_period():
    assert wt.add(at(2026, 3, 2, 7), 0, Unit.WORK_HOUR, CAL) == at(2026, 3, 2, 8, 30)
    assert wt.add(at(2026, 3, 2, 10), 0, Unit.WORK_HOUR, CAL) == at(2026, 3, 2, 10)
    assert wt.add(at(2026, 3, 2, 18), 0, Unit.WORK_HOUR, CAL) == at(2026, 3, 2, 18)
    assert wt.add(at(2026, 2, 15, 10), 0, Unit.WORK_DAY, CAL) == at(2026, 2, 24, 8, 30)


def test_zero_natural_time_is_the_start_itself():
    assert wt.add(at(2026, 2, 15, 3), 0, Unit.MINUTE, CAL) == at(2026, 2, 15, 3)


def test_natural_units_ignore_holidays_and_office_hours():
    start = at(2026, 2, 13, 17)
    assert wt.add(start, 24, Unit.HOUR, CAL) == at(2026, 2, 14, 17)
    assert wt.add(start, 2, Unit.DAY, CAL) == at(2026, 2, 15, 17)
    assert wt.add(start, 90, Unit.MINUTE, CAL) == at(2026, 2, 13, 18, 30)


def test_natural_units_stop_during_pauses():
    start = at(2026, 2, 15, 10)
    pauses = [(at(2026, 2, 15, 10, 30), at(2026, 2, 15, 11, 30))]
    assert wt.add(start, 60, Unit.MINUTE, CAL, pauses) == at(2026, 2, 15, 12)
    assert wt.natural_time_between(start, at(2026, 2, 15, 12), pauses) == timedelta(hours=1)
    # A start inside a pause waits for its end.
    assert wt.add(at(2026, 2, 15, 11), 10, Unit.MINUTE, CAL, pauses) == at(2026, 2, 15, 11, 40)


def test_a_pause_spanning_the_spring_festival():
    start = at(2026, 2, 13, 17)
    pause = (at(2026, 2, 13, 17, 30), at(2026, 2, 25, 9))
    assert wt.add(start, 4, Unit.WORK_HOUR, CAL, [pause]) == at(2026, 2, 25, 15)
    # Paused working time: Fri 0.5 h, make-up Sat 7 h, Tue 7 h, Wed 0.5 h.
    assert wt.working_time_between(*pause, CAL) == timedelta(hours=15)
    assert wt.working_time_between(start, at(2026, 2, 25, 15), CAL, [pause]) == timedelta(hours=4)


def test_overlapping_and_unordered_pauses_count_once():
    start = at(2026, 3, 2, 8, 30)
    pauses = [(at(2026, 3, 2, 10), at(2026, 3, 2, 11)), (at(2026, 3, 2, 9), at(2026, 3, 2, 10, 30))]
    assert wt.add(start, 1, Unit.WORK_HOUR, CAL, pauses) == at(2026, 3, 2, 11, 30)


def test_a_pause_before_the_start_does_not_matter():
    pauses = [(at(2026, 3, 1), at(2026, 3, 2, 8))]
    assert wt.add(at(2026, 3, 2, 9), 1, Unit.WORK_HOUR, CAL, pauses) == at(2026, 3, 2, 10)


def test_an_open_pause_stops_the_clock_for_good():
    start = at(2026, 3, 2, 9)
    still_parked = [(at(2026, 3, 2, 10), None)]
    assert wt.add(start, 1, Unit.WORK_HOUR, CAL, still_parked) == at(2026, 3, 2, 10)
    assert wt.add(start, 2, Unit.WORK_HOUR, CAL, still_parked) is None
    assert wt.add(start, 1, Unit.WORK_DAY, CAL, still_parked) is None
    assert wt.add(start, 2, Unit.HOUR, CAL, still_parked) is None
    assert wt.next_work_start(at(2026, 3, 2, 11), CAL, still_parked) is None
    assert wt.working_time_between(start, at(2026, 3, 9), CAL, still_parked) == timedelta(hours=1)


def test_fallback_beyond_the_calendar_is_monday_to_friday_and_says_so():
    outcome = wt.add_detailed(at(2026, 12, 31, 17), 2, Unit.WORK_DAY, CAL)
    # 2027-01-01 is assumed to be an ordinary Friday: no official data yet.
    assert outcome.at == at(2027, 1, 4, 18)
    assert outcome.assumed and outcome.fallback_years == (2027,)
    assert not CAL.covers(date(2027, 1, 1)) and CAL.is_assumed(date(2027, 1, 1))
    assert CAL.covers(date(2026, 2, 16)) and not CAL.is_assumed(date(2026, 2, 16))
    within = wt.add_detailed(at(2026, 9, 18, 17), 2, Unit.WORK_DAY, CAL)
    assert not within.assumed and within.fallback_years == ()


def test_natural_units_never_report_a_fallback():
    assert wt.add_detailed(at(2026, 12, 31, 17), 48, Unit.HOUR, CAL).fallback_years == ()


def test_day_names_and_working_days():
    assert CAL.day_name(date(2026, 2, 16)) == "春节"
    assert CAL.is_workday(date(2026, 2, 14)) and not CAL.is_workday(date(2026, 2, 16))
    assert CAL.is_workday(date(2026, 3, 2)) and not CAL.is_workday(date(2026, 3, 1))
    assert CAL.periods_for(date(2026, 3, 1)) == ()
    assert wt.workdays_between(date(2026, 2, 9), date(2026, 2, 28), CAL) == 11


def test_a_summer_schedule_applies_only_within_its_dates():
    summer = Schedule(((time(8), time(12)), (time(15), time(18, 30))), date(2026, 5, 1), date(2026, 9, 30))
    cal = calendar_2026(schedules=(Schedule(wt.DEFAULT_PERIODS), summer))
    assert cal.periods_for(date(2026, 7, 1)) == summer.periods
    assert cal.periods_for(date(2026, 10, 8)) == wt.DEFAULT_PERIODS
    # Wed 09-30 17:00 (summer): 1.5 h that day, then the default periods after National Day.
    assert wt.add(at(2026, 9, 30, 17), 3, Unit.WORK_HOUR, cal) == at(2026, 10, 8, 10)
    assert wt.add(at(2026, 9, 29, 9), 1, Unit.WORK_DAY, cal) == at(2026, 9, 30, 18, 30)


def test_dates_without_any_schedule_use_the_default_periods():
    later = Schedule(((time(9), time(17)),), date(2026, 6, 1))
    cal = calendar_2026(schedules=(later,))
    assert cal.periods_for(date(2026, 3, 2)) == wt.DEFAULT_PERIODS
    assert cal.periods_for(date(2026, 6, 1)) == ((time(9), time(17)),)


def test_schedules_merge_overlapping_periods_and_refuse_reversed_ones():
    assert Schedule(((time(14), time(18)), (time(8), time(12)), (time(11), time(13)))).periods == (
        (time(8), time(13)),
        (time(14), time(18)),
    )
    with pytest.raises(ValueError):
        Schedule(((time(18), time(8)),))
    with pytest.raises(ValueError):
        Schedule(wt.DEFAULT_PERIODS, date(2026, 2, 1), date(2026, 1, 1))


def test_working_time_between():
    assert wt.working_time_between(at(2026, 2, 13, 17), at(2026, 2, 24, 15), CAL) == timedelta(hours=12)
    assert wt.working_time_between(at(2026, 3, 2, 12), at(2026, 3, 2, 14, 30), CAL) == timedelta(0)
    assert wt.working_time_between(at(2026, 3, 3), at(2026, 3, 2), CAL) == timedelta(0)
    assert wt.elapsed(at(2026, 3, 2, 12), at(2026, 3, 2, 14, 30), Unit.HOUR, CAL) == timedelta(hours=2.5)
    assert wt.elapsed(at(2026, 3, 2, 12), at(2026, 3, 2, 14, 30), Unit.WORK_DAY, CAL) == timedelta(0)


def test_working_instants_and_next_start():
    assert wt.is_working_instant(at(2026, 3, 2, 11, 59), CAL)
    assert not wt.is_working_instant(at(2026, 3, 2, 12), CAL)
    assert wt.in_work_period(at(2026, 3, 2, 12), CAL)
    assert not wt.in_work_period(at(2026, 3, 2, 12, 1), CAL)
    assert not wt.is_working_instant(at(2026, 3, 2, 10), CAL, [(at(2026, 3, 2, 9), at(2026, 3, 2, 11))])
    assert wt.next_work_start(at(2026, 3, 2, 12), CAL) == at(2026, 3, 2, 14, 30)
    assert wt.next_work_start(at(2026, 2, 13, 18), CAL) == at(2026, 2, 14, 8, 30)
    assert wt.next_work_start(at(2026, 3, 2, 10), CAL) == at(2026, 3, 2, 10)
    paused = [(at(2026, 3, 2, 9), at(2026, 3, 2, 11))]
    assert wt.next_work_start(at(2026, 3, 2, 10), CAL, paused) == at(2026, 3, 2, 11)


def test_results_come_back_in_the_calendar_zone_whatever_the_input_zone():
    start = datetime(2026, 2, 13, 9, tzinfo=UTC)  # 17:00 in Shanghai
    result = wt.add(start, 4, Unit.WORK_HOUR, CAL)
    assert result == at(2026, 2, 14, 11, 30)
    assert result.tzinfo == SH and result.hour == 11


def test_amounts_may_be_decimal_float_or_timedelta():
    start = at(2026, 3, 2, 8, 30)
    expected = at(2026, 3, 2, 10)
    assert wt.add(start, Decimal("1.5"), Unit.WORK_HOUR, CAL) == expected
    assert wt.add(start, 1.5, Unit.WORK_HOUR, CAL) == expected
    assert wt.add(start, timedelta(minutes=90), Unit.WORK_HOUR, CAL) == expected
    assert wt.add(start, 90, Unit.MINUTE, CAL) == expected
    assert wt.add(start, 2.0, Unit.WORK_DAY, CAL) == at(2026, 3, 4, 18)


@pytest.mark.parametrize(
    ("start", "amount", "unit"),
    [
        (datetime(2026, 3, 2, 9), 1, Unit.WORK_HOUR),  # naive
        (at(2026, 3, 2, 9), -1, Unit.WORK_HOUR),
        (at(2026, 3, 2, 9), 1.5, Unit.WORK_DAY),
        (at(2026, 3, 2, 9), timedelta(days=1), Unit.WORK_DAY),
        (at(2026, 3, 2, 9), 1, "fortnight"),
    ],
)
def test_bad_input_is_refused(start, amount, unit):
    with pytest.raises(ValueError):
        wt.add(start, amount, unit, CAL)


def test_a_pause_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        wt.add(at(2026, 3, 2, 9), 1, Unit.WORK_HOUR, CAL, [(at(2026, 3, 2, 11), at(2026, 3, 2, 10))])


def test_a_calendar_without_working_time_raises_instead_of_looping():
    rest = WorkCalendar(days={date(2026, 1, 1) + timedelta(days=i): False for i in range(10)})
    assert wt.add(at(2026, 1, 1), 1, Unit.WORK_HOUR, rest) == at(2026, 1, 12, 9, 30)
    never = WorkCalendar(days={date(2026, 1, 1) + timedelta(days=i): False for i in range(wt.MAX_DAYS + 5)})
    with pytest.raises(ValueError):
        wt.add(at(2026, 1, 1), 1, Unit.WORK_HOUR, never)


def test_units_keep_their_agreed_values():
    assert {u.value for u in Unit} == {"work_hour", "work_day", "hour", "day", "minute"}
    assert {Unit.WORK_HOUR, Unit.WORK_DAY} == wt.WORKING_UNITS


def test_twenty_working_days_are_computed_by_the_day_not_by_the_minute():
    cal = calendar_2026()
    starts = [at(2026, 1, 5, 9) + timedelta(hours=7 * i) for i in range(1000)]
    begun = clock.perf_counter()
    for start in starts:
        wt.add(start, 20, Unit.WORK_DAY, cal)
        wt.add(start, 140, Unit.WORK_HOUR, cal, [(start, start + timedelta(days=3))])
    # About 0.2 s on a laptop; a minute-by-minute loop would take minutes.
    assert clock.perf_counter() - begun < 5
