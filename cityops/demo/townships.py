"""Generated outlines for the demo city's townships, which no public source outlines.

The reference data lists the 19 township-level units of 潞州区 but no polygons: those come from the
city's GIS (``geography_import --level township``). Without them every case's township is empty, and
the township rankings and the dashboard's township rows of the demo city are all zero. The reference
data allows the demo "townships as points or generated areas"; this module generates the areas:

* a seed point per township: the subdistricts (街道) in two rings around the urban core, where the demo
  generator puts most reports (``generate.PLACES``); the development zones and management units on a
  middle ring; the towns (镇, 乡) on an outer ring; the rings turned by an angle drawn from the seed;
* the county's outline cut into the Voronoi cells of those points, so the townships tile the county
  with no gap and no overlap, and every township's outline lies in it.

They are stored as every outline is (``geography.services.area_boundary_set``), valid since the
county's own outline, with the source ``demo: generated`` so nobody takes them for the official ones.
A county with any township outline of its own (imported) is left alone, and so is a county whose
townships were generated before: running the demo set-up again changes nothing.
"""

from __future__ import annotations

import math
import random
from datetime import datetime

import shapely
from django.db import transaction

from cityops.demo.generate import PLACES
from cityops.geography import geometry as geo
from cityops.geography.choices import AreaKind, AreaLevel
from cityops.geography.models import Area, AreaBoundary
from cityops.geography.services import area_boundary_set

SOURCE = "demo: generated (not official boundaries)"
KM_PER_DEGREE = 111.32
# Rings (radius in km) of the seed points, by kind of township, counted out from the urban core; the
# subdistricts fill the first ring, then the second.
RINGS = {
    AreaKind.SUBDISTRICT: (0.0, 1.6, 3.4),
    AreaKind.ZONE: (6.5,),
    AreaKind.TOWN: (11.0,),
    AreaKind.TOWNSHIP: (11.0,),
}
FIRST_RING = 5  # subdistricts on the first ring around the centre; the rest on the second


def _core() -> tuple[float, float]:
    """The urban core: the demo generator's busiest place (``generate.PLACES``)."""
    _name, lat, lon, *_rest = max(PLACES, key=lambda p: p[4])
    return lat, lon


def _offset(lat: float, lon: float, km: float, angle: float) -> shapely.Point:
    dlat = km * math.cos(angle) / KM_PER_DEGREE
    dlon = km * math.sin(angle) / (KM_PER_DEGREE * math.cos(math.radians(lat)))
    return shapely.Point(lon + dlon, lat + dlat)


def seed_points(townships: list[Area], county: shapely.Geometry, *, seed: int) -> dict[str, shapely.Point]:
    """A point inside ``county`` for each township, by kind: see the module's description."""
    rng = random.Random(f"{seed}:{county.centroid.wkt}")
    lat, lon = _core()
    if not county.contains(shapely.Point(lon, lat)):  # another county: its own middle
        point = county.representative_point()
        lat, lon = point.y, point.x
    by_ring: dict[float, list[Area]] = {}
    subdistricts = [t for t in townships if t.kind == AreaKind.SUBDISTRICT]
    for i, t in enumerate(subdistricts):
        radii = RINGS[AreaKind.SUBDISTRICT]
        ring = radii[0] if i == 0 else radii[1] if i <= FIRST_RING else radii[2]
        by_ring.setdefault(ring, []).append(t)
    for t in townships:
        if t.kind != AreaKind.SUBDISTRICT:
            by_ring.setdefault(RINGS.get(t.kind, RINGS[AreaKind.TOWN])[0], []).append(t)
    points: dict[str, shapely.Point] = {}
    for km, members in sorted(by_ring.items()):
        turn = rng.random() * 2 * math.pi
        for i, t in enumerate(sorted(members, key=lambda a: a.code)):
            angle = turn + 2 * math.pi * i / len(members)
            taken = {(p.x, p.y) for p in points.values()}
            # a point past the county's edge is drawn back towards the core until it is inside; in a
            # county too narrow for its ray, anywhere inside (two points at one place have no cells)
            for k in range(20, 0, -1):
                point = _offset(lat, lon, km * k / 20, angle)
                if county.contains(point) and (point.x, point.y) not in taken:
                    break
            else:
                point = _anywhere_inside(county, rng, taken)
            points[t.code] = point
    return points


def _anywhere_inside(county: shapely.Geometry, rng: random.Random, taken: set) -> shapely.Point:
    min_lon, min_lat, max_lon, max_lat = county.bounds
    for _ in range(100_000):
        point = shapely.Point(rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat))
        if county.contains(point) and (point.x, point.y) not in taken:
            return point
    raise ValueError("no room for another township's seed point in the county")


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of ``geom`` (an intersection may add lines or points along shared edges)."""
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    parts = [p for g in parts for p in shapely.get_parts(g)]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def township_outlines(
    townships: list[Area], county: shapely.Geometry, *, seed: int
) -> dict[str, shapely.Geometry]:
    """The county cut into one Voronoi cell per township's seed point, each cell clipped to the county."""
    points = seed_points(townships, county, seed=seed)
    codes = list(points)
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint([points[c] for c in codes]), extend_to=county, ordered=True
    )
    out = {}
    for code, cell in zip(codes, shapely.get_parts(cells), strict=True):
        clipped = geo.rounded(shapely.intersection(cell, county))
        if not clipped.is_valid:
            clipped = shapely.make_valid(clipped)
        out[code] = _polygonal(clipped)
    return out


@transaction.atomic
def generate_townships(*, seed: int, now: datetime) -> int:
    """Outline the townships of every county whose townships have no outline yet; the number outlined."""
    made = 0
    outlined = set(
        AreaBoundary.objects.filter(area__level=AreaLevel.TOWNSHIP).values_list("area__parent_id", flat=True)
    )
    townships: dict[int, list[Area]] = {}
    for t in Area.objects.filter(level=AreaLevel.TOWNSHIP, active=True).order_by("code"):
        if t.parent_id not in outlined:
            townships.setdefault(t.parent_id, []).append(t)
    for county_id, members in sorted(townships.items()):
        outline = (
            AreaBoundary.objects.filter(area_id=county_id, valid_to__isnull=True).order_by("-version").first()
        )
        if outline is None:
            continue
        county = geo.from_geojson_text(outline.geometry)
        shapes = (
            township_outlines(members, county, seed=seed) if len(members) > 1 else {members[0].code: county}
        )
        for t in members:
            area_boundary_set(
                area=t, geometry=shapes[t.code], source=SOURCE, now=now, valid_from=outline.valid_from
            )
            made += 1
    return made
