"""Pure rules of the facilities app: opening hours, distances, inspection schedules, figures.

No ORM, no settings, no clock: ``now`` or ``at`` is always passed in.

Opening hours, a small documented subset of the OpenStreetMap ``opening_hours`` syntax:

* ``24h`` (also ``24/7``): always open;
* ``06:00-22:00``: every day; several ranges with commas: ``06:00-11:30,13:00-22:00``;
* rules separated by ``;``, each optionally starting with days: ``Mo-Fr 06:00-22:00; Sa-Su 07:00-21:00``.
  Days are ``Mo Tu We Th Fr Sa Su``, as ranges (``Mo-Fr``, ``Fr-Mo`` wraps) and lists (``Mo,We,Fr``);
  ``off`` (or ``closed``) closes those days: ``Mo-Sa 06:00-22:00; Su off``;
* a later rule for a day replaces an earlier one for that day;
* a range that ends before it starts (``20:00-06:00``) runs past midnight into the next day;
  ``24:00`` is the end of the day.

Times are local (Asia/Shanghai unless another zone is passed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

LOCAL = ZoneInfo("Asia/Shanghai")
DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
ALWAYS = frozenset({"24h", "24/7", "00:00-24:00"})
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_DAYSPEC = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su)(-(Mo|Tu|We|Th|Fr|Sa|Su))?$")


class OpeningHoursError(ValueError):
    """An opening-hours text outside the supported subset; the message is translated."""


@dataclass(frozen=True)
class Hours:
    """Parsed opening hours: per weekday (0 = Monday) a tuple of (start, end) minutes; end may pass 1440."""

    always: bool
    days: tuple[tuple[tuple[int, int], ...], ...]

    def is_open(self, at: datetime, tz: ZoneInfo = LOCAL) -> bool:
        if self.always:
            return True
        local = at.astimezone(tz) if at.tzinfo else at
        minute = local.hour * 60 + local.minute
        day = local.weekday()
        if any(s <= minute < e for s, e in self.days[day]):
            return True
        yesterday = (day - 1) % 7  # ranges running past midnight
        return any(e > 1440 and minute < e - 1440 for _s, e in self.days[yesterday])


def _minutes(h: str, m: str, spec: str) -> int:
    hh, mm = int(h), int(m)
    if hh > 24 or mm > 59 or (hh == 24 and mm):
        raise OpeningHoursError(_("Not a time of day in %(spec)r.") % {"spec": spec})
    return hh * 60 + mm


def _days(token: str, spec: str) -> list[int]:
    out: list[int] = []
    for part in token.split(","):
        m = _DAYSPEC.match(part.strip())
        if not m:
            raise OpeningHoursError(
                _("Unknown days %(days)r in %(spec)r: use Mo Tu We Th Fr Sa Su.")
                % {"days": part, "spec": spec}
            )
        start = DAYS.index(m.group(1))
        end = DAYS.index(m.group(3)) if m.group(3) else start
        i = start
        while True:
            out.append(i)
            if i == end:
                break
            i = (i + 1) % 7
    return out


def parse_hours(spec: str) -> Hours:
    """Parse an opening-hours text; raises ``OpeningHoursError`` with a translated message."""
    text = " ".join((spec or "").split())
    if not text:
        raise OpeningHoursError(_("Opening hours are required."))
    if text.lower() in ALWAYS:
        return Hours(always=True, days=((),) * 7)
    days: list[list[tuple[int, int]]] = [[] for _i in range(7)]
    for rule in (r.strip() for r in text.split(";")):
        if not rule:
            continue
        parts = rule.split(" ", 1)
        if _DAYSPEC.match(parts[0].split(",")[0]):
            which = _days(parts[0], spec)
            times = parts[1].strip() if len(parts) > 1 else ""
        else:
            which, times = list(range(7)), rule
        if not times:
            raise OpeningHoursError(_("Give the hours after the days in %(spec)r.") % {"spec": spec})
        if times.lower() in ("off", "closed"):
            ranges: list[tuple[int, int]] = []
        elif times.lower() in ALWAYS:
            ranges = [(0, 1440)]
        else:
            ranges = []
            for r in times.replace(" ", "").split(","):
                m = _RANGE.match(r)
                if not m:
                    raise OpeningHoursError(
                        _("%(part)r is not a time range like 06:00-22:00 in %(spec)r.")
                        % {"part": r, "spec": spec}
                    )
                start = _minutes(m.group(1), m.group(2), spec)
                end = _minutes(m.group(3), m.group(4), spec)
                if start == end:
                    raise OpeningHoursError(_("An empty time range in %(spec)r.") % {"spec": spec})
                ranges.append((start, end if end > start else end + 1440))
        for d in which:
            days[d] = list(ranges)
    if all(d == [(0, 1440)] for d in days):
        return Hours(always=True, days=((),) * 7)
    return Hours(always=False, days=tuple(tuple(d) for d in days))


@lru_cache(maxsize=4096)
def _parsed(spec: str) -> Hours | None:
    """``parse_hours`` kept per text (None: unparseable): the toilet finder asks for the open state of
    twenty facilities per request, and a registry repeats a handful of opening-hours texts."""
    try:
        return parse_hours(spec)
    except OpeningHoursError:
        return None


def is_open(spec: str, at: datetime, tz: ZoneInfo = LOCAL) -> bool:
    """Whether a facility with opening hours ``spec`` is open at ``at``. Unparseable hours: closed."""
    hours = _parsed(spec or "")
    return hours is not None and hours.is_open(at, tz)


def is_24h(spec: str) -> bool:
    hours = _parsed(spec or "")
    return hours is not None and hours.always


# ------------------------------------------------------------------------------------------------
# schedules

DUE_WITHIN = timedelta(days=1)


def inspection_status(last_at: datetime | None, interval_days: int, now: datetime) -> str:
    """``never``, ``late`` (past the interval), ``due`` (within a day of it) or ``ok``.

    Returns the values of ``choices.InspectionStatus``.
    """
    if last_at is None:
        return "never"
    next_at = last_at + timedelta(days=interval_days)
    if now >= next_at:
        return "late"
    if now >= next_at - DUE_WITHIN:
        return "due"
    return "ok"


def next_due(last_at: datetime | None, interval_days: int) -> datetime | None:
    return None if last_at is None else last_at + timedelta(days=interval_days)


# ------------------------------------------------------------------------------------------------
# figures


@dataclass(frozen=True)
class Ratio:
    """``part`` of ``whole``; ``rate`` is a percentage with one decimal, or None for an empty whole."""

    part: int
    whole: int

    @property
    def rate(self) -> Decimal | None:
        if not self.whole:
            return None
        return (Decimal(100) * self.part / self.whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def __str__(self) -> str:
        return f"{self.part}/{self.whole}"


def compliance(compliant: int, inspections: int) -> Ratio:
    """Compliance rate: inspections with every core (三无两有) item passed / inspections."""
    return Ratio(compliant, inspections)


def supplies_coverage(results: dict[str, dict[str, bool] | None]) -> Ratio:
    """Toilets whose last inspection found every supplies item (soap, paper) present / toilets.

    ``results`` maps each toilet to the supplies results of its last inspection (item -> passed), or
    None when it was never inspected (it counts in the whole, not in the part).
    """
    part = sum(1 for r in results.values() if r and all(r.values()))
    return Ratio(part, len(results))


def station_completion(services: list[tuple[bool, ...]] | list[bool]) -> Ratio:
    """Station services in place / planned (one flag per planned service)."""
    flags = list(services)
    return Ratio(sum(1 for f in flags if f), len(flags))
