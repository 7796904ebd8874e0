"""The pure index on synthetic squares: no database."""

import h3
import pytest
import shapely

from cityops.core.errors import DomainError, OutsideCity
from cityops.geography.spatial import AreaIndex, AreaRecord, Place, check_position

AREAS = {
    "C": AreaRecord("C", "City", "city"),
    "K1": AreaRecord("K1", "West", "county", "C", "B"),
    "K2": AreaRecord("K2", "East", "county", "C"),
    "T1": AreaRecord("T1", "Town 1", "township", "K1"),
    "T2": AreaRecord("T2", "Town 2", "township", "K2"),
    "M1": AreaRecord("M1", "Community 1", "community", "T1", "A"),
    "G1": AreaRecord("G1", "Cell 1", "grid", "M1"),
}
CITY = shapely.box(0, 0, 2, 1)
WEST, EAST = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)


def index(*extra):
    return AreaIndex(AREAS, [("C", CITY), ("K1", WEST), ("K2", EAST), *extra])


def test_county_and_h3_fallback():
    loc = index().locate(0.5, 0.5)
    assert loc.city == ("C", "City")
    assert loc.county == Place("K1", "West")
    assert (loc.township, loc.community) == (None, None)
    assert loc.grid_source == "h3"
    assert loc.grid == h3.latlng_to_cell(0.5, 0.5, 10)
    assert loc.area_class == "B"


def test_point_on_a_shared_border_gets_the_smaller_code():
    assert index().locate(0.5, 1.0).county.code == "K1"
    # ...whatever order the outlines come in.
    reordered = AreaIndex(AREAS, [("K2", EAST), ("C", CITY), ("K1", WEST)])
    assert reordered.locate(0.5, 1.0).county.code == "K1"


def test_outside_and_invalid():
    with pytest.raises(OutsideCity) as exc:
        index().locate(5, 5)
    assert "City" in exc.value.message
    for lat, lon in [(91, 0), (0, 181), (float("nan"), 0), (0, float("inf")), (None, 1), ("north", 1)]:
        with pytest.raises(DomainError) as exc:
            check_position(lat, lon)
        assert exc.value.code == "invalid_position"


def test_nothing_loaded():
    with pytest.raises(DomainError) as exc:
        AreaIndex(AREAS, []).locate(0.5, 0.5)
    assert exc.value.code == "no_boundaries"


def test_city_grid_cell_names_its_parents_and_class():
    cell = shapely.box(0.4, 0.4, 0.6, 0.6)
    loc = index(("G1", cell)).locate(0.5, 0.5)
    assert loc.grid == "G1" and loc.grid_source == "city"
    assert loc.community == ("M1", "Community 1")
    assert loc.township == ("T1", "Town 1")
    assert loc.area_class == "A"


def test_city_polygon_wins_over_public_county_outline_near_border():
    # Town 2 (of the east county) reaches slightly over the public border at x=1.
    town2 = shapely.box(0.98, 0, 1.5, 1)
    loc = index(("T2", town2)).locate(0.5, 0.99)
    assert loc.township.code == "T2"
    assert loc.county.code == "K2"


def test_sliver_between_counties_goes_to_the_nearest():
    gap_west, gap_east = shapely.box(0, 0, 0.99, 1), shapely.box(1.01, 0, 2, 1)
    idx = AreaIndex(AREAS, [("C", CITY), ("K1", gap_west), ("K2", gap_east)])
    assert idx.locate(0.5, 1.008).county.code == "K2"


def test_without_city_outline_the_counties_define_the_city():
    idx = AreaIndex(AREAS, [("K1", WEST), ("K2", EAST)])
    assert idx.locate(0.5, 1.5).county.code == "K2"
    with pytest.raises(OutsideCity):
        idx.locate(0.5, 2.5)
