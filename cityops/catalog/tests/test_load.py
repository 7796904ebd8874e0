"""catalog_load: every type of the reference files, idempotent, and a city's edits survive a reload."""

import io
from decimal import Decimal

import pytest
import yaml
from django.core.management import CommandError, call_command

from cityops.catalog.choices import Kind
from cityops.catalog.loaders import CATALOG_FILE, STANDARDS_FILE
from cityops.catalog.models import (
    CaseStandard,
    CatalogType,
    MajorClass,
    StandardCode,
    StandardCondition,
    StandardDefault,
    StepLimit,
)
from cityops.catalog.tests.conftest import dump, version

CATALOG = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
STANDARDS = yaml.safe_load(STANDARDS_FILE.read_text(encoding="utf-8"))


def load(*args) -> str:
    out = io.StringIO()
    call_command("catalog_load", *args, stdout=out)
    return out.getvalue()


def test_all_component_and_matter_types(loaded):
    components = CatalogType.objects.filter(kind=Kind.COMPONENT)
    matters = CatalogType.objects.filter(kind=Kind.MATTER)
    assert components.count() == 153
    assert matters.count() == 253 == len(CATALOG["matters"])
    assert set(matters.values_list("code", flat=True)) == {m["code"] for m in CATALOG["matters"]}
    assert set(components.values_list("code", flat=True)) == {c["code"] for c in CATALOG["components"]}
    # every item of the file with its name and major
    stored = {(t.kind, t.code): (t.name, t.major.code) for t in CatalogType.objects.select_related("major")}
    for kind, section in ((Kind.COMPONENT, "components"), (Kind.MATTER, "matters")):
        for item in CATALOG[section]:
            assert stored[(kind, item["code"])] == (item["name"], item["major"])


def test_majors_local_flags_and_component_links(loaded):
    assert MajorClass.objects.filter(kind=Kind.COMPONENT).count() == 5
    assert MajorClass.objects.filter(kind=Kind.MATTER).count() == 11
    assert list(MajorClass.objects.filter(local=True).values_list("kind", "code")) == [("matter", "90")]
    local = CatalogType.objects.filter(local=True).order_by("code")
    assert list(local.values_list("kind", "code")) == [
        ("matter", "90001"),
        ("matter", "90002"),
        ("matter", "90003"),
    ]
    assert all(t.note for t in local)
    # the 153 '<component>异常' matters point at their component of the same code
    linked = CatalogType.objects.filter(kind=Kind.MATTER, component__isnull=False).select_related("component")
    assert linked.count() == 153
    assert all(t.component.code == t.code and t.component.kind == Kind.COMPONENT for t in linked)
    cover = CatalogType.objects.get(kind=Kind.MATTER, code="01001")
    assert cover.name == "供水井盖异常" and cover.major.name == "市政公用设施类"


def test_public_flags_and_keywords(loaded):
    assert not CatalogType.objects.filter(kind=Kind.MATTER, is_public=False).exists()
    assert not CatalogType.objects.filter(kind=Kind.COMPONENT, is_public=True).exists()
    ads = CatalogType.objects.get(kind=Kind.MATTER, code="07001")
    assert "小广告" in ads.keyword_list
    for kind in Kind.values:
        assert "井盖" in CatalogType.objects.get(kind=kind, code="01002").keyword_list
    assert "公厕" in CatalogType.objects.get(kind=Kind.MATTER, code="03001").keyword_list
    assert "垃圾" in CatalogType.objects.get(kind=Kind.MATTER, code="06010").keyword_list


def test_standards_step_limits_and_defaults(loaded):
    assert CaseStandard.objects.count() == len(STANDARDS["standards"])
    assert StandardCondition.objects.count() == sum(len(s["conditions"]) for s in STANDARDS["standards"])
    assert StandardCode.objects.count() == sum(len(s["codes"]) for s in STANDARDS["standards"])
    covers = CaseStandard.objects.get(codes__code="01001")
    assert covers.key == "S009"
    assert covers.sources and covers.sources[0]["url"].startswith("http")
    assert [(c.urgency, c.limit, c.unit, c.stage) for c in covers.conditions.all()] == [
        ("urgent", Decimal("2.00"), "hour", "现场防护 (make safe)"),
        ("urgent", Decimal("24.00"), "hour", "修复 (repair)"),
        ("normal", Decimal("2.00"), "work_day", ""),
    ]
    snow = StandardCondition.objects.get(standard__codes__code="10001")
    assert snow.clock_starts == "when snowfall stops"
    steps = dict(StepLimit.objects.values_list("step", "unit"))
    assert steps == {
        "accept": "minute",
        "verify": "work_hour",
        "file": "minute",
        "dispatch": "minute",
        "check": "work_hour",
        "close": "work_hour",
    }
    assert StepLimit.objects.get(step="accept").limit == 10
    assert dict(StandardDefault.objects.values_list("urgency", "limit")) == {
        "normal": Decimal("5.00"),
        "urgent": Decimal("1.00"),
    }


def test_load_is_idempotent(db):
    first = load()
    assert "created 406" in first
    before, v = dump(with_ids=True), version()
    second = load()
    assert "created 0, updated 0, unchanged 406" in second
    assert dump(with_ids=True) == before
    assert version() == v  # nothing changed, so no cache is invalidated


def test_reload_keeps_city_edits_unless_forced(loaded):
    t = CatalogType.objects.get(kind=Kind.MATTER, code="07001")
    t.keywords, t.name, t.is_public = "贴小广告", "小广告（本市）", False
    t.save()
    cond = StandardCondition.objects.get(standard__key="S010")
    cond.limit = Decimal("8")
    cond.save()
    StepLimit.objects.filter(step="accept").update(limit=15)

    load()
    t.refresh_from_db()
    assert (t.keywords, t.name) == ("贴小广告", "小广告（本市）")
    assert StandardCondition.objects.get(standard__key="S010").limit == 8
    assert StepLimit.objects.get(step="accept").limit == 15

    out = load("--force")
    assert "updated 1" in out
    t.refresh_from_db()
    assert t.name == "非法小广告" and "小广告" in t.keyword_list
    assert t.is_public is False  # the city's choice of what citizens see is not in the files
    assert StandardCondition.objects.get(standard__key="S010").limit == 4
    assert StepLimit.objects.get(step="accept").limit == 10


def test_reload_adds_types_missing_from_the_database(loaded):
    CatalogType.objects.filter(kind=Kind.MATTER, code="90003").delete()
    out = load()
    assert "created 1" in out
    assert CatalogType.objects.filter(kind=Kind.MATTER, code="90003", local=True).exists()


def test_broken_file_changes_nothing(loaded, tmp_path):
    data = yaml.safe_load(STANDARDS_FILE.read_text(encoding="utf-8"))
    data["standards"][0]["conditions"][0]["unit"] = "fortnight"
    data["standards"][1]["codes"] = ["99999"]
    data["standards"][2]["conditions"][0]["deadline"] = "soon"
    bad = tmp_path / "standards.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = dump(with_ids=True)
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 problems"):
        call_command("catalog_load", "--force", "--standards", str(bad), stdout=io.StringIO(), stderr=err)
    text = err.getvalue()
    assert "standards.yaml: standards row 1 [conditions[1].unit]" in text
    assert "No catalogue type has the code 99999" in text
    assert "[conditions[1].deadline]: Unknown field." in text
    assert dump(with_ids=True) == before


def test_missing_file(db, tmp_path):
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem found"):
        call_command(
            "catalog_load", "--catalog", str(tmp_path / "nope.yaml"), stdout=io.StringIO(), stderr=err
        )
    assert "nope.yaml" in err.getvalue() and "Cannot read the file" in err.getvalue()
    assert not CatalogType.objects.exists()


def test_fixture_copies_match_the_shared_files():
    """The project's own copies must not drift from the reference data they were taken from."""
    from pathlib import Path

    shared = Path(__file__).resolve().parents[4] / "shared" / "data"
    if not shared.is_dir():
        pytest.skip("no ../shared beside this checkout")
    assert (shared / "catalog.yaml").read_bytes() == CATALOG_FILE.read_bytes()
    assert (shared / "case_standards.yaml").read_bytes() == STANDARDS_FILE.read_bytes()
