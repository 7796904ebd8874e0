"""Vocabularies of the facility registry and inspections, declared once with translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The catalogue code of public toilets (GB/T 47678.5 component 03001); stations are toilets too.
TOILET_TYPE_CODE = "03001"


class FacilityKind(models.TextChoices):
    """What a facility is. Toilets and stations first; other amenities join the same registry."""

    TOILET = "toilet", _("Public toilet")
    STATION = "station", _("Service station (长治驿站)")
    PARK = "park", _("Pocket park")
    FITNESS = "fitness", _("Fitness place")
    OTHER = "other", pgettext_lazy("facility kind", "Other amenity")


# Kinds that are public toilets (the finder, the 03001 identifier, 三无两有 inspections).
TOILET_KINDS = frozenset({FacilityKind.TOILET, FacilityKind.STATION})


class ToiletType(models.TextChoices):
    STANDALONE = "standalone", _("Standalone (独立式)")
    ATTACHED = "attached", _("Attached (附属式)")
    MOBILE = "mobile", _("Mobile (活动式)")


class ToiletClass(models.TextChoices):
    FIRST = "1", _("Class 1")
    SECOND = "2", _("Class 2")
    THIRD = "3", _("Class 3")


class StationService(models.TextChoices):
    """Services a station (驿站) offers besides its toilet."""

    WATER = "water", _("Drinking water")
    CHARGING = "charging", _("Phone charging")
    READING = "reading", _("Reading corner")
    REST = "rest", _("Rest area")


class InspectionStatus(models.TextChoices):
    """Where a facility stands against its inspection schedule."""

    NEVER = "never", _("Never inspected")
    LATE = "late", _("Late")
    DUE = "due", pgettext_lazy("inspection status", "Due")
    OK = "ok", _("Up to date")
