"""What the case loop reads: conditions per code and urgency, staged limits, the fallback, the cache."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cityops.catalog.choices import Kind
from cityops.catalog.models import CaseStandard, CatalogType, StandardCondition, StandardDefault, StepLimit
from cityops.catalog.selectors import (
    catalog_type,
    condition_by_ref,
    conditions_for,
    default_limit,
    step_limit,
    type_list,
    type_search,
)


def summary(conds):
    return [(c.urgency, c.stage, c.limit, c.unit) for c in conds]


@pytest.mark.parametrize("kind", Kind.values)
def test_missing_manhole_cover_is_staged(loaded, kind):
    conds = conditions_for(kind, "01001", "urgent")
    assert summary(conds) == [
        ("urgent", "现场防护 (make safe)", Decimal("2"), "hour"),
        ("urgent", "修复 (repair)", Decimal("24"), "hour"),
    ]
    assert conds[0].filing_condition == "缺失、塌陷、危及人车安全"
    assert conds[0].ref == "S009#1" and conds[1].ref == "S009#2"
    assert conds[1].close_when == "井盖恢复完好"
    assert not any(c.fallback for c in conds)


def test_other_urgencies_of_the_covers(loaded):
    normal = conditions_for("matter", "01023", "normal")
    assert summary(normal) == [("normal", "", Decimal("2"), "work_day")]
    assert normal[0].filing_condition == "破损、松动、异响、高差"
    assert len(conditions_for("component", "01023")) == 3
    # 01013 消防设施 is not a cover: no standard, so the default applies
    assert conditions_for("matter", "01013", "urgent")[0].fallback


def test_staged_normal_conditions_in_order(loaded):
    conds = conditions_for("matter", "06001", "normal")
    assert [(c.stage, c.limit, c.unit) for c in conds] == [
        ("停工 (stop the construction)", Decimal("4"), "work_hour"),
        ("拆除 (removal)", Decimal("20"), "work_day"),
    ]
    assert conds[0].standard_file_when.startswith("无建筑规划许可证")
    assert conds[0].filing_condition == conds[0].standard_file_when


def test_a_code_with_two_standards(loaded):
    conds = conditions_for("matter", "03001", "normal")
    assert [(c.standard_key, c.limit, c.unit) for c in conds] == [
        ("S026", Decimal("2"), "work_hour"),
        ("S027", Decimal("2"), "work_day"),
    ]


def test_level_not_in_the_standard_uses_the_other_level(loaded):
    # 07001 only lists "normal"; an urgent case about it still follows that limit, not the lenient default
    assert summary(conditions_for("matter", "07001", "urgent")) == [("normal", "", Decimal("4"), "work_hour")]
    # 90003 only lists "urgent"
    assert summary(conditions_for("matter", "90003", "normal")) == [("urgent", "", Decimal("4"), "work_hour")]


def test_fallback_for_a_code_without_standard(loaded):
    conds = conditions_for("matter", "06002", "normal")
    assert len(conds) == 1 and conds[0].fallback
    assert (conds[0].limit, conds[0].unit, conds[0].ref) == (Decimal("5"), "work_day", "default#normal")
    assert summary(conditions_for("matter", "06002")) == [
        ("normal", "", Decimal("5"), "work_day"),
        ("urgent", "", Decimal("1"), "work_day"),
    ]
    StandardDefault.objects.filter(urgency="urgent").update(limit=4, unit="work_hour")
    StandardDefault.objects.first().save()  # a signal-less update plus a save: the version moves
    assert summary(conditions_for("matter", "06002", "urgent")) == [("urgent", "", Decimal("4"), "work_hour")]
    assert condition_by_ref("default#urgent").limit == Decimal("4")
    assert default_limit("urgent").unit == "work_hour"


def test_built_in_fallback_without_any_data(db):
    conds = conditions_for("matter", "01001", "urgent")
    assert summary(conds) == [("urgent", "", Decimal("1"), "work_day")]
    assert conds[0].fallback
    assert step_limit("accept") is None
    assert default_limit("normal").limit == Decimal("5")


def test_area_class_variants(loaded):
    std = CaseStandard.objects.get(key="S002")  # 06010 暴露垃圾: 4 work_hour, no class
    base = std.conditions.get()
    StandardCondition.objects.create(
        standard=std, order=2, urgency="normal", limit=2, unit="work_hour", area_class="A", close_when="x"
    )
    StandardCondition.objects.create(
        standard=std, order=3, urgency="normal", limit=8, unit="work_hour", area_class="C", close_when="y"
    )
    limits = lambda area: [c.limit for c in conditions_for("matter", "06010", "normal", area)]  # noqa: E731
    assert limits("A") == [2]
    assert limits("C") == [8]
    assert limits("B") == [base.limit]  # no B variant: the one without a class
    assert limits(None) == [base.limit]
    base.delete()
    assert limits(None) == [2]  # neither unclassed nor B: the first variant
    with pytest.raises(ValueError):
        conditions_for("matter", "06010", "normal", "Z")


def test_bad_arguments(loaded):
    with pytest.raises(ValueError):
        conditions_for("asset", "01001")
    with pytest.raises(ValueError):
        conditions_for("matter", "01001", "very")


def test_condition_by_ref_and_step_limits(loaded):
    cond = condition_by_ref("S009#2")
    assert (cond.stage, cond.limit, cond.unit) == ("修复 (repair)", Decimal("24"), "hour")
    assert condition_by_ref("S999#1") is None
    limit = step_limit("dispatch")
    assert (limit.limit, limit.unit) == (Decimal("30"), "minute")
    with pytest.raises(ValueError):
        step_limit("sleep")


def test_types(loaded):
    t = catalog_type("matter", "90001")
    assert t.name == "不文明养犬" and t.local and t.major == "90" and t.major_name == "本地扩展事项"
    assert catalog_type("component", "90001") is None
    assert catalog_type("matter", "01001").component == "01001"
    assert len(type_list("component")) == 153
    assert len(type_list("matter", public_only=True)) == 253
    assert type_list(public_only=True) == type_list("matter")
    CatalogType.objects.filter(kind="matter", code="10002").update(is_active=False)
    CatalogType.objects.get(kind="matter", code="10001").save()
    assert len(type_list("matter")) == 252
    assert len(type_list("matter", active_only=False)) == 253


def test_type_search(loaded):
    assert type_search("小广告", public_only=True)[0].code == "07001"
    assert {t.code for t in type_search("井盖", kind="matter", limit=50)} >= {"01001", "01002", "01023"}
    assert type_search("井盖丢了", kind="matter")[0].code.startswith("01")  # a phrase containing a keyword
    assert type_search("公厕", public_only=True)[0].code == "03001"
    assert type_search("0700", kind="matter")[0].code == "07001"
    assert type_search("  ") == []


def test_cache_is_one_query_and_follows_changes(loaded, settings):
    settings.CITYOPS_REFERENCE_RECHECK_SECONDS = 0  # check on every use
    conditions_for("matter", "07001")
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(20):
            conditions_for("matter", "07001", "normal")
    assert len(ctx) == 20  # the version check only
    cond = StandardCondition.objects.get(standard__key="S010")
    cond.limit = Decimal("6")
    cond.save()
    assert conditions_for("matter", "07001", "normal")[0].limit == Decimal("6")
    StepLimit.objects.filter(step="accept").delete()
    assert step_limit("accept") is None


def test_a_stale_copy_in_another_process_is_rebuilt(loaded, settings):
    settings.CITYOPS_REFERENCE_RECHECK_SECONDS = 0
    from cityops.catalog import cache

    conditions_for("matter", "07001")
    stale = cache._snapshot
    # Another process changed the data: the rows and the version move, this process got no signal.
    StandardCondition.objects.filter(standard__key="S010").update(limit=7)
    from cityops.catalog.models import CatalogVersion

    CatalogVersion.objects.filter(pk=1).update(number=stale.version + 1)
    cache._snapshot = stale
    assert conditions_for("matter", "07001", "normal")[0].limit == Decimal("7")
