import pytest

from cityops.organization.loaders import TreeError, load_departments
from cityops.organization.models import Department
from cityops.organization.services import department_upsert


def test_load_is_idempotent(departments):
    n = Department.objects.count()
    assert n == len(departments) > 60
    load_departments()
    assert Department.objects.count() == n


def test_tree_has_bureaus_districts_street_offices_and_utilities(departments):
    assert departments["CGJ"].name == "长治市城市管理局"
    for code in ("ZJJ", "GZJ", "JTJ"):
        assert departments[code].kind == "city_bureau"
    assert departments["LZ-CGJ"].parent.code == "LZ-GOV"
    assert departments["LZ-001"].kind == "street_office"
    assert {d.code for d in departments.values() if d.kind == "utility"} >= {
        "U-WATER",
        "U-GAS",
        "U-HEAT",
        "U-POWER",
    }
    assert departments["LZ-001"].path == "/LZ-GOV/LZ-001/"


def test_moving_a_department_moves_its_subtree(departments):
    department_upsert(
        code="LZ-GOV", name="潞州区人民政府", kind="district_government", parent=departments["CENTRE"]
    )
    assert Department.objects.get(code="LZ-001").path == "/CENTRE/LZ-GOV/LZ-001/"


def test_bad_tree_file_is_rejected_with_its_place(tmp_path, db):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "departments:\n  - {code: A, name: 甲, kind: centre}\n  - {code: A, name: 乙, kind: moon}\n"
    )
    with pytest.raises(TreeError, match=r"departments\[2\]: unknown kind"):
        load_departments(bad)
    assert not Department.objects.exists()
