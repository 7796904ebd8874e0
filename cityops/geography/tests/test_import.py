import io
import json

import numpy as np
import pytest
import shapely
from django.core.management import CommandError, call_command
from django.utils import timezone
from shapely.geometry import mapping

from cityops.core.errors import DomainError
from cityops.geography.gcj02 import wgs84_to_gcj02
from cityops.geography.models import Area, AreaBoundary
from cityops.geography.selectors import locate
from cityops.geography.services import area_boundary_set, area_retire, area_upsert

pytestmark = pytest.mark.usefixtures("changzhi")

# Small generated polygons inside 潞州区 around (36.195 N, 113.117 E).
EAST_STREET = shapely.box(113.10, 36.18, 113.13, 36.21)
WEST_STREET = shapely.box(113.07, 36.18, 113.10, 36.21)
POINT = (36.195, 113.117)


def feature(geom, **props):
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def run_import(tmp_path, features, *args, name="polygons.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("geography_import", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def townships(east=EAST_STREET):
    return [
        feature(east, code="140403001", name="东街街道"),
        feature(WEST_STREET, code="140403002", name="西街街道"),
    ]


def test_an_imported_township_is_returned_by_locate(tmp_path):
    assert locate(*POINT).township is None
    out, _ = run_import(tmp_path, townships(), "--level", "township")
    assert "boundary versions added: 2" in out
    loc = locate(*POINT)
    assert loc.township == ("140403001", "东街街道")
    assert loc.county.code == "140403"
    assert locate(36.195, 113.08).township.code == "140403002"
    # The townships existed without polygons: no new areas, parent derived from the county outline.
    assert Area.objects.filter(level="township").count() == 19
    assert Area.objects.get(code="140403001").parent.code == "140403"


def test_reimporting_the_same_file_writes_nothing(tmp_path):
    run_import(tmp_path, townships(), "--level", "township")
    before = list(AreaBoundary.objects.values_list("id", "valid_to"))
    out, _ = run_import(tmp_path, townships(), "--level", "township")
    assert "added: 0, unchanged: 2" in out
    assert list(AreaBoundary.objects.values_list("id", "valid_to")) == before


def test_a_redrawn_boundary_is_a_new_version_and_old_moments_keep_the_old_one(tmp_path):
    run_import(tmp_path, townships(), "--level", "township")
    before = timezone.now()
    # 东街街道 is redrawn smaller: the test point now falls outside it.
    run_import(tmp_path, townships(east=shapely.box(113.12, 36.18, 113.13, 36.21)), "--level", "township")
    versions = list(AreaBoundary.objects.filter(area__code="140403001").order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].valid_to == versions[1].valid_from and versions[1].valid_to is None
    assert AreaBoundary.objects.filter(area__code="140403002").count() == 1
    assert locate(*POINT, at=before).township.code == "140403001"
    assert locate(*POINT).township is None
    assert locate(36.195, 113.125).township.code == "140403001"


def test_errors_are_listed_per_feature_and_nothing_is_written(tmp_path):
    bowtie = shapely.Polygon([(113.10, 36.18), (113.12, 36.20), (113.12, 36.18), (113.10, 36.20)])
    features = [
        feature(EAST_STREET, code="140403001", name="东街街道"),
        feature(WEST_STREET, name="no code"),
        feature(bowtie, code="T3", name="bowtie"),
        feature(shapely.box(116.40, 39.90, 116.41, 39.91), code="T4", name="Beijing"),
        feature(WEST_STREET, code="T5", name="orphan", parent_code="999999"),
        feature(WEST_STREET, code="140403001", name="twice"),
        {
            "type": "Feature",
            "properties": {"code": "T7", "name": "a point"},
            "geometry": mapping(shapely.Point(1, 1)),
        },
        feature(WEST_STREET, code="140404", name="a county's code"),
        feature(WEST_STREET, code="T9", name="wrong parent", parent_code="140431"),
    ]
    areas, boundaries = Area.objects.count(), AreaBoundary.objects.count()
    with pytest.raises(CommandError, match="problems found; nothing was imported"):
        run_import(tmp_path, features, "--level", "township")
    assert Area.objects.count() == areas
    assert AreaBoundary.objects.count() == boundaries
    assert locate(*POINT).township is None


def test_error_messages_name_the_feature(tmp_path):
    features = [
        feature(EAST_STREET, code="140403001", name="东街街道"),
        feature(WEST_STREET, name="no code"),
        feature(shapely.box(116.40, 39.90, 116.41, 39.91), code="T4", name="Beijing"),
    ]
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("geography_import", str(path), "--level", "township", stderr=err, stdout=io.StringIO())
    lines = err.getvalue().splitlines()
    assert "Feature 2: the property code (code) is missing." in lines
    assert "Feature 3 (T4): the polygon lies outside 长治市." in lines
    assert not any(line.startswith("Feature 1") for line in lines)


def test_every_kind_of_problem_is_reported(tmp_path):
    bowtie = shapely.Polygon([(113.10, 36.18), (113.12, 36.20), (113.12, 36.18), (113.10, 36.20)])
    features = [
        feature(bowtie, code="T3", name="bowtie"),
        feature(WEST_STREET, code="T5", name="orphan", parent_code="999999"),
        feature(WEST_STREET, code="T6", name="dup"),
        feature(WEST_STREET, code="T6", name="dup again"),
        {
            "type": "Feature",
            "properties": {"code": "T7", "name": "a point"},
            "geometry": mapping(shapely.Point(1, 1)),
        },
        feature(WEST_STREET, code="140404", name="a county's code"),
        feature(WEST_STREET, code="T9", name="wrong parent", parent_code="140431"),
        feature(WEST_STREET, code="T10", name="bad class", area_class="Z"),
        feature(WEST_STREET, code="T11"),
    ]
    err = io.StringIO()
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(CommandError):
        call_command("geography_import", str(path), "--level", "township", stderr=err, stdout=io.StringIO())
    text = err.getvalue()
    assert "Feature 1 (T3): the geometry is invalid: Self-intersection" in text
    assert "Feature 2 (T5): the parent area 999999 does not exist." in text
    assert "Feature 4 (T6): the code appears more than once in the file." in text
    assert "Feature 5 (T7): the geometry type Point is not supported" in text
    assert "Feature 6 (140404): the code already belongs to an area of level county-level unit." in text
    assert "Feature 7 (T9): the polygon lies outside its parent 沁源县." in text
    assert "Feature 8 (T10): the area class Z is not one of A, B, C." in text
    assert "Feature 9 (T11): the property name (name) is missing." in text
    assert "Feature 3" not in text


def test_gcj02_coordinates_are_converted(tmp_path):
    gcj = shapely.transform(EAST_STREET, lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1])))
    run_import(tmp_path, [feature(gcj, code="140403001", name="东街街道")], "--level", "township", "--gcj02")
    stored = shapely.from_geojson(AreaBoundary.objects.get(area__code="140403001").geometry)
    assert shapely.equals_exact(shapely.normalize(stored), shapely.normalize(EAST_STREET), tolerance=1e-6)


def test_communities_and_grid_cells_fill_in_their_parents(tmp_path):
    community = shapely.box(113.11, 36.19, 113.12, 36.20)
    run_import(
        tmp_path,
        [feature(community, code="140403001001", name="某社区", parent_code="140403001")],
        "--level",
        "community",
        name="c.geojson",
    )
    cell = shapely.box(113.116, 36.194, 113.118, 36.196)
    run_import(
        tmp_path,
        [feature(cell, code="G-0001", name="网格0001", area_class="A", department_code="LZ-CG")],
        "--level",
        "grid",
        name="g.geojson",
    )
    loc = locate(*POINT)
    # No township polygons: the township comes from the community's parent.
    assert loc.township == ("140403001", "东街街道")
    assert loc.community == ("140403001001", "某社区")
    assert (loc.grid, loc.grid_source, loc.area_class) == ("G-0001", "city", "A")
    cell_area = Area.objects.get(code="G-0001")
    assert cell_area.parent.code == "140403001001" and cell_area.department_code == "LZ-CG"
    # Outside the city grid the H3 cell serves.
    assert locate(36.195, 113.113).grid_source == "h3"


def import_errors(tmp_path, features, *args) -> str:
    path = tmp_path / "rejected.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("geography_import", str(path), *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def test_parent_code_option_is_checked(tmp_path):
    assert "The parent area 999999 does not exist." in import_errors(
        tmp_path, townships(), "--level", "township", "--parent-code", "999999"
    )
    assert "The parent area 140403002 is not above this level." in import_errors(
        tmp_path,
        [feature(EAST_STREET, code="X", name="x")],
        "--level",
        "township",
        "--parent-code",
        "140403002",
    )


def test_parent_code_option_with_a_community(tmp_path):
    out, _ = run_import(
        tmp_path,
        [feature(shapely.box(113.11, 36.19, 113.12, 36.20), code="C1", name="社区一")],
        "--level",
        "community",
        "--parent-code",
        "140403001",
    )
    assert "Areas created: 1" in out
    assert Area.objects.get(code="C1").parent.code == "140403001"


def test_a_new_version_cannot_start_before_the_current_one(tmp_path):
    run_import(tmp_path, townships(), "--level", "township")
    area = Area.objects.get(code="140403001")
    with pytest.raises(DomainError) as exc:
        area_boundary_set(
            area=area,
            geometry=shapely.box(113.12, 36.18, 113.13, 36.21),
            source="test",
            now=timezone.now(),
            valid_from=timezone.now() - timezone.timedelta(days=1),
        )
    assert exc.value.code == "boundary_start"


def test_unreadable_files(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("geography_import", str(path), "--level", "township")
    path.write_text(json.dumps({"type": "Polygon", "coordinates": []}))
    with pytest.raises(CommandError, match="problem found"):
        call_command("geography_import", str(path), "--level", "township", stderr=io.StringIO())


def test_valid_from_option_dates_the_redraw(tmp_path):
    run_import(tmp_path, townships(), "--level", "township", "--valid-from", "2026-01-01")
    first = AreaBoundary.objects.get(area__code="140403001")
    assert first.valid_from.isoformat().startswith("2025-12-31T16:00")  # midnight in Asia/Shanghai
    with pytest.raises(CommandError, match="must be a date"):
        run_import(tmp_path, townships(), "--level", "township", "--valid-from", "soon")


def test_retiring_an_area_keeps_its_history(tmp_path):
    run_import(tmp_path, townships(), "--level", "township")
    before = timezone.now()
    area_retire(area=Area.objects.get(code="140403001"), now=timezone.now())
    assert locate(*POINT).township is None
    assert locate(*POINT, at=before).township.code == "140403001"
    assert not Area.objects.get(code="140403001").active


def test_a_parent_must_be_at_a_higher_level():
    township = Area.objects.get(code="140403001")
    with pytest.raises(DomainError) as exc:
        area_upsert(code="140403", name="潞州区", level="county", parent=township)
    assert exc.value.code == "invalid_parent"
