"""Forms of the public pages: parse and allow-list what citizens send; no writes here."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cityops.cases.choices import Rating

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(value: str) -> str:
    """Digits only; a leading +86 or 86 is dropped (mainland mobile numbers)."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def mask_phone(value: str) -> str:
    """138****0001: enough for the reporter to recognise their number, useless to anyone else."""
    digits = normalize_phone(value)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


class PhoneField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return ""
        digits = normalize_phone(value)
        if not PHONE_RE.match(digits):
            raise forms.ValidationError(_("Enter an 11-digit mobile number, such as 13800000001."))
        return digits


class PublicReportForm(forms.Form):
    """A citizen's report. A position is required: a pin, GPS, typed coordinates, or the district."""

    type = forms.CharField(label=_("Problem type"), max_length=20)
    description = forms.CharField(label=_("What is the problem?"), max_length=2000, widget=forms.Textarea)
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180)
    address = forms.CharField(label=_("Address or landmark"), required=False, max_length=200)
    district = forms.CharField(label=_("District or county"), required=False, max_length=12)
    phone = PhoneField(label=_("Mobile number (for updates by SMS)"))
    anonymous = forms.BooleanField(label=_("Stay anonymous (no phone number)"), required=False)
    is_public = forms.BooleanField(label=_("Show my report on the public map"), required=False)
    # made when the form is shown and sent back with it: a second send of the same form (a double tap,
    # a retry on a weak connection) answers with the case the first made (``cases.ReportKey``)
    once = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, districts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.districts = dict(districts)

    def clean_district(self):
        code = self.cleaned_data.get("district", "")
        if code and code not in self.districts:
            raise forms.ValidationError(_("Choose a district from the list."))
        return code

    def clean(self):
        data = super().clean()
        lat, lon = data.get("lat"), data.get("lon")
        if (lat is None) != (lon is None):
            raise forms.ValidationError(_("Give both latitude and longitude, or neither."))
        if lat is None and not (data.get("district") and (data.get("address") or "").strip()):
            raise forms.ValidationError(
                _(
                    "We need to know where the problem is: put the pin on the map, use your GPS position, "
                    "or type the address and choose the district."
                ),
                code="position",
            )
        if data.get("anonymous"):
            data["phone"] = ""
        return data

    def type_parts(self) -> tuple[str, str]:
        kind, _sep, code = self.cleaned_data["type"].rpartition(":")
        return (kind or "matter"), code


class FollowForm(forms.Form):
    """ "Me too" on a nearby open case, with the phone from the report form (optional)."""

    follow = forms.CharField(max_length=20)
    phone = PhoneField()
    anonymous = forms.BooleanField(required=False)


class TrackForm(forms.Form):
    number = forms.RegexField(
        label=_("Case number"),
        regex=r"^\d{4}-\d{2}-\d{6}$",
        max_length=20,
        error_messages={"invalid": _("A case number looks like 2026-11-000123.")},
    )
    phone = PhoneField(label=_("Your mobile number (optional: shows your own details, rating and reopening)"))


class RateForm(forms.Form):
    rating = forms.ChoiceField(label=_("How satisfied are you with the result?"), choices=Rating.choices)
    comment = forms.CharField(label=_("Comment (seen by staff only)"), required=False, max_length=1000)


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why is the problem not solved?"), max_length=1000)


MAP_PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}
PUBLIC_STATE_GROUPS = {
    "received": _("Received"),
    "handling": _("Being handled"),
    "closed": pgettext_lazy("case state", "Closed"),
}


class MapFilterForm(forms.Form):
    """Allow-listed filters of the public map: type, area, state group, period (days)."""

    type = forms.CharField(required=False, max_length=5)
    area = forms.ChoiceField(label=_("Area"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    days = forms.ChoiceField(label=_("Period"), required=False)

    def __init__(self, data=None, *, areas=(), types=()):
        if data is not None and not data.get("days"):
            data = data.copy()
            data["days"] = "30"  # the default period, shown as chosen
        super().__init__(data)
        self.fields["area"].choices = [("", _("All areas")), *list(areas)]
        self.fields["state"].choices = [("", _("All states")), *list(PUBLIC_STATE_GROUPS.items())]
        self.fields["days"].choices = [
            ("7", _("Last 7 days")),
            ("30", _("Last 30 days")),
            ("90", _("Last 90 days")),
            ("365", _("Last year")),
        ]
        self.type_codes = {t.code for t in types}

    def clean_type(self):
        code = self.cleaned_data.get("type", "")
        return code if code in self.type_codes else ""

    def value(self, name, default=""):
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        value = self.cleaned_data.get(name)
        return default if value in (None, "") else value
