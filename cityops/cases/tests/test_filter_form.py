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
        a, b = _form("type=07001"), _form("type=bogus")
        assert a.fields["type"].choices is b.fields["type"].choices  # shared, not rebuilt
        assert a.fields["type"].choices[0] == ("", "全部类型")
        assert a.filters().type_code == "07001"
        assert not b.is_valid() and "type" in b.errors
        html = select(a["type"])
        assert '<option value="07001" selected>07001 小广告</option>' in html
        blank = select(_form("")["type"])  # the shared markup was not changed by the first page
        assert '<option value="" selected>' in blank and '"07001" selected' not in blank
    with translation.override("en"):
        en = _form("type=06010")
        assert en.fields["type"].choices is not a.fields["type"].choices
        assert en.fields["type"].choices[0] == ("", "All types")
        assert '<option value="06010" selected>' in select(en["type"])
    # a changed catalogue is a new source list: its entries are used at once
    changed = [*TYPES, ("09001", "09001 道路破损")]
    with translation.override("zh-hans"):
        form = _form("type=09001", types=changed)
        assert form.filters().type_code == "09001"
        assert "09001 道路破损" in select(form["type"])
