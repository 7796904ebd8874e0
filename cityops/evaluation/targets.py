"""Indicator providers for the city's dated targets (``Target.indicator`` names one).

A provider is ``fn(now) -> Reading | None``. Other apps register theirs (``register("key", fn)``,
typically in their ``AppConfig.ready``); the facilities app's ``toilet_indicators(now)`` is picked up
on its own when it exists. A target whose provider is missing shows "no data", never zero.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    value: float
    total: float | None = None  # what the value is out of (159 toilets), when it is a coverage
    url: str = ""  # where the list behind the value is


Provider = Callable[[datetime], "Reading | None"]
_PROVIDERS: dict[str, Provider] = {}


def register(key: str, provider: Provider) -> None:
    _PROVIDERS[key] = provider


def _from_mapping(data, names: tuple[str, ...]) -> Reading | None:
    """Read ``{"value":.., "total":..}``-like answers under any of ``names`` (tolerant of shapes)."""
    for name in names:
        item = data.get(name) if isinstance(data, dict) else getattr(data, name, None)
        if item is None:
            continue
        if isinstance(item, int | float):
            return Reading(value=float(item))
        if isinstance(item, tuple | list) and len(item) == 2:
            return Reading(value=float(item[0]), total=float(item[1]))
        get = item.get if isinstance(item, dict) else (lambda k, d=None, _i=item: getattr(_i, k, d))
        value = next(
            (get(k) for k in ("part", "value", "done", "count", "numerator") if get(k) is not None), None
        )
        total = next((get(k) for k in ("whole", "total", "denominator", "of") if get(k) is not None), None)
        if value is not None:
            return Reading(
                value=float(value), total=None if total is None else float(total), url=get("url", "") or ""
            )
    return None


FACILITY_KEYS = {
    "toilet_supplies": ("supplies_coverage",),
    "station_completion": ("station_completion",),
}


_facility_reading: tuple[datetime, dict] | None = None


def _facilities(key: str) -> Provider | None:
    try:
        module = importlib.import_module("cityops.facilities.selectors")
    except ImportError:
        return None
    fn = getattr(module, "toilet_indicators", None)
    if fn is None:
        return None

    def provider(now: datetime) -> Reading | None:
        # Every facility target reads the same indicators: compute them once per moment (a page
        # reads all its targets with one ``now``).
        global _facility_reading
        cached = _facility_reading
        if cached is None or cached[0] is not now:
            cached = _facility_reading = (now, fn(now))
        return _from_mapping(cached[1], FACILITY_KEYS[key])

    return provider


def provider_for(key: str) -> Provider | None:
    if key in _PROVIDERS:
        return _PROVIDERS[key]
    if key in FACILITY_KEYS:
        return _facilities(key)
    return None


def read(key: str, now: datetime) -> Reading | None:
    provider = provider_for(key)
    if provider is None:
        return None
    try:
        return provider(now)
    except Exception:
        logger.exception("target provider %s failed", key)
        return None
