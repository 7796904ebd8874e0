"""The point-in-area index behind ``locate``: which areas cover a position, and which unit grid cell.

Pure: it is built from plain records and shapely geometries (the selectors feed it from the database
and cache it), has no ORM, no settings and no clock, so it is tested without a database.

Rules, in order:

1. A position is inside the city when the city outline covers it (boundary included); without a city
   outline, when any county outline does. Otherwise ``OutsideCity``.
2. The county is the covering county with the smallest code, so a point exactly on a shared border
   always gets the same single county; a point in a sliver between county outlines gets the nearest.
3. Townships, communities and city grid cells are taken where their polygons cover the point. Among
   several, the one whose parents agree with what is already chosen wins, then the smallest code.
   The deepest polygon found decides: its parents fill the levels above it (so a community polygon
   names its township even when the township has no polygon), and a city's own polygons win over the
   public county outline where the two disagree near a border.
4. Without a city grid cell the unit grid cell is the H3 resolution-10 cell of the position.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import h3
import numpy as np
import shapely
from django.utils.translation import gettext as _

from cityops.core.errors import DomainError, OutsideCity
from cityops.geography.choices import AreaLevel, GridSource
from cityops.geography.geometry import format_coordinate

H3_RESOLUTION = 10

_FINE_LEVELS = (AreaLevel.TOWNSHIP, AreaLevel.COMMUNITY, AreaLevel.GRID)


class Place(NamedTuple):
    """An area as the rest of the platform needs it: its code and its name."""

    code: str
    name: str


@dataclass(frozen=True)
class Location:
    """Where a position lies. Areas are ``Place(code, name)`` tuples; missing levels are None."""

    city: Place
    county: Place | None
    township: Place | None
    community: Place | None
    grid: str
    grid_source: str
    area_class: str


@dataclass(frozen=True)
class AreaRecord:
    code: str
    name: str
    level: str
    parent_code: str | None = None
    area_class: str = ""


def check_position(lat: object, lon: object) -> tuple[float, float]:
    """Return (lat, lon) as floats, or refuse anything that is not a real position on Earth."""
    try:
        if isinstance(lat, bool) or isinstance(lon, bool):
            raise TypeError
        flat, flon = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        flat = flon = math.nan
    if not (math.isfinite(flat) and math.isfinite(flon) and -90 <= flat <= 90 and -180 <= flon <= 180):
        raise DomainError(
            _("The position (%(lat)s, %(lon)s) is not a valid latitude and longitude.")
            % {"lat": _short(lat), "lon": _short(lon)},
            code="invalid_position",
        )
    return flat, flon


def _short(value: object) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return format_coordinate(float(value))
    return str(value)[:40]


class AreaIndex:
    """Outlines valid at one moment, in an STRtree, with the area records needed to name results."""

    def __init__(self, areas: Mapping[str, AreaRecord], outlines: Iterable[tuple[str, shapely.Geometry]]):
        self.areas = dict(areas)
        pairs = [(code, geom) for code, geom in outlines if code in self.areas]
        pairs.sort(key=lambda p: p[0])
        self._codes = [code for code, _geom in pairs]
        self._levels = np.array([self.areas[code].level for code in self._codes], dtype=object)
        self._geoms = np.array([geom for _code, geom in pairs], dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)
        self._chains: dict[str, tuple[AreaRecord, ...]] = {}
        roots = sorted(
            (a for a in self.areas.values() if a.level == AreaLevel.CITY),
            key=lambda a: (a.parent_code or "", a.code),
        )
        self.city = Place(roots[0].code, roots[0].name) if roots else None
        self._city_geom = next(
            (g for c, g in zip(self._codes, self._geoms, strict=True) if self.city and c == self.city.code),
            None,
        )
        self._county_idx = np.flatnonzero(self._levels == AreaLevel.COUNTY)
        self.has_outlines = bool(self._codes)

    # -- queries ---------------------------------------------------------------------------------

    @property
    def city_geometry(self) -> shapely.Geometry | None:
        """The city's outline, or the union of the county outlines when the city has none."""
        if self._city_geom is not None:
            return self._city_geom
        if len(self._county_idx):
            return shapely.union_all(self._geoms[self._county_idx])
        return None

    def covering(self, point: shapely.Point) -> dict[str, list[str]]:
        """Codes of the areas whose outline covers ``point``, by level, each list sorted by code."""
        found: dict[str, list[str]] = {}
        if not self.has_outlines:
            return found
        idx = np.sort(self._tree.query(point))
        if len(idx):
            idx = idx[shapely.covers(self._geoms[idx], point)]
        for i in idx:
            found.setdefault(self._levels[i], []).append(self._codes[i])
        return found

    def geometry_of(self, code: str) -> shapely.Geometry | None:
        try:
            return self._geoms[self._codes.index(code)]
        except ValueError:
            return None

    def chain(self, code: str) -> tuple[AreaRecord, ...]:
        """The area and its ancestors, nearest first (cycles in bad data are cut)."""
        if code not in self._chains:
            out: list[AreaRecord] = []
            seen: set[str] = set()
            current: str | None = code
            while current and current in self.areas and current not in seen:
                seen.add(current)
                out.append(self.areas[current])
                current = self.areas[current].parent_code
            self._chains[code] = tuple(out)
        return self._chains[code]

    def locate(self, lat: object, lon: object) -> Location:
        flat, flon = check_position(lat, lon)
        if self.city is None or not self.has_outlines:
            raise DomainError(
                _("No area boundaries are valid at this moment, so the position cannot be located."),
                code="no_boundaries",
            )
        point = shapely.Point(flon, flat)
        found = self.covering(point)
        inside = (
            self.city.code in found.get(AreaLevel.CITY, [])
            if self._city_geom is not None
            else bool(found.get(AreaLevel.COUNTY))
        )
        if not inside:
            raise OutsideCity(
                _("The position (%(lat)s, %(lon)s) is outside %(city)s.")
                % {"lat": format_coordinate(flat), "lon": format_coordinate(flon), "city": self.city.name}
            )
        chosen: dict[str, str] = {AreaLevel.CITY: self.city.code}
        county = self._county(found, point)
        if county:
            chosen = self._merge(chosen, county)
        for level in _FINE_LEVELS:
            candidates = found.get(level)
            if candidates:
                pick = next((c for c in candidates if self._compatible(c, chosen)), candidates[0])
                chosen = self._merge(chosen, pick)
        return self._location(chosen, flat, flon)

    # -- helpers ---------------------------------------------------------------------------------

    def _county(self, found: dict[str, list[str]], point: shapely.Point) -> str | None:
        if found.get(AreaLevel.COUNTY):
            return found[AreaLevel.COUNTY][0]
        if not len(self._county_idx):
            return None
        distances = shapely.distance(self._geoms[self._county_idx], point)
        return self._codes[self._county_idx[int(np.argmin(distances))]]

    def _compatible(self, code: str, chosen: dict[str, str]) -> bool:
        return all(chosen.get(rec.level, rec.code) == rec.code for rec in self.chain(code))

    def _merge(self, chosen: dict[str, str], pick: str) -> dict[str, str]:
        """Make ``pick`` and its ancestors the answer; keep earlier choices that do not contradict it."""
        merged = {rec.level: rec.code for rec in self.chain(pick)}
        merged.setdefault(AreaLevel.CITY, chosen[AreaLevel.CITY])
        for level, code in chosen.items():
            if level not in merged and all(merged.get(r.level, r.code) == r.code for r in self.chain(code)):
                merged[level] = code
        return merged

    def _place(self, code: str | None) -> Place | None:
        if not code or code not in self.areas:
            return None
        return Place(code, self.areas[code].name)

    def _location(self, chosen: dict[str, str], lat: float, lon: float) -> Location:
        grid_code = chosen.get(AreaLevel.GRID)
        if grid_code:
            grid, source = grid_code, GridSource.CITY.value
        else:
            grid, source = h3.latlng_to_cell(lat, lon, H3_RESOLUTION), GridSource.H3.value
        area_class = ""
        for level in (
            AreaLevel.GRID,
            AreaLevel.COMMUNITY,
            AreaLevel.TOWNSHIP,
            AreaLevel.COUNTY,
            AreaLevel.CITY,
        ):
            code = chosen.get(level)
            if code and self.areas[code].area_class:
                area_class = self.areas[code].area_class
                break
        city = self._place(chosen[AreaLevel.CITY])
        assert city is not None
        return Location(
            city=city,
            county=self._place(chosen.get(AreaLevel.COUNTY)),
            township=self._place(chosen.get(AreaLevel.TOWNSHIP)),
            community=self._place(chosen.get(AreaLevel.COMMUNITY)),
            grid=grid,
            grid_source=source,
            area_class=area_class,
        )
