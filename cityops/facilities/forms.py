"""Forms of the facility pages: list filters, the inspection checklist, the registry upload, the finder."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cityops.facilities.choices import FacilityKind, InspectionStatus

PASS, FAIL = "pass", "fail"


class FacilityFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=60)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    county = forms.ChoiceField(label=_("District"), required=False)
    department = forms.ChoiceField(label=_("Managing department"), required=False)
    status = forms.ChoiceField(label=_("Inspection"), required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def __init__(self, *args, counties=(), departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All")), *FacilityKind.choices]
        self.fields["county"].choices = [("", _("All")), *[(a.code, a.name) for a in counties]]
        self.fields["department"].choices = [("", _("All")), *[(d.code, d.name) for d in departments]]
        self.fields["status"].choices = [("", _("All")), *InspectionStatus.choices]

    def value(self, name, default=None):
        if not self.is_bound or not hasattr(self, "cleaned_data"):
            return default
        v = self.cleaned_data.get(name)
        return default if v in (None, "") else v


class InspectionForm(forms.Form):
    """One pass/fail choice, note and photo per checklist item (fields ``item-<key>``, ...)."""

    note = forms.CharField(
        label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"item-{item.key}"] = forms.ChoiceField(
                label=item.name, choices=[(PASS, _("Pass")), (FAIL, _("Fail"))], initial=PASS
            )
            self.fields[f"note-{item.key}"] = forms.CharField(required=False, max_length=500)
            self.fields[f"photo-{item.key}"] = forms.ImageField(required=False)

    def rows(self):
        """(item, choice value, note field, photo field) for the template."""
        out = []
        for item in self.items:
            value = self[f"item-{item.key}"].value() or PASS
            out.append(
                {
                    "item": item,
                    "value": value,
                    "note": self[f"note-{item.key}"].value() or "",
                    "errors": self[f"item-{item.key}"].errors,
                }
            )
        return out


class RegistryUploadForm(forms.Form):
    file = forms.FileField(label=_("Registry workbook (xlsx)"))


class FinderForm(forms.Form):
    lat = forms.FloatField(required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(required=False, min_value=-180, max_value=180)
    open = forms.BooleanField(label=_("Open now"), required=False)
    accessible = forms.BooleanField(label=_("Accessible cubicle"), required=False)
    third_washroom = forms.BooleanField(label=_("Third washroom"), required=False)
    free = forms.BooleanField(label=_("Free"), required=False)
