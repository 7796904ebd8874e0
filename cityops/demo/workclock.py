"""Due times for millions of demo cases: ``deadlines.due`` answered from a precomputed working clock.

``worktime.add`` walks the calendar day by day for every call, which is right for one case and
costs the bulk generator about 40 µs a call, ten calls a case. Over a fixed span of days the
working time is a piecewise-linear clock: the UTC work intervals in order and the working time
before each. A due time is then two bisections and one addition. Results are the same instants as
``deadlines.due`` (the demo tests compare them); anything the table does not cover (an instant
outside the span, working days without a close, limits that are not plain amounts) falls back to
``deadlines.due`` itself.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cityops.cases import deadlines
from cityops.core import worktime

_NATURAL = {"hour": 3600, "minute": 60, "day": 86400}
_ZERO = timedelta(0)


class WorkClock:
    """Working time of ``calendar`` from ``first`` to ``last`` (local dates, inclusive)."""

    def __init__(self, calendar, first: date, last: date):
        self.calendar = calendar
        self.first, self.last = first, last
        starts, ends, before = [], [], []
        worked = _ZERO
        self._close: dict[date, datetime] = {}  # working day -> end of its last period (UTC)
        self._workdays: list[date] = []
        day = first
        while day <= last:
            spans = calendar.intervals(day)
            for a, b in spans:
                starts.append(a)
                ends.append(b)
                before.append(worked)
                worked += b - a
            if spans:
                self._workdays.append(day)
                self._close[day] = spans[-1][1]
            day += timedelta(days=1)
        self._starts, self._ends, self._before = starts, ends, before
        self._after = [w + (b - a) for w, a, b in zip(before, starts, ends, strict=True)]
        self._durations: dict[tuple, timedelta] = {}
        self._nth: dict[tuple[date, int], datetime | None] = {}

    # -- the clock ---------------------------------------------------------------------------

    def _duration(self, amount, unit: str) -> timedelta:
        key = (amount, unit)
        found = self._durations.get(key)
        if found is None:
            found = self._durations[key] = worktime.to_duration(amount, unit)
        return found

    def _work_hours(self, start: datetime, duration: timedelta) -> datetime | None:
        i = bisect_left(self._ends, start)  # first period that ends at or after start (closed)
        if i == 0 or i >= len(self._ends):
            return None  # before the span (the day may hold earlier periods) or after it
        a = self._starts[i]
        begin = start if start > a else a
        target = self._before[i] + (begin - a) + duration
        j = bisect_left(self._after, target, i)
        if j >= len(self._after) or duration <= _ZERO:
            return None
        return self._starts[j] + (target - self._before[j])

    def _work_days(self, start: datetime, days: int) -> datetime | None:
        local = start.astimezone(self.calendar.zone).date()
        key = (local, days)
        if key not in self._nth:
            k = bisect_left(self._workdays, local + timedelta(days=1))
            ok = local >= self.first and days > 0 and k + days - 1 < len(self._workdays)
            self._nth[key] = self._close[self._workdays[k + days - 1]] if ok else None
        return self._nth[key]

    def due(self, start: datetime, amount: Decimal | int | None, unit: str) -> datetime | None:
        """``deadlines.due(start, amount, unit, calendar)`` as the same instant (UTC)."""
        if amount is None:
            return None
        found = None
        if unit == "work_hour":
            found = self._work_hours(start.astimezone(UTC), self._duration(amount, unit))
        elif unit == "work_day":
            if amount == int(amount):
                found = self._work_days(start, int(amount))
        elif unit in _NATURAL:
            return start.astimezone(UTC) + self._duration(amount, unit)
        if found is None:
            return deadlines.due(start, amount, unit, self.calendar)
        return found

    def work_seconds(self, start: datetime, end: datetime, pauses: list) -> float:
        """``worktime.elapsed(start, end, WORK_HOUR, calendar, pauses)`` in seconds."""
        if not pauses:
            w0, w1 = self._worked(start.astimezone(UTC)), self._worked(end.astimezone(UTC))
            if w0 is not None and w1 is not None:
                return max(w1 - w0, _ZERO).total_seconds()
        return worktime.elapsed(start, end, worktime.Unit.WORK_HOUR, self.calendar, pauses).total_seconds()

    def _worked(self, t: datetime) -> timedelta | None:
        """Working time from the start of the span to ``t`` (None outside the span)."""
        i = bisect_left(self._ends, t)
        if i == 0 or i >= len(self._ends):
            return None
        a = self._starts[i]
        return self._before[i] + (t - a if t > a else _ZERO)
