"""Forms of the staff workbench: parse and allow-list what people send; no writes here."""

from __future__ import annotations

import copy
import threading
from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cityops.cases.choices import Source, State, Urgency
from cityops.cases.selectors import QUEUES, SORTS, CaseFilters
from cityops.cases.services import extension_too_far
from cityops.core.templatetags.cityops import SharedChoices

PAGE_SIZES = (20, 50, 100)

QUEUE_LABELS = {
    "to_verify": _("To verify"),
    "to_file": _("To file"),
    "to_dispatch": _("To dispatch"),
    "in_handling": _("In handling"),
    "extensions": _("Extension requests"),
    "parked": _("Parked"),
    "to_check": _("To check"),
    "to_close": _("To close"),
    "reopen_requests": _("Reopen requests"),
    "overdue": _("Overdue"),
    "all": _("All cases"),
}
DEFAULT_PAGE_SIZE = 50
# The reporting days a filter may name (the web queue and the API). A day at the calendar's ends (year
# 1, year 9999) overflowed when turned into the bounds of the local day: a server error.
DAY_BOUNDS = (MinValueValidator(date(1900, 1, 1)), MaxValueValidator(date(2099, 12, 31)))


_SOURCES, _STATES = Source.choices, State.choices  # one list each (``.choices`` builds a new one)

# Choice lists with their blank first entry and their set of values, by (language, source list):
# the same source list (a snapshot's picker list) gives the same objects on every page, so neither
# is rebuilt and ``select`` keeps the options' markup on the list (``SharedChoices``).
_LISTS: dict[tuple, tuple[object, SharedChoices, frozenset]] = {}
_LISTS_MAX = 64


def _listed(blank, source) -> tuple[SharedChoices, frozenset]:
    key = (get_language(), id(source), str(blank) if blank is not None else None)
    hit = _LISTS.get(key)
    if hit is None or hit[0] is not source:  # the id of a list since freed may be reused
        head = [("", str(blank))] if blank is not None else []
        pairs = SharedChoices(head + [(str(v), label) for v, label in source])
        if len(_LISTS) >= _LISTS_MAX:
            _LISTS.pop(next(iter(_LISTS)))
        hit = _LISTS[key] = (source, pairs, frozenset(v for v, _label in pairs))
    return hit[1], hit[2]


class PairsChoiceField(forms.ChoiceField):
    """A choice field given plain (value, label) pairs, kept as given, checked against a set.

    The queue filters list some 500 types, areas and departments: Django's choice normalisation and
    its linear ``valid_value`` scan cost more than the rest of the form on every queue page. Lists
    set with ``set_listed`` are shared between pages (see ``_listed``)."""

    @property
    def choices(self):
        return self._choices

    @choices.setter
    def choices(self, value):
        pairs = [(str(v), label) for v, label in value]
        self._choices = self.widget._choices = pairs  # already in the normalised form
        self._values = {v for v, _label in pairs}

    def set_listed(self, source, *, blank=None) -> None:
        """``source`` pairs (after a blank entry labelled ``blank``), shared while ``source`` is."""
        pairs, values = _listed(blank, source)
        self._choices = self.widget._choices = pairs
        self._values = values

    def valid_value(self, value):
        return str(value) in self._values


_per_thread = threading.local()


def _thread_fields(form_class) -> dict:
    """The calling thread's own copy of a form class's declared fields, made once."""
    kept = _per_thread.__dict__.setdefault("fields", {})
    fields = kept.get(form_class)
    if fields is None:
        fields = kept[form_class] = copy.deepcopy(form_class.base_fields)
    return fields


class CaseFilterForm(forms.Form):
    """Queue, filters, search, sort and page of the case list; every key is allow-listed."""

    queue = PairsChoiceField(label=_("Queue"), required=False)
    type = PairsChoiceField(label=_("Type"), required=False)
    area = PairsChoiceField(label=_("Area"), required=False)
    department = PairsChoiceField(label=_("Department"), required=False)
    source = PairsChoiceField(label=_("Source"), required=False)
    state = PairsChoiceField(label=_("State"), required=False)
    date_from = forms.DateField(
        label=_("Reported from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=DAY_BOUNDS,
    )
    date_to = forms.DateField(
        label=_("Reported to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=DAY_BOUNDS,
    )
    q = forms.CharField(label=_("Number or text"), required=False, max_length=100)
    sort = PairsChoiceField(label=_("Sort"), required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)
    size = forms.TypedChoiceField(
        required=False, coerce=int, choices=[(n, n) for n in PAGE_SIZES], empty_value=DEFAULT_PAGE_SIZE
    )

    SORT_LABELS = {
        "-reported": _("Newest first"),
        "reported": _("Oldest first"),
        "due": _("Due soonest"),
        "-due": _("Due latest"),
        "number": _("Number ascending"),
        "-number": _("Number descending"),
    }

    # (value, label) of the sorts, one list (labels translate when shown)
    _sorts = list(zip(SORTS, map(SORT_LABELS.get, SORTS), strict=True))

    def __init__(self, data=None, *, types=(), areas=(), departments=(), queue_labels=None):
        """``types``, ``areas`` and ``departments`` are (code, label) pairs; the same list objects from
        one page to the next let the form and its markup be reused (``PairsChoiceField.set_listed``)."""
        # ``from`` and ``to`` are the public parameter names (``from`` is a keyword in Python).
        if data is not None:
            data = data.copy()
            for public, field in (("from", "date_from"), ("to", "date_to")):
                if public in data and field not in data:
                    data[field] = data[public]
            if not data.get("sort"):
                data["sort"] = "-reported"
        # Django deep-copies every declared field for each form (5% of a queue page). This form's
        # fields keep no state of a request once __init__ below has set their choices, so each thread
        # keeps one copy: Django copies an empty dict instead, and the thread's fields are put back.
        # So a form's fields are those of the last form made in its thread: one form per page.
        self.base_fields = {}
        super().__init__(data)
        del self.base_fields
        self.fields = _thread_fields(type(self))
        labels = queue_labels or {}
        self.fields["queue"].choices = [(k, labels.get(k, k)) for k in QUEUES]
        self.fields["type"].set_listed(types, blank=_("All types"))
        self.fields["area"].set_listed(areas, blank=_("All areas"))
        # one list per set of visible departments (organization.selectors.department_choices_for)
        self.fields["department"].set_listed(departments, blank=_("All departments"))
        self.fields["source"].set_listed(_SOURCES, blank=_("All sources"))
        self.fields["state"].set_listed(_STATES, blank=_("All states"))
        self.fields["sort"].set_listed(self._sorts)

    def value(self, name, default=""):
        """The cleaned value of a field, or ``default`` when it is missing or not allowed."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        value = self.cleaned_data.get(name)
        return default if value in (None, "") else value

    def filters(self) -> CaseFilters:
        return CaseFilters(
            queue=self.value("queue", "all"),
            type_code=self.value("type"),
            area=self.value("area"),
            department=self.value("department"),
            source=self.value("source"),
            state=self.value("state"),
            date_from=self.value("date_from", None),
            date_to=self.value("date_to", None),
            q=self.value("q"),
            sort=self.value("sort", "-reported"),
        )


class ActionForm(forms.Form):
    """One action on a case; the service decides which fields the action needs."""

    action = forms.CharField(max_length=20)
    note = forms.CharField(required=False, max_length=2000)
    reason = forms.CharField(required=False, max_length=2000)
    department = forms.CharField(required=False, max_length=40)
    original = forms.CharField(required=False, max_length=20)
    condition = forms.CharField(required=False, max_length=40)
    until = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    inspector = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)  # a key's range

    def clean_until(self):
        until = self.cleaned_data["until"]
        if extension_too_far(until, timezone.now()):
            raise forms.ValidationError(_("An extension may end at most a year from now."), code="until")
        return until


class ReportForm(forms.Form):
    """An inspector's report from the street."""

    type = forms.CharField(label=_("Problem type"), max_length=20)
    description = forms.CharField(label=_("Description"), max_length=2000, widget=forms.Textarea)
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    lon = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)

    def type_parts(self) -> tuple[str, str]:
        """``kind:code`` -> (kind, code); a bare code is a matter."""
        raw = self.cleaned_data["type"]
        kind, _sep, code = raw.rpartition(":")
        return (kind or "matter"), code
