"""The queue filter form shares its long choice lists between pages, per language and source list,
and still validates and marks the chosen value exactly as before."""

from __future__ import annotations

from django.http import QueryDict
from django.utils import translation

from cityops.cases.forms import QUEUE_LABELS, CaseFilterForm
from cityops.core.templatetags.cityops import select

TYPES = [("07001", "07001 小广告"), ("06010", "06010 暴露垃圾")]
AREAS = [("140403", "潞州区")]


def _form(query: str, types=TYPES) -> CaseFilterForm:
    return CaseFilterForm(
        QueryDict(query), types=types, areas=AREAS, departments=[("D1", "市政")], queue_labels=QUEUE_LABELS
    )


def test_lists_are_shared_per_language_and_source_and_still_validate():
    with translation.override("zh-hans"):
        a = _form("type=07001")
        zh_types = a.fields["type"].choices
        assert a.filters().type_code == "07001"
        b = _form("type=bogus")
        assert b.fields["type"].choices is zh_types  # shared, not rebuilt
        assert zh_types[0] == ("", "全部类型")
        assert not b.is_valid() and "type" in b.errors
        html = select(a["type"])
        assert '<option value="07001" selected>07001 小广告</option>' in html
        blank = select(_form("")["type"])  # the shared markup was not changed by the first page
        assert '<option value="" selected>' in blank and '"07001" selected' not in blank
    with translation.override("en"):
        en = _form("type=06010")
        assert en.fields["type"].choices is not zh_types
        assert en.fields["type"].choices[0] == ("", "All types")
        assert '<option value="06010" selected>' in select(en["type"])
    # a changed catalogue is a new source list: its entries are used at once
    changed = [*TYPES, ("09001", "09001 道路破损")]
    with translation.override("zh-hans"):
        form = _form("type=09001", types=changed)
        assert form.filters().type_code == "09001"
        assert "09001 道路破损" in select(form["type"])


def test_fields_are_made_once_per_thread_and_set_for_each_form():
    import threading

    first = CaseFilterForm(QueryDict("department=D1"), departments=[("D1", "市政")])
    assert first.is_valid() and first.filters().department == "D1"
    second = CaseFilterForm(QueryDict("department=D1"), departments=[("D2", "园林")])
    assert second.fields is first.fields  # not deep-copied again
    assert second.fields["department"].choices[1:] == [("D2", "园林")]  # this person's departments
    assert not second.is_valid() and "department" in second.errors  # D1 is not among them
    assert second.errors is not first.errors and first.errors == {}
    assert CaseFilterForm.base_fields["department"] is not second.fields["department"]

    other: list = []
    t = threading.Thread(target=lambda: other.append(CaseFilterForm(QueryDict("")).fields))
    t.start()
    t.join()
    assert other[0] is not first.fields and other[0].keys() == first.fields.keys()
