"""Distances on the ground, pure: nearest toilets, duplicate reports, anything "within N metres".

Great-circle distance plus a bounding box that SQL can filter on with plain lat/lon indexes (no PostGIS).
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = 111_320.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bbox(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min lat, max lat, min lon, max lon) of a box that holds the circle of ``radius_m``."""
    dlat = radius_m / M_PER_DEG_LAT
    dlon = radius_m / (M_PER_DEG_LAT * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def lon_scale(lat: float) -> float:
    """cos(lat): the factor that makes a degree of longitude comparable to one of latitude."""
    return max(math.cos(math.radians(lat)), 0.01)
