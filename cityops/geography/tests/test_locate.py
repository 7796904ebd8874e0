from datetime import UTC, datetime

import h3
import pytest
import shapely

from cityops.core.errors import DomainError, OutsideCity
from cityops.geography import reference
from cityops.geography.selectors import locate

pytestmark = pytest.mark.usefixtures("changzhi")


def county_outlines():
    data = reference.read_boundaries()
    return {
        f["properties"]["adcode"]: shapely.geometry.shape(f["geometry"])
        for f in data["features"]
        if f["properties"]["adcode"] != "140400"
    }


def test_a_point_in_luzhou():
    loc = locate(36.195, 113.117)
    assert loc.city == ("140400", "长治市")
    assert loc.county == ("140403", "潞州区")
    assert loc.county.code == "140403" and loc.county.name == "潞州区"
    assert loc.township is None and loc.community is None


def test_every_county_contains_its_interior_point():
    outlines = county_outlines()
    assert len(outlines) == 12
    for code, outline in outlines.items():
        p = outline.representative_point()
        assert locate(p.y, p.x).county.code == code


def test_beijing_is_rejected_clearly():
    with pytest.raises(OutsideCity) as exc:
        locate(39.904, 116.407)
    assert exc.value.code == "outside_city"
    assert exc.value.message == "The position (39.904, 116.407) is outside 长治市."


@pytest.mark.parametrize(
    ("lat", "lon"), [(91, 113), (-91, 113), (36, 181), (float("nan"), 113), (36, float("inf")), (None, 113)]
)
def test_invalid_coordinates_are_rejected(lat, lon):
    with pytest.raises(DomainError) as exc:
        locate(lat, lon)
    assert exc.value.code == "invalid_position"
    assert not isinstance(exc.value, OutsideCity)


def test_unit_grid_falls_back_to_h3_resolution_10():
    loc = locate(36.195, 113.117)
    assert loc.grid_source == "h3"
    assert h3.is_valid_cell(loc.grid) and h3.get_resolution(loc.grid) == 10
    assert loc.grid == h3.latlng_to_cell(36.195, 113.117, 10)


def test_a_point_on_a_county_border_gets_one_county_deterministically():
    outlines = county_outlines()
    luzhou = {tuple(c) for c in shapely.get_coordinates(outlines["140403"])}
    for code, outline in outlines.items():
        if code == "140403":
            continue
        shared = luzhou & {tuple(c) for c in shapely.get_coordinates(outline)}
        if shared:
            lon, lat = sorted(shared)[len(shared) // 2]
            answers = {locate(lat, lon).county.code for _ in range(3)}
            assert answers == {min(code, "140403")}
            return
    pytest.fail("潞州区 shares no vertex with a neighbour")


def test_locate_before_the_boundaries_existed_uses_the_reference_start():
    # The public outlines are valid since 2000, so old events can be placed.
    assert locate(36.195, 113.117, at=datetime(2010, 1, 1, tzinfo=UTC)).county.code == "140403"
    with pytest.raises(DomainError) as exc:
        locate(36.195, 113.117, at=datetime(1999, 1, 1, tzinfo=UTC))
    assert exc.value.code == "no_boundaries"


def test_repeated_calls_cost_no_queries(django_assert_num_queries):
    locate(36.195, 113.117)
    with django_assert_num_queries(0):
        for _ in range(100):
            locate(36.3, 113.0)
