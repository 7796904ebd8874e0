"""Polygon handling shared by the loader, the importer and the index: parse, round, fingerprint.

Pure: no ORM, no settings. Error messages are translated when raised, never at import.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import shapely
from django.utils.translation import gettext as _
from shapely.geometry import mapping, shape

# 7 decimals of a degree is about 1 cm: finer than any survey, coarse enough to make digests stable.
DECIMALS = 7
POLYGONAL = ("Polygon", "MultiPolygon")


class GeometryProblem(ValueError):
    """A geometry that cannot be used; the message is translated and names the problem."""


def parse_polygonal(geometry: object) -> shapely.Geometry:
    """Turn a GeoJSON geometry mapping into a valid, non-empty (Multi)Polygon in lon/lat degrees."""
    if not isinstance(geometry, dict):
        raise GeometryProblem(_("The feature has no geometry."))
    kind = geometry.get("type")
    if kind not in POLYGONAL:
        raise GeometryProblem(
            _("The geometry type %(type)s is not supported; use Polygon or MultiPolygon.") % {"type": kind}
        )
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, shapely.errors.GEOSException):
        raise GeometryProblem(_("The coordinates cannot be read.")) from None
    if geom.is_empty:
        raise GeometryProblem(_("The geometry is empty."))
    coords = shapely.get_coordinates(geom)
    if not np.all(np.isfinite(coords)):
        raise GeometryProblem(_("The coordinates contain values that are not numbers."))
    if np.any(np.abs(coords[:, 0]) > 180) or np.any(np.abs(coords[:, 1]) > 90):
        raise GeometryProblem(
            _("The coordinates are not longitude and latitude in degrees (projected coordinates?).")
        )
    return geom


def check_valid(geom: shapely.Geometry) -> None:
    """Refuse self-intersecting or otherwise invalid outlines, saying why and where."""
    if not geom.is_valid:
        raise GeometryProblem(
            _("The geometry is invalid: %(reason)s.") % {"reason": shapely.is_valid_reason(geom)}
        )


def rounded(geom: shapely.Geometry, decimals: int = DECIMALS) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: np.round(c, decimals))


def digest(geom: shapely.Geometry) -> str:
    """A fingerprint of the shape that ignores ring start points and orientation."""
    return hashlib.sha256(shapely.to_wkb(shapely.normalize(geom), hex=False)).hexdigest()


def to_geojson_text(geom: shapely.Geometry) -> str:
    return json.dumps(mapping(geom), separators=(",", ":"))


def from_geojson_text(text: str) -> shapely.Geometry:
    return shape(json.loads(text))


def bounds(geom: shapely.Geometry) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat)."""
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return float(min_lon), float(min_lat), float(max_lon), float(max_lat)


def format_coordinate(value: float) -> str:
    """Short human form of a degree value for messages: 39.904 rather than 39.90400000000001."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.6f}".rstrip("0").rstrip(".")
