"""The workbook: export then import changes nothing; a bad workbook is rejected row by row, data intact."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from cityops.catalog.models import CaseStandard, CatalogType, StandardCondition, StepLimit
from cityops.catalog.selectors import conditions_for
from cityops.catalog.services import workbook_export, workbook_import
from cityops.catalog.tests.conftest import (
    cell_values,
    column,
    dump,
    find_row,
    header,
    open_book,
    save_book,
    sheet,
    version,
)


@pytest.fixture
def exported(loaded) -> bytes:
    return workbook_export()


def rejected(content: bytes) -> list[tuple]:
    """Import ``content``, expect a refusal and nothing changed; return each issue as a tuple."""
    before, v = dump(with_ids=True), version()
    result = workbook_import(content=content)
    assert not result.ok
    assert dump(with_ids=True) == before
    assert version() == v
    return [(i.sheet, i.row, i.column, i.message) for i in result.issues]


def test_export_then_import_changes_nothing(exported):
    before, v = dump(with_ids=True), version()
    result = workbook_import(content=exported)
    assert result.ok, result.issues
    assert result.changed == 0
    assert dump(with_ids=True) == before
    assert version() == v
    assert cell_values(workbook_export()) == cell_values(exported)


def test_export_layout(exported):
    wb = open_book(exported)
    assert [ws.title for ws in wb.worksheets] == [
        "说明 readme",
        "大类 majors",
        "类型 types",
        "标准 standards",
        "环节时限 step_limits",
        "默认时限 defaults",
    ]
    types = sheet(wb, "types")
    assert types.max_row == 1 + 406
    assert header(types, "code") == "代码 code"
    row = find_row(types, kind="matter", code="01001")
    assert types.cell(row=row, column=column(types, "component")).value == "01001"
    assert types.cell(row=row, column=column(types, "code")).number_format == "@"
    standards = sheet(wb, "standards")
    row = find_row(standards, key="S009", stage="修复 (repair)")
    assert standards.cell(row=row, column=column(standards, "limit")).value == 24
    assert standards.cell(row=row, column=column(standards, "unit")).value == "hour"
    assert standards.cell(row=row, column=column(standards, "codes")).value.startswith("01001, 01002")
    assert any("work_hour" in dv.formula1 for dv in standards.data_validations.dataValidation)


def test_a_city_replaces_the_standards(exported):
    wb = open_book(exported)
    ws = sheet(wb, "standards")
    # the bureau's own value for 小广告 and a brand-new standard for 06002 in place of the 路灯 row
    ws.cell(row=find_row(ws, key="S010"), column=column(ws, "limit")).value = 6
    r = find_row(ws, key="S025")
    for en, value in {
        "key": "C-01",
        "topic": "店面无证装修",
        "codes": "06002",
        "limit": 3,
        "unit": "work_day",
    }.items():
        ws.cell(row=r, column=column(ws, en)).value = value
    result = workbook_import(content=save_book(wb))
    assert result.ok, result.issues
    counts = result.counts["standards"]
    assert (counts.created, counts.updated, counts.deleted) == (1, 1, 1)
    assert not CaseStandard.objects.filter(key="S025").exists()
    assert conditions_for("matter", "07001", "normal")[0].limit == 6
    assert conditions_for("matter", "06002", "normal")[0].standard_key == "C-01"
    assert conditions_for("matter", "01037", "normal")[0].fallback
    assert CatalogType.objects.count() == 406


def test_dry_run_writes_nothing(exported):
    wb = open_book(exported)
    ws = sheet(wb, "step_limits")
    ws.cell(row=find_row(ws, step="accept"), column=column(ws, "limit")).value = 20
    before = dump(with_ids=True)
    result = workbook_import(content=save_book(wb), dry_run=True)
    assert result.ok and result.dry_run
    assert result.counts["step_limits"].updated == 1
    assert dump(with_ids=True) == before
    assert StepLimit.objects.get(step="accept").limit == 10


def test_a_workbook_with_only_the_standards_sheet(exported):
    wb = open_book(exported)
    for ws in list(wb.worksheets):
        if not ws.title.endswith("standards"):
            wb.remove(ws)
    CatalogType.objects.filter(kind="matter", code="07001").update(keywords="牛皮癣")
    result = workbook_import(content=save_book(wb))
    assert result.ok, result.issues
    assert set(result.counts) == {"standards"}
    assert CatalogType.objects.get(kind="matter", code="07001").keywords == "牛皮癣"


def test_a_hand_made_workbook(loaded):
    """Chinese headers and values, merged-cell style rows, codes typed as numbers: all understood."""
    wb = Workbook()
    ws = wb.active
    ws.title = "标准"
    ws.append(["标准编号", "主题", "代码", "立案条件", "紧急程度", "阶段", "时限", "单位", "结案条件"])
    ws.append(["A1", "井盖", "01001、01002", "井盖缺损", "紧急", "防护", 1, "自然时", "已设警示"])
    ws.append([None, None, None, None, "紧急", "修复", 12, "小时", "修复"])
    ws.append(["A1", None, None, None, "一般", None, 1.5, "工作日", "完好"])
    ws.append(["A2", "游商", 9001, None, "一般", None, 30, "分钟", "无游商"])
    types = wb.create_sheet("类型")
    types.append(["类别", "代码", "名称", "大类", "关键词"])
    types.append(["事项", "90004", "占道晾晒粮食", 90, "晒粮食，晾晒"])
    types.append(["matter", "07001", "乱贴小广告", "07", "小广告"])
    result = workbook_import(content=save_book(wb))
    assert result.ok, result.issues
    assert [(c.stage, c.limit, c.unit) for c in conditions_for("component", "01002")] == [
        ("防护", Decimal("1"), "hour"),
        ("修复", Decimal("12"), "hour"),
        ("", Decimal("1.5"), "work_day"),
    ]
    assert conditions_for("matter", "09001")[0].unit == "minute"
    new = CatalogType.objects.get(kind="matter", code="90004")
    assert (new.keywords, new.is_public, new.is_active, new.local) == ("晒粮食,晾晒", True, True, False)
    assert CaseStandard.objects.count() == 2
    # types that were not in the workbook are untouched; the ones given keep what the sheet did not say
    assert CatalogType.objects.count() == 407
    ads = CatalogType.objects.get(kind="matter", code="07001")
    assert (ads.name, ads.keywords, ads.is_public, ads.note) == ("乱贴小广告", "小广告", True, "")
    CatalogType.objects.filter(pk=ads.pk).update(is_public=False, note="本市")
    result = workbook_import(content=save_book(wb))
    ads.refresh_from_db()
    assert (ads.is_public, ads.note) == (False, "本市")
    assert result.counts["types"].unchanged == 2


def test_bad_cells_are_reported_by_row_and_column(exported):
    wb = open_book(exported)
    st = sheet(wb, "standards")
    unit_row = find_row(st, key="S002")
    st.cell(row=unit_row, column=column(st, "unit")).value = "weeks"
    limit_row = find_row(st, key="S003")
    st.cell(row=limit_row, column=column(st, "limit")).value = "two"
    neg_row = find_row(st, key="S004")
    st.cell(row=neg_row, column=column(st, "limit")).value = -1
    topic_row = find_row(st, key="S006")
    st.cell(row=topic_row, column=column(st, "topic")).value = None
    code_row = find_row(st, key="S007")
    st.cell(row=code_row, column=column(st, "codes")).value = "06017, 99999"
    urg_row = find_row(st, key="S008")
    st.cell(row=urg_row, column=column(st, "urgency")).value = "very"
    ty = sheet(wb, "types")
    fmt_row = find_row(ty, kind="matter", code="06002")
    ty.cell(row=fmt_row, column=column(ty, "code")).value = "0600X"
    first_dup = find_row(ty, kind="matter", code="06004")
    dup_row = find_row(ty, kind="matter", code="06005")
    ty.cell(row=dup_row, column=column(ty, "code")).value = "06004"
    link_row = find_row(ty, kind="matter", code="01037")
    ty.cell(row=link_row, column=column(ty, "component")).value = "06001"
    steps = sheet(wb, "step_limits")
    zero_row = find_row(steps, step="verify")
    steps.cell(row=zero_row, column=column(steps, "limit")).value = 0

    issues = rejected(save_book(wb))
    where = {(s, r, c) for s, r, c, _m in issues}
    std, typ, stp = "标准 standards", "类型 types", "环节时限 step_limits"
    assert (std, unit_row, "单位 unit") in where
    assert (std, limit_row, "时限 limit") in where
    assert (std, neg_row, "时限 limit") in where
    assert (std, topic_row, "主题 topic") in where
    assert (std, code_row, "代码 codes") in where
    assert (std, urg_row, "紧急程度 urgency") in where
    assert (typ, fmt_row, "代码 code") in where
    assert (typ, dup_row, "代码 code") in where
    assert (typ, link_row, "对应部件 component") in where
    assert (stp, zero_row, "时限 limit") in where
    assert len(issues) == 10
    messages = dict(((s, r), m) for s, r, _c, m in issues)
    assert "weeks" in messages[(std, unit_row)] and "work_hour" in messages[(std, unit_row)]
    assert messages[(std, limit_row)] == "The limit must be a number, got 'two'."
    assert messages[(std, neg_row)] == "The limit must be greater than zero."
    assert messages[(std, topic_row)] == "This cell is required."
    assert messages[(std, code_row)] == "No catalogue type has the code 99999."
    assert messages[(typ, dup_row)] == f"Duplicate: matter 06004 is also on row {first_dup}."
    assert messages[(typ, link_row)] == "06001 is not a component type of the catalogue."


def test_layout_problems(exported):
    wb = open_book(exported)
    stray = wb.create_sheet("Sheet1")
    stray["A1"] = "hello"
    st = sheet(wb, "standards")
    st.cell(row=1, column=column(st, "unit")).value = None  # the unit column loses its header
    ty = sheet(wb, "types")
    ty.cell(row=1, column=column(ty, "note")).value = "remarks"
    issues = rejected(save_book(wb))
    assert [i for i in issues if i[0] == "Sheet1"] == [
        (
            "Sheet1",
            None,
            "",
            "Unknown sheet: the sheets are "
            "大类 majors, 类型 types, 标准 standards, 环节时限 step_limits, 默认时限 defaults.",
        )
    ]
    assert ("标准 standards", 1, "单位 unit", "This column is missing.") in issues
    assert ("类型 types", 1, "remarks", "Unknown column.") in issues


def test_rows_of_a_standard_must_be_together(exported):
    wb = open_book(exported)
    st = sheet(wb, "standards")
    r = find_row(st, key="S003")
    st.cell(row=r, column=column(st, "key")).value = "S001"
    issues = rejected(save_book(wb))
    assert issues == [
        (
            "标准 standards",
            r,
            "标准编号 key",
            "The rows of standard S001 must be together (it starts on row 2).",
        )
    ]


def test_rows_of_one_standard_must_agree(exported):
    wb = open_book(exported)
    st = sheet(wb, "standards")
    second = find_row(st, key="S001", stage="拆除 (removal)")
    st.cell(row=second, column=column(st, "topic")).value = "别的主题"
    assert rejected(save_book(wb)) == [
        ("标准 standards", second, "主题 topic", "Differs from row 2 of the same standard.")
    ]


def test_duplicate_condition_and_bad_sources(exported):
    wb = open_book(exported)
    st = sheet(wb, "standards")
    second = find_row(st, key="S001", stage="拆除 (removal)")
    st.cell(row=second, column=column(st, "stage")).value = "停工 (stop the construction)"
    for r in (2, second):
        st.cell(row=r, column=column(st, "sources")).value = "not json"
    issues = rejected(save_book(wb))
    assert ("标准 standards", second, "紧急程度 urgency") in {i[:3] for i in issues}
    assert ("标准 standards", 2, "来源 sources") in {i[:3] for i in issues}


def test_not_a_workbook(loaded):
    assert rejected(b"PK\x03\x04 definitely not a zip") == [("", None, "", "This is not an xlsx workbook.")]
    assert rejected(b"") == [("", None, "", "This is not an xlsx workbook.")]
    empty = Workbook()
    empty.active.title = "说明 readme"
    assert rejected(save_book(empty)) == [("", None, "", "The workbook has none of the expected sheets.")]


def test_commands(exported, tmp_path):
    path = tmp_path / "standards.xlsx"
    out = io.StringIO()
    call_command("catalog_export_xlsx", str(path), stdout=out)
    assert path.read_bytes()[:2] == b"PK"
    out = io.StringIO()
    call_command("catalog_import_xlsx", str(path), "--dry-run", stdout=out)
    assert "Dry run" in out.getvalue()
    call_command("catalog_import_xlsx", str(path), stdout=io.StringIO())  # twice: idempotent
    out = io.StringIO()
    call_command("catalog_import_xlsx", str(path), stdout=out)
    assert "created 0, updated 0, unchanged 30, deleted 0" in out.getvalue()

    wb = open_book(path.read_bytes())
    st = sheet(wb, "standards")
    r = find_row(st, key="S002")
    st.cell(row=r, column=column(st, "unit")).value = "weeks"
    path.write_bytes(save_book(wb))
    err = io.StringIO()
    before = dump(with_ids=True)
    with pytest.raises(CommandError, match="1 problem found; nothing was changed"):
        call_command("catalog_import_xlsx", str(path), stdout=io.StringIO(), stderr=err)
    assert f"标准 standards row {r} [单位 unit]: Unknown value 'weeks'" in err.getvalue()
    assert dump(with_ids=True) == before
    with pytest.raises(CommandError):
        call_command("catalog_import_xlsx", str(tmp_path / "missing.xlsx"), stdout=io.StringIO())


def test_second_export_after_changes_is_stable(exported):
    """Edits through the ORM export and re-import to the same values."""
    cond = StandardCondition.objects.get(standard__key="S010")
    cond.limit, cond.area_class, cond.clock_starts = Decimal("2.5"), "A", "after 08:00"
    cond.save()
    t = CatalogType.objects.get(kind="matter", code="07001")
    t.keywords, t.is_public = "小广告,贴,涂", False
    t.save()
    again = workbook_export()
    before = dump(with_ids=True)
    assert workbook_import(content=again).changed == 0
    assert dump(with_ids=True) == before
    assert cell_values(workbook_export()) == cell_values(again)


def test_size_limits(exported, monkeypatch):
    from cityops.catalog import xlsx

    monkeypatch.setattr(xlsx, "MAX_UNPACKED_BYTES", 1000)
    assert rejected(exported) == [("", None, "", "The file is too large (at most 10 MB).")]
    monkeypatch.setattr(xlsx, "MAX_UNPACKED_BYTES", 200 * 1024 * 1024)
    monkeypatch.setattr(xlsx, "MAX_ROWS", 100)
    issues = rejected(exported)
    assert ("类型 types", 102, "", "Too many rows (at most 100).") in issues
