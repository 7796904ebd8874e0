"""The bulk generator's pure parts: the precomputed working clock, the ordered map and the planner."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cityops.cases import deadlines
from cityops.core import worktime
from cityops.core.worktime import Schedule, WorkCalendar
from cityops.demo.bulk import ordered_map
from cityops.demo.generate import _picker
from cityops.demo.workclock import WorkClock

ZONE = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar(
    days={
        date(2025, 10, 1): False,
        date(2025, 10, 2): False,
        date(2025, 10, 3): False,
        date(2025, 10, 6): False,
        date(2025, 10, 11): True,  # a make-up Saturday
        date(2026, 1, 1): False,
    },
    schedules=(
        Schedule(((time(8, 30), time(12, 0)), (time(14, 30), time(18, 0)))),
        Schedule(
            ((time(8, 0), time(12, 0)), (time(15, 0), time(18, 30))), date(2025, 6, 1), date(2025, 9, 30)
        ),
    ),
    covered_years=frozenset({2025, 2026}),
)
FIRST, LAST = date(2025, 5, 20), date(2026, 1, 20)


def _instants(n: int, seed: int = 5):
    """Random instants over the span, and the awkward ones: period edges, midnight, just outside."""
    rng = random.Random(seed)
    span = (datetime.combine(LAST, time(0), ZONE) - datetime.combine(FIRST, time(0), ZONE)).total_seconds()
    start = datetime.combine(FIRST, time(0), ZONE)
    out = [
        start + timedelta(seconds=rng.uniform(0, span), microseconds=rng.randrange(10**6)) for _ in range(n)
    ]
    for day in (date(2025, 5, 30), date(2025, 9, 30), date(2025, 10, 1), date(2025, 10, 11)):
        for t in (time(0), time(8, 0), time(8, 30), time(12, 0), time(14, 30), time(15, 0), time(18, 0)):
            out.append(datetime.combine(day, t, ZONE))
    out += [datetime.combine(FIRST, time(7), ZONE), datetime.combine(LAST, time(17), ZONE)]
    out += [datetime.combine(FIRST - timedelta(days=3), time(10), ZONE)]  # before the table: falls back
    return [t.astimezone(UTC) if i % 2 else t for i, t in enumerate(out)]


@pytest.mark.parametrize(
    ("amount", "unit"),
    [
        (Decimal("1.00"), "work_hour"),
        (Decimal("2.00"), "work_hour"),
        (Decimal("3.50"), "work_hour"),
        (Decimal("4.00"), "work_hour"),
        (Decimal("7.00"), "work_hour"),
        (Decimal("40"), "work_hour"),
        (Decimal("1"), "work_day"),
        (Decimal("3.00"), "work_day"),
        (Decimal("5.00"), "work_day"),
        (Decimal("0"), "work_day"),
        (Decimal("30.00"), "minute"),
        (Decimal("24.00"), "hour"),
        (Decimal("2"), "day"),
        (None, "work_hour"),
    ],
)
def test_the_clock_gives_the_same_due_times_as_deadlines(amount, unit):
    clock = WorkClock(CALENDAR, FIRST, LAST)
    for start in _instants(400):
        assert clock.due(start, amount, unit) == deadlines.due(start, amount, unit, CALENDAR), start


def test_the_clock_gives_the_same_working_time_as_worktime():
    clock = WorkClock(CALENDAR, FIRST, LAST)
    instants = _instants(300, seed=9)
    rng = random.Random(3)
    for start in instants:
        end = rng.choice(instants)
        expected = worktime.elapsed(start, end, worktime.Unit.WORK_HOUR, CALENDAR).total_seconds()
        assert clock.work_seconds(start, end, []) == expected, (start, end)
        pauses = [(start + timedelta(hours=1), start + timedelta(hours=20))]
        expected = worktime.elapsed(start, end, worktime.Unit.WORK_HOUR, CALENDAR, pauses).total_seconds()
        assert clock.work_seconds(start, end, pauses) == expected


def test_picker_draws_what_choices_draws():
    population, weights = list("abcdefg"), [5, 0.5, 3, 0, 1.25, 7, 2]
    a, b = random.Random(11), random.Random(11)
    pick = _picker(b, population, weights)
    assert [a.choices(population, weights)[0] for _ in range(2000)] == [pick() for _ in range(2000)]
    cum = [1, 4, 4, 9]
    pick = _picker(b, "wxyz", cum_weights=cum)
    assert [a.choices("wxyz", cum_weights=cum)[0] for _ in range(500)] == [pick() for _ in range(500)]


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_ordered_map_consumes_every_result_in_order(workers):
    got = []
    ordered_map(lambda i: [i, i * i, "x" * (i % 3)], 37, lambda i, r: got.append((i, r)), workers=workers)
    assert got == [(i, [i, i * i, "x" * (i % 3)]) for i in range(37)]


def test_ordered_map_raises_when_a_chunk_fails():
    def task(i):
        if i >= 5:
            raise ValueError("broken chunk")
        return i

    with pytest.raises((ValueError, RuntimeError), match="broken chunk"):
        ordered_map(task, 20, lambda i, r: None, workers=1)
