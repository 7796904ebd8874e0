"""The demo city's generated township outlines: they tile their county, and cases fall into them."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import shapely
from django.core.management import call_command
from django.utils import timezone

from cityops.cases.models import Case
from cityops.demo.generate import PLACES
from cityops.demo.tests.test_generate import NOW, _forget_cases, _generate
from cityops.demo.townships import SOURCE, generate_townships
from cityops.geography import geometry as geo
from cityops.geography.models import Area, AreaBoundary
from cityops.geography.selectors import locate
from cityops.geography.services import area_boundary_set

pytestmark = pytest.mark.django_db


def _outlines() -> dict[str, tuple[shapely.Geometry, AreaBoundary]]:
    return {
        b.area.code: (geo.from_geojson_text(b.geometry), b)
        for b in AreaBoundary.objects.filter(area__level="township", valid_to__isnull=True).select_related(
            "area"
        )
    }


def _county(code: str) -> tuple[shapely.Geometry, AreaBoundary]:
    b = AreaBoundary.objects.get(area__code=code, valid_to__isnull=True)
    return geo.from_geojson_text(b.geometry), b


def test_every_township_of_luzhou_gets_an_outline_and_together_they_tile_the_county(world):
    assert generate_townships(seed=2026, now=timezone.now()) == 19
    outlines = _outlines()
    townships = set(
        Area.objects.filter(level="township", parent__code="140403").values_list("code", flat=True)
    )
    assert set(outlines) == townships and len(townships) == 19
    county, county_boundary = _county("140403")
    shapes = [g for g, _b in outlines.values()]
    for code, (geom, boundary) in outlines.items():
        assert geom.is_valid and geom.area > 0, code
        assert geom.difference(county).area < 1e-9, code  # inside the county (to the rounding)
        assert boundary.source == SOURCE and boundary.valid_from == county_boundary.valid_from
    # no gap, no overlap: the townships' areas add up to the county's, and so does their union
    assert abs(sum(g.area for g in shapes) - county.area) < 1e-8
    assert shapely.union_all(shapes).symmetric_difference(county).area < 1e-8
    # the subdistricts (街道) share the urban core: the demo's busiest places lie in several of them
    places = [locate(lat, lon) for _n, lat, lon, *_rest in PLACES]
    core = {p.township.code for p in places if p.county.code == "140403"}
    kinds = dict(Area.objects.filter(code__in=core).values_list("code", "kind"))
    assert len(core) >= 5 and set(kinds.values()) == {"subdistrict"}


def test_generating_again_changes_nothing_and_the_same_seed_gives_the_same_outlines(world):
    generate_townships(seed=7, now=timezone.now())
    first = {code: boundary.digest for code, (_g, boundary) in _outlines().items()}
    assert generate_townships(seed=7, now=timezone.now() + timedelta(days=1)) == 0
    assert {code: boundary.digest for code, (_g, boundary) in _outlines().items()} == first
    assert AreaBoundary.objects.filter(area__level="township").count() == 19
    # from scratch with the same seed: the same shapes; another seed: others
    AreaBoundary.objects.filter(area__level="township").delete()
    generate_townships(seed=7, now=timezone.now())
    assert {code: boundary.digest for code, (_g, boundary) in _outlines().items()} == first
    AreaBoundary.objects.filter(area__level="township").delete()
    generate_townships(seed=8, now=timezone.now())
    assert {code: boundary.digest for code, (_g, boundary) in _outlines().items()} != first


def test_a_county_with_an_outline_of_its_own_is_left_alone(world):
    """A city that imported one township's outline has its own GIS: nothing is generated beside it."""
    county, _b = _county("140403")
    own = county.intersection(shapely.box(113.10, 36.18, 113.13, 36.21))
    area_boundary_set(area=Area.objects.get(code="140403001"), geometry=own, source="city GIS", now=NOW)
    assert generate_townships(seed=2026, now=timezone.now()) == 0
    assert list(_outlines()) == ["140403001"]


def test_demo_cases_of_both_paths_lie_in_the_generated_townships(world):
    generate_townships(seed=2026, now=timezone.now())
    for bulk in (False, True):
        _forget_cases()
        _generate(bulk=bulk, count=40)
        in_luzhou = list(Case.objects.filter(county_code="140403").values_list("lat", "lon", "township_code"))
        assert len(in_luzhou) >= 20
        for lat, lon, township in in_luzhou:
            assert township == locate(lat, lon).township.code  # every report in 潞州区 has its township
        assert len({t for _la, _lo, t in in_luzhou}) >= 3


def test_the_demo_setup_outlines_the_townships_and_reference_only_does_not(world):
    call_command("demo_setup", "--reference-only", stdout=io.StringIO())
    assert not AreaBoundary.objects.filter(area__level="township").exists()
    out = io.StringIO()
    call_command("demo_setup", "--cases", "0", stdout=out)
    assert "demo township outlines: 19" in out.getvalue()
    assert AreaBoundary.objects.filter(area__level="township").count() == 19


@pytest.mark.parametrize("seed", range(8))
def test_a_county_too_narrow_for_the_rings_is_still_cut_into_one_cell_per_township(seed):
    """A ring's point past the county's edge is drawn back towards the core; in a strip too narrow for
    that, it lands anywhere inside, never on another point (two points at one place have no cells)."""
    from types import SimpleNamespace

    from cityops.demo.townships import township_outlines

    strip = shapely.box(113.0, 36.0, 113.3, 36.004)
    towns = [SimpleNamespace(code="s0", kind="subdistrict")]
    towns += [SimpleNamespace(code=f"t{i}", kind="town") for i in range(4)]
    outlines = township_outlines(towns, strip, seed=seed)
    assert set(outlines) == {t.code for t in towns}
    assert all(g.is_valid and g.area > 0 for g in outlines.values())
    assert abs(sum(g.area for g in outlines.values()) - strip.area) < 1e-9
