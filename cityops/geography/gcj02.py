"""GCJ-02 <-> WGS84 conversion.

Chinese web maps (AutoNavi/Amap, Tencent, and the public boundary data this project derives from) publish
coordinates in GCJ-02, a deliberately offset datum; GPS receivers and everything we store use WGS84.
The forward offset is the published formula; the inverse has no closed form, so it is solved by
fixed-point iteration until the round trip agrees to well under a millimetre.

Functions take and return (lon, lat) in GeoJSON order and accept floats or numpy arrays. Pure: no ORM,
no settings.
"""

from __future__ import annotations

import numpy as np
import shapely

# Krasovsky 1940 ellipsoid, as used by the published formula.
_A = 6378245.0
_EE = 0.00669342162296594323

# Outside this rough box the offset is not applied (the formula's own convention).
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)


def _delta_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _delta_lon(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def in_china(lon, lat):
    """True where the offset applies (a coarse box, which is what the published formula uses)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon >= _CHINA_LON[0]) & (lon <= _CHINA_LON[1]) & (lat >= _CHINA_LAT[0]) & (lat <= _CHINA_LAT[1])


def _offset(lon, lat):
    x, y = lon - 105.0, lat - 35.0
    dlat, dlon = _delta_lat(x, y), _delta_lon(x, y)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _out(lon, lat, scalar: bool):
    return (float(lon), float(lat)) if scalar else (lon, lat)


def wgs84_to_gcj02(lon, lat):
    """WGS84 -> GCJ-02 by the published formula; returns (lon, lat)."""
    scalar = np.isscalar(lon) and np.isscalar(lat)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    return _out(lon + dlon, lat + dlat, scalar)


def gcj02_to_wgs84(lon, lat, *, tolerance: float = 1e-10, max_iterations: int = 30):
    """GCJ-02 -> WGS84 by iterating the forward formula; returns (lon, lat).

    The offset varies slowly (a few hundred metres over the country), so each step removes almost
    all of the remaining error; 1e-10 degrees is about 0.01 mm, reached in a handful of steps.
    """
    scalar = np.isscalar(lon) and np.isscalar(lat)
    g_lon, g_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iterations):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = np.asarray(f_lon) - g_lon, np.asarray(f_lat) - g_lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if max(np.max(np.abs(e_lon), initial=0.0), np.max(np.abs(e_lat), initial=0.0)) < tolerance:
            break
    return _out(w_lon, w_lat, scalar)


def geometry_gcj02_to_wgs84(geometry: shapely.Geometry) -> shapely.Geometry:
    """Convert every coordinate of a shapely geometry (x = lon, y = lat) from GCJ-02 to WGS84."""

    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, convert)
