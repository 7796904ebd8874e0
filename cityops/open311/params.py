"""Parsing of GeoReport v2 parameters. Empty parameters count as absent; bad ones raise ``BadRequest``."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from cityops.core.errors import DomainError

MAX_TEXT = 4000
MAX_LIST = 1000
# A moment within this of the calendar's ends is refused like one that overflows: a list's window
# reaches 90 days back from its end_date, and near year 1 that overflowed, a server error.
EDGE = timedelta(days=366)


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class NotFound(DomainError):
    status = 404
    code = "not_found"


def text(params, name: str, *, max_length: int = MAX_TEXT) -> str | None:
    """The stripped value of ``name``, or None when it is missing or empty."""
    value = params.get(name)
    if value is None or not isinstance(value, str):
        return None
    value = value.strip()
    if not value:
        return None
    if "\x00" in value:
        raise BadRequest(_("%(name)s contains invalid characters.") % {"name": name})
    if len(value) > max_length:
        raise BadRequest(_("%(name)s may be at most %(max)d characters.") % {"name": name, "max": max_length})
    return value


def decimal_degrees(params, name: str, *, limit: float) -> float | None:
    value = text(params, name, max_length=40)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or abs(number) > limit:
        raise BadRequest(_("%(name)s must be a number of decimal degrees.") % {"name": name})
    return number


def moment(params, name: str) -> datetime | None:
    """An ISO 8601 date-time (or date: its start, in the city's time zone)."""
    value = text(params, name, max_length=40)
    if value is None:
        return None
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = datetime.combine(day, time.min) if day else None
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        if parsed is not None:  # years at the edge of the calendar overflow here
            (parsed - EDGE).astimezone(UTC)
            (parsed + EDGE).astimezone(UTC)
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise BadRequest(
            _("%(name)s must be an ISO 8601 date and time, e.g. 2026-05-01T08:00:00+08:00.") % {"name": name}
        )
    return parsed


def integer(params, name: str, *, default: int, low: int, high: int, clamp: bool = False) -> int:
    value = text(params, name, max_length=20)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is not None and clamp and number > high:
        number = high
    if number is None or not low <= number <= high:
        raise BadRequest(
            _("%(name)s must be a whole number from %(low)d to %(high)d.")
            % {"name": name, "low": low, "high": high}
        )
    return number


def comma_list(params, name: str, *, item_length: int = 40) -> list[str]:
    value = text(params, name, max_length=MAX_LIST * (item_length + 1))
    if value is None:
        return []
    items = list(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if len(items) > MAX_LIST:
        raise BadRequest(_("%(name)s may list at most %(max)d values.") % {"name": name, "max": MAX_LIST})
    return items


def boolean(params, name: str) -> bool:
    value = text(params, name, max_length=10)
    return (value or "").lower() in ("true", "1", "yes")
