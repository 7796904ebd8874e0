import math

import numpy as np
import pytest
import shapely

from cityops.geography.gcj02 import gcj02_to_wgs84, geometry_gcj02_to_wgs84, in_china, wgs84_to_gcj02


def metres(lon1, lat1, lon2, lat2):
    dy = (lat2 - lat1) * 111_320
    dx = (lon2 - lon1) * 111_320 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(113.117, 36.195), (116.407, 39.904), (121.47, 31.23), (87.6, 43.8), (113.26, 23.13), (126.6, 45.7)],
)
def test_round_trip_within_a_millimetre(lon, lat):
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    back_lon, back_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert metres(lon, lat, back_lon, back_lat) < 0.001


def test_offset_has_the_known_size_in_changzhi():
    # GCJ-02 shifts positions in China by a few hundred metres, mostly towards the east.
    g_lon, g_lat = wgs84_to_gcj02(113.117, 36.195)
    assert 100 < metres(113.117, 36.195, g_lon, g_lat) < 1000
    assert g_lon > 113.117


def test_outside_china_is_unchanged():
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(-74.0, 40.7) == (-74.0, 40.7)
    assert not in_china(2.35, 48.85)


def test_arrays_match_scalars():
    lons, lats = np.array([112.2, 113.1, 113.7]), np.array([36.0, 36.2, 37.1])
    a_lon, a_lat = gcj02_to_wgs84(lons, lats)
    for i in range(3):
        s_lon, s_lat = gcj02_to_wgs84(float(lons[i]), float(lats[i]))
        assert a_lon[i] == pytest.approx(s_lon, abs=1e-12)
        assert a_lat[i] == pytest.approx(s_lat, abs=1e-12)


def test_geometry_conversion_moves_every_vertex_back():
    wgs = shapely.box(113.0, 36.1, 113.2, 36.3)
    gcj = shapely.transform(wgs, lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1])))
    back = geometry_gcj02_to_wgs84(gcj)
    assert shapely.equals_exact(back, wgs, tolerance=1e-8)
