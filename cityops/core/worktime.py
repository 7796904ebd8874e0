"""Working-time arithmetic for deadlines: working hours, working days and natural time.

Pure rules: no ORM, no settings, no clock. The calendar comes in as a ``WorkCalendar`` value (built
from the database by ``cityops.core.calendar.load_calendar`` or directly in tests) and every instant
is an aware ``datetime``. Arithmetic runs in UTC so wall-clock quirks of a zone cannot skew
durations; days and work periods are cut in the calendar's own zone (Asia/Shanghai by default).

Rules, in one place:

* The working clock runs only inside the work periods of working days, and never during a pause.
* ``add`` with a working unit never returns an instant outside a work period: a start outside the
  periods counts from the next period start, and a result that fills a period exactly stays at that
  period's end (12:00, 18:00).
* ``N work_day`` after ``t`` ends at the close of the last work period of the N-th working day after
  the day of ``t`` (the day of ``t`` itself does not count, as with 期限开始之日不计算在内). With
  pauses, the due time moves by exactly the working time that was paused.
* Natural units (``hour``, ``day``, ``minute``) ignore the calendar but still stop during pauses.
* Dates the calendar does not cover fall back to Monday-Friday; ``WorkCalendar.covers`` and
  ``add_detailed(...).fallback_years`` tell callers when that happened.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import MappingProxyType
from zoneinfo import ZoneInfo


class Unit(enum.StrEnum):
    """Units of a time limit; the values are shared with the models and the catalogue."""

    WORK_HOUR = "work_hour"
    WORK_DAY = "work_day"
    HOUR = "hour"
    DAY = "day"
    MINUTE = "minute"


WORKING_UNITS = frozenset({Unit.WORK_HOUR, Unit.WORK_DAY})
DEFAULT_TIME_ZONE = "Asia/Shanghai"
DEFAULT_PERIODS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(14, 30), time(18, 0)))

# A guard against calendars without any working time: no limit spans more than twenty years.
MAX_DAYS = 366 * 20

_SECONDS = {Unit.WORK_HOUR: 3600, Unit.HOUR: 3600, Unit.DAY: 86400, Unit.MINUTE: 60}
_FOREVER = datetime.max.replace(tzinfo=UTC)

Pause = tuple[datetime, datetime | None]
Period = tuple[time, time]


@dataclass(frozen=True)
class Schedule:
    """The daily work periods in force from ``valid_from`` to ``valid_to`` (inclusive; None is open).

    Periods are sorted and overlapping ones merged, so a sloppy edit cannot double-count time.
    """

    periods: tuple[Period, ...]
    valid_from: date | None = None
    valid_to: date | None = None

    def __post_init__(self) -> None:
        merged: list[Period] = []
        for start, end in sorted(self.periods):
            if start >= end:
                raise ValueError("A work period must end after it starts (periods cannot cross midnight).")
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        object.__setattr__(self, "periods", tuple(merged))
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("A schedule cannot end before it starts.")

    def applies_to(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True, eq=False)
class WorkCalendar:
    """Official days, daily work periods and the covered years: everything the arithmetic needs.

    ``days`` holds the explicit days (holidays and make-up working days); any other date is a working
    day when it falls on Monday-Friday. ``covered_years`` are the years whose official schedule is
    complete; dates in other years are *assumed* to follow Monday-Friday. When several schedules
    apply to a date the one that starts latest wins (a summer schedule over the default); dates no
    schedule covers use ``DEFAULT_PERIODS``.
    """

    days: Mapping[date, bool] = field(default_factory=dict)
    names: Mapping[date, str] = field(default_factory=dict)
    schedules: tuple[Schedule, ...] = (Schedule(DEFAULT_PERIODS),)
    covered_years: frozenset[int] = frozenset()
    time_zone: str = DEFAULT_TIME_ZONE
    zone: ZoneInfo = field(init=False, repr=False)
    # Per-date UTC work intervals, filled lazily; a cache, so the value stays immutable in meaning.
    _intervals: dict[date, tuple[tuple[datetime, datetime], ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", MappingProxyType(dict(self.days)))
        object.__setattr__(self, "names", MappingProxyType(dict(self.names)))
        ordered = sorted(self.schedules, key=lambda s: s.valid_from or date.min)
        object.__setattr__(self, "schedules", tuple(ordered))
        object.__setattr__(self, "covered_years", frozenset(self.covered_years))
        object.__setattr__(self, "zone", ZoneInfo(self.time_zone))
        object.__setattr__(self, "_intervals", {})

    def covers(self, day: date) -> bool:
        """True when the official schedule of ``day``'s year is in the calendar."""
        return day.year in self.covered_years

    def is_assumed(self, day: date) -> bool:
        """True when ``day`` is judged by the Monday-Friday fallback, not by official data."""
        return not self.covers(day) and day not in self.days

    def is_workday(self, day: date) -> bool:
        return self.days.get(day, day.weekday() < 5)

    def day_name(self, day: date) -> str:
        return self.names.get(day, "")

    def schedule_for(self, day: date) -> Schedule | None:
        for schedule in reversed(self.schedules):
            if schedule.applies_to(day):
                return schedule
        return None

    def periods_for(self, day: date) -> tuple[Period, ...]:
        """The work periods of ``day``: empty on a rest day."""
        if not self.is_workday(day):
            return ()
        schedule = self.schedule_for(day)
        return schedule.periods if schedule else DEFAULT_PERIODS

    def is_working_day(self, day: date) -> bool:
        """A working day that has working time (a schedule without periods makes it a rest day)."""
        return bool(self.periods_for(day))

    def fallback_years(self, first: date, last: date) -> tuple[int, ...]:
        """The years between ``first`` and ``last`` (inclusive) judged by the fallback."""
        return tuple(y for y in range(first.year, last.year + 1) if y not in self.covered_years)

    def intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The work periods of ``day`` as UTC instants (cached per date)."""
        found = self._intervals.get(day)
        if found is None:
            found = tuple(
                (
                    datetime.combine(day, start, self.zone).astimezone(UTC),
                    datetime.combine(day, end, self.zone).astimezone(UTC),
                )
                for start, end in self.periods_for(day)
            )
            self._intervals[day] = found
        return found

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def day_end(self, day: date) -> datetime:
        """The UTC instant at which ``day`` ends in the calendar's zone."""
        return datetime.combine(day + timedelta(days=1), time(0), self.zone).astimezone(UTC)


@dataclass(frozen=True)
class Outcome:
    """A computed instant and the years on the way that were judged by the Monday-Friday fallback.

    ``at`` is None when an open-ended pause stops the clock for good (the case is still parked).
    """

    at: datetime | None
    fallback_years: tuple[int, ...] = ()

    @property
    def assumed(self) -> bool:
        return bool(self.fallback_years)


# --------------------------------------------------------------------------------------------
# Helpers


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("Working-time arithmetic needs aware datetimes.")
    return instant.astimezone(UTC)


class _Pauses:
    """Pauses as sorted, merged UTC intervals; an open end becomes "forever"."""

    def __init__(self, pauses: Iterable[Pause]):
        spans: list[tuple[datetime, datetime]] = []
        for start, end in pauses:
            s = _utc(start)
            e = _FOREVER if end is None else _utc(end)
            if e < s:
                raise ValueError("A pause cannot end before it starts.")
            if e > s:
                spans.append((s, e))
        spans.sort()
        merged: list[tuple[datetime, datetime]] = []
        for s, e in spans:
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
            else:
                merged.append((s, e))
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]
        self.open_from = merged[-1][0] if merged and merged[-1][1] == _FOREVER else None

    def subtract(self, a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
        """The parts of [a, b] during which the clock runs."""
        if not self.starts:
            return [(a, b)] if b > a else []
        pieces = []
        cursor = a
        i = bisect_right(self.ends, a)
        while i < len(self.starts) and self.starts[i] < b:
            if self.starts[i] > cursor:
                pieces.append((cursor, self.starts[i]))
            cursor = max(cursor, self.ends[i])
            i += 1
        if cursor < b:
            pieces.append((cursor, b))
        return pieces

    def covers(self, instant: datetime) -> bool:
        i = bisect_right(self.starts, instant) - 1
        return i >= 0 and instant < self.ends[i]

    def stopped_for_good(self, instant: datetime) -> bool:
        return self.open_from is not None and instant >= self.open_from


def to_duration(amount: int | float | Decimal | timedelta, unit: Unit | str) -> timedelta:
    """``amount`` of an hour-like unit as an exact timedelta (work days have no fixed length)."""
    unit = Unit(unit)
    if unit is Unit.WORK_DAY:
        raise ValueError("Working days have no fixed length; use add() or add_work_days().")
    if isinstance(amount, timedelta):
        duration = amount
    else:
        value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
        duration = timedelta(microseconds=int((value * _SECONDS[unit] * 1_000_000).to_integral_value()))
    if duration < timedelta(0):
        raise ValueError("A time limit cannot be negative.")
    return duration


def _whole_days(amount: int | float | Decimal) -> int:
    value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
    if value < 0 or value != value.to_integral_value():
        raise ValueError("Working days must be a whole, non-negative number.")
    return int(value)


def _floor_in_period(start: datetime, cal: WorkCalendar) -> datetime:
    """The earliest instant at or after ``start`` inside a (closed) work period."""
    day = cal.local_date(start)
    for _ in range(MAX_DAYS):
        for a, b in cal.intervals(day):
            if b >= start:
                return max(a, start)
        day += timedelta(days=1)
    raise ValueError("The calendar has no working time in the next twenty years.")


def _add_working(start: datetime, duration: timedelta, cal: WorkCalendar, pauses: _Pauses) -> datetime | None:
    begin = _floor_in_period(start, cal)
    if duration <= timedelta(0):
        return begin
    remaining = duration
    day = cal.local_date(begin)
    for _ in range(MAX_DAYS):
        for a, b in cal.intervals(day):
            if b <= begin:
                continue
            for x, y in pauses.subtract(max(a, begin), b):
                span = y - x
                if span >= remaining:
                    return x + remaining
                remaining -= span
        if pauses.stopped_for_good(cal.day_end(day)):
            return None
        day += timedelta(days=1)
    raise ValueError("The calendar has no working time in the next twenty years.")


def _working_between(start: datetime, end: datetime, cal: WorkCalendar, pauses: _Pauses) -> timedelta:
    total = timedelta(0)
    if end <= start:
        return total
    day, last = cal.local_date(start), cal.local_date(end)
    while day <= last:
        for a, b in cal.intervals(day):
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                for x, y in pauses.subtract(lo, hi):
                    total += y - x
        day += timedelta(days=1)
    return total


def _close_of_nth_working_day(start: datetime, days: int, cal: WorkCalendar) -> datetime:
    day = cal.local_date(start)
    counted = 0
    for _ in range(MAX_DAYS):
        day += timedelta(days=1)
        if cal.is_working_day(day):
            counted += 1
            if counted == days:
                return cal.intervals(day)[-1][1]
    raise ValueError("The calendar has no working days in the next twenty years.")


def _add_work_days(start: datetime, days: int, cal: WorkCalendar, pauses: _Pauses) -> datetime | None:
    if days == 0:
        return _add_working(start, timedelta(0), cal, pauses)
    due = _close_of_nth_working_day(start, days, cal)
    if not pauses.starts:
        return due
    # With pauses, the limit is the working time it stands for, so parking moves the due time by
    # exactly the working time that was parked.
    budget = _working_between(start, due, cal, _Pauses(()))
    return _add_working(start, budget, cal, pauses)


def _add_natural(start: datetime, duration: timedelta, pauses: _Pauses) -> datetime | None:
    if duration <= timedelta(0):
        return start
    remaining = duration
    cursor = start
    for ps, pe in zip(pauses.starts, pauses.ends, strict=True):
        if pe <= cursor:
            continue
        if ps > cursor:
            gap = ps - cursor
            if gap >= remaining:
                return cursor + remaining
            remaining -= gap
        if pe == _FOREVER:
            return None
        cursor = max(cursor, pe)
    return cursor + remaining


# --------------------------------------------------------------------------------------------
# Public API


def add_detailed(
    start: datetime,
    amount: int | float | Decimal | timedelta,
    unit: Unit | str,
    calendar: WorkCalendar,
    pauses: Iterable[Pause] = (),
) -> Outcome:
    """``add`` that also says which years were judged by the Monday-Friday fallback."""
    unit = Unit(unit)
    begin = _utc(start)
    stops = _Pauses(pauses)
    if unit is Unit.WORK_DAY:
        if isinstance(amount, timedelta):
            raise ValueError("Give working days as a number.")
        result = _add_work_days(begin, _whole_days(amount), calendar, stops)
    elif unit is Unit.WORK_HOUR:
        result = _add_working(begin, to_duration(amount, unit), calendar, stops)
    else:
        result = _add_natural(begin, to_duration(amount, unit), stops)
    if unit in WORKING_UNITS:
        last = calendar.local_date(result) if result else calendar.local_date(begin)
        fallback = calendar.fallback_years(calendar.local_date(begin), last)
    else:
        fallback = ()
    return Outcome(result.astimezone(calendar.zone) if result else None, fallback)


def add(
    start: datetime,
    amount: int | float | Decimal | timedelta,
    unit: Unit | str,
    calendar: WorkCalendar,
    pauses: Iterable[Pause] = (),
) -> datetime | None:
    """The instant ``amount`` ``unit`` after ``start``, the clock stopping during ``pauses``.

    Returns an aware datetime in the calendar's zone, or None when an open-ended pause (end None)
    stops the clock before the limit is used up.
    """
    return add_detailed(start, amount, unit, calendar, pauses).at


def working_time_between(
    start: datetime, end: datetime, calendar: WorkCalendar, pauses: Iterable[Pause] = ()
) -> timedelta:
    """Working time elapsed from ``start`` to ``end`` (zero if ``end`` is not after ``start``)."""
    return _working_between(_utc(start), _utc(end), calendar, _Pauses(pauses))


def natural_time_between(start: datetime, end: datetime, pauses: Iterable[Pause] = ()) -> timedelta:
    """Wall-clock time from ``start`` to ``end`` minus the pauses."""
    s, e = _utc(start), _utc(end)
    if e <= s:
        return timedelta(0)
    return sum((y - x for x, y in _Pauses(pauses).subtract(s, e)), timedelta(0))


def elapsed(
    start: datetime, end: datetime, unit: Unit | str, calendar: WorkCalendar, pauses: Iterable[Pause] = ()
) -> timedelta:
    """The time that counts against a limit in ``unit``: working time or natural time."""
    if Unit(unit) in WORKING_UNITS:
        return working_time_between(start, end, calendar, pauses)
    return natural_time_between(start, end, pauses)


def is_working_instant(instant: datetime, calendar: WorkCalendar, pauses: Iterable[Pause] = ()) -> bool:
    """True when the working clock runs at ``instant`` (inside a period, ends excluded, not paused)."""
    t = _utc(instant)
    if _Pauses(pauses).covers(t):
        return False
    return any(a <= t < b for a, b in calendar.intervals(calendar.local_date(t)))


def in_work_period(instant: datetime, calendar: WorkCalendar) -> bool:
    """True when ``instant`` lies in a work period, both ends included (where results may land)."""
    t = _utc(instant)
    return any(a <= t <= b for a, b in calendar.intervals(calendar.local_date(t)))


def next_work_start(
    instant: datetime, calendar: WorkCalendar, pauses: Iterable[Pause] = ()
) -> datetime | None:
    """The first instant at or after ``instant`` at which the working clock runs.

    None when an open-ended pause stops the clock for good.
    """
    t = _utc(instant)
    stops = _Pauses(pauses)
    day = calendar.local_date(t)
    for _ in range(MAX_DAYS):
        for a, b in calendar.intervals(day):
            if b > t:
                pieces = stops.subtract(max(a, t), b)
                if pieces:
                    return pieces[0][0].astimezone(calendar.zone)
        if stops.stopped_for_good(calendar.day_end(day)):
            return None
        day += timedelta(days=1)
    raise ValueError("The calendar has no working time in the next twenty years.")


def workdays_between(first: date, last: date, calendar: WorkCalendar) -> int:
    """The number of working days from ``first`` to ``last``, both included."""
    count, day = 0, first
    while day <= last:
        count += calendar.is_working_day(day)
        day += timedelta(days=1)
    return count
