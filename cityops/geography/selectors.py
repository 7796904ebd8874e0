"""Reads of the places app, and ``locate`` with its per-process spatial index.

The index is cached per process and keyed by a cheap fingerprint of the area and boundary tables,
checked at most every few seconds, so ``locate`` costs no query on the hot path and still notices
boundaries imported by another process. Writes in this process clear the cache at once.
"""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from cityops.geography.choices import AreaLevel
from cityops.geography.models import Area, AreaBoundary
from cityops.geography.spatial import AreaIndex, AreaRecord, Location, check_position

# How often a process checks whether another process changed the boundaries (seconds).
INDEX_CHECK_INTERVAL = 5.0
# How long the city's name is trusted before it is read again (seconds); empty answers expire sooner.
CITY_NAME_TTL = 300.0
CITY_NAME_EMPTY_TTL = 30.0
_MAX_CACHED_INDEXES = 16


@dataclass
class _Snapshot:
    """All areas and all boundary versions, parsed; indexes are built per stretch of time on demand."""

    key: tuple
    areas: dict[str, AreaRecord]
    codes: list[str]
    valid_from: list[datetime]
    valid_to: list[datetime | None]
    geoms: np.ndarray
    change_points: list[datetime]
    indexes: dict[int, AreaIndex] = field(default_factory=dict)
    pickers: dict[tuple, list[tuple[str, str]]] = field(default_factory=dict)

    def index_at(self, at: datetime) -> AreaIndex:
        # Between two consecutive change points the set of valid versions is the same.
        segment = bisect.bisect_right(self.change_points, at)
        index = self.indexes.get(segment)
        if index is None:
            outlines = [
                (code, geom)
                for code, start, end, geom in zip(
                    self.codes, self.valid_from, self.valid_to, self.geoms, strict=True
                )
                if start <= at and (end is None or at < end)
            ]
            index = AreaIndex(self.areas, outlines)
            if len(self.indexes) >= _MAX_CACHED_INDEXES:
                self.indexes.pop(next(iter(self.indexes)))
            self.indexes[segment] = index
        return index


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.snapshot: _Snapshot | None = None
        self.checked_at = 0.0
        self.city_name: str | None = None
        self.city_name_until = 0.0


_cache = _Cache()


def clear_caches() -> None:
    """Forget the cached index and city name (called by every write of this app, and by tests)."""
    with _cache.lock:
        _cache.clear()


def _fingerprint() -> tuple:
    b = AreaBoundary.objects.aggregate(n=Count("id"), last=Max("id"), closed=Count("valid_to"))
    a = Area.objects.aggregate(n=Count("id"), changed=Max("updated_at"))
    return (b["n"], b["last"], b["closed"], a["n"], a["changed"])


def _build(key: tuple) -> _Snapshot:
    areas = {
        code: AreaRecord(code=code, name=name, level=level, parent_code=parent, area_class=area_class)
        for code, name, level, parent, area_class in Area.objects.values_list(
            "code", "name", "level", "parent__code", "area_class"
        )
    }
    rows = list(
        AreaBoundary.objects.values_list("area__code", "valid_from", "valid_to", "geometry").order_by("id")
    )
    geoms = (
        shapely.from_geojson(np.array([r[3] for r in rows], dtype=object))
        if rows
        else np.array([], dtype=object)
    )
    points = sorted({r[1] for r in rows} | {r[2] for r in rows if r[2] is not None})
    return _Snapshot(
        key=key,
        areas=areas,
        codes=[r[0] for r in rows],
        valid_from=[r[1] for r in rows],
        valid_to=[r[2] for r in rows],
        geoms=geoms,
        change_points=points,
    )


def _snapshot() -> _Snapshot:
    snap, now = _cache.snapshot, time.monotonic()
    if snap is not None and now - _cache.checked_at < INDEX_CHECK_INTERVAL:
        return snap
    with _cache.lock:
        key = _fingerprint()
        if _cache.snapshot is None or _cache.snapshot.key != key:
            _cache.snapshot = _build(key)
        _cache.checked_at = now
        return _cache.snapshot


def _moment(at: datetime | None) -> datetime:
    if at is None:
        return timezone.now()
    return timezone.make_aware(at) if timezone.is_naive(at) else at


def area_index(*, at: datetime | None = None) -> AreaIndex:
    """The spatial index of the outlines valid at ``at`` (now by default)."""
    return _snapshot().index_at(_moment(at))


def locate(lat: float, lon: float, *, at: datetime | None = None) -> Location:
    """Where a WGS84 position lies: city, county, township, community and unit grid cell.

    ``at`` picks the boundary versions valid at that moment, so the place of an old event is answered by
    the boundaries of its time. Raises ``OutsideCity`` outside the city and ``DomainError`` (code
    ``invalid_position``) for impossible coordinates.
    """
    check_position(lat, lon)
    return area_index(at=at).locate(lat, lon)


def city_name() -> str:
    """The root city's name for every page header ("长治市"), or "" before any areas are loaded."""
    now = time.monotonic()
    if _cache.city_name is not None and now < _cache.city_name_until:
        return _cache.city_name
    name = city_area_queryset().values_list("name", flat=True).first() or ""
    _cache.city_name = name
    _cache.city_name_until = now + (CITY_NAME_TTL if name else CITY_NAME_EMPTY_TTL)
    return name


def city_area_queryset() -> QuerySet[Area]:
    return Area.objects.filter(level=AreaLevel.CITY, parent__isnull=True).order_by("code")


def area_get(code: str) -> Area | None:
    return Area.objects.select_related("parent").filter(code=code).first()


def area_list(
    *, level: str | None = None, parent_code: str | None = None, active_only: bool = True
) -> QuerySet[Area]:
    """Areas for pickers and lists, ordered by code."""
    qs = Area.objects.select_related("parent")
    if level:
        qs = qs.filter(level=level)
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    if active_only:
        qs = qs.filter(active=True)
    return qs.order_by("code")


def area_record(code: str) -> AreaRecord | None:
    """The area with ``code`` (its name, level and parent) from the cached index, or None."""
    return _snapshot().areas.get(code)


def area_names(codes) -> dict[str, str]:
    """Names of the areas with ``codes`` (a case's county, township, community), from the cached index."""
    areas = _snapshot().areas
    return {code: areas[code].name for code in codes if code in areas}


def area_choices(*levels: str) -> list[tuple[str, str]]:
    """Active areas of ``levels`` as (code, name), level by level in code order.

    Every queue page lists them in its filters; they are kept with the cached area index, so an edit of
    the areas (which changes the index's fingerprint) shows at the next check."""
    snap = _snapshot()
    choices = snap.pickers.get(levels)
    if choices is None:
        choices = [
            (code, name)
            for level in levels
            for code, name in area_list(level=level).select_related(None).values_list("code", "name")
        ]
        snap.pickers[levels] = choices
    return choices


def boundary_history(area: Area) -> QuerySet[AreaBoundary]:
    return AreaBoundary.objects.filter(area=area).order_by("version")


def _valid_at(at: datetime) -> Q:
    return Q(valid_from__lte=at) & (Q(valid_to__isnull=True) | Q(valid_to__gt=at))


def boundaries_at(*, level: str, at: datetime | None = None) -> list[dict[str, Any]]:
    """The outlines of one level valid at ``at`` as plain rows (geometry is GeoJSON text), one query."""
    return list(
        AreaBoundary.objects.filter(_valid_at(_moment(at)), area__level=level)
        .order_by("area__code")
        .values(
            "area__code",
            "area__name",
            "area__level",
            "area__parent__code",
            "area__area_class",
            "version",
            "valid_from",
            "geometry",
        )
    )
