from django import forms

from cityops.core.templatetags.cityops import select, unit_label


class F(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All"), ("a<b", "A & B"), ("c", "C")], required=False)


def test_select_marks_the_current_value_and_escapes():
    html = select(F({"kind": "a<b"})["kind"], **{"data-testid": "k"})
    assert html.startswith('<select name="kind" id="id_kind" data-testid="k">')
    assert '<option value="a&lt;b" selected>A &amp; B</option>' in html
    assert '<option value="c">C</option>' in html
    assert html.count(" selected") == 1


def test_select_reuses_its_markup_but_marks_each_current_value():
    first = select(F({"kind": "c"})["kind"])
    second = select(F({"kind": "a<b"})["kind"])
    blank = select(F({})["kind"])
    assert '<option value="c" selected>C</option>' in first and first.count(" selected") == 1
    assert '<option value="c">C</option>' in second and second.count(" selected") == 1
    assert '<option value="" selected>All</option>' in blank and blank.count(" selected") == 1


def test_unit_label_translates_known_units_and_passes_others():
    assert unit_label("work_hour") != "work_hour"
    assert unit_label("fortnight") == "fortnight"
