"""Vocabularies of the places app, declared once with translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AreaLevel(models.TextChoices):
    """Levels from the city down to the unit grid, in nesting order."""

    CITY = "city", _("city")
    COUNTY = "county", _("county-level unit")
    TOWNSHIP = "township", _("township-level unit")
    COMMUNITY = "community", _("community")
    GRID = "grid", _("unit grid cell")


# Nesting rank: a parent always has a smaller rank than its child.
LEVEL_RANK = {
    AreaLevel.CITY: 0,
    AreaLevel.COUNTY: 1,
    AreaLevel.TOWNSHIP: 2,
    AreaLevel.COMMUNITY: 3,
    AreaLevel.GRID: 4,
}


class AreaKind(models.TextChoices):
    """What kind of division an area is (informative; the level drives behaviour)."""

    CITY = "city", _("prefecture-level city")
    DISTRICT = "district", _("district")
    COUNTY = "county", pgettext_lazy("division kind", "county")
    SUBDISTRICT = "subdistrict", _("subdistrict")
    TOWN = "town", _("town")
    TOWNSHIP = "township", pgettext_lazy("division kind", "township")
    ZONE = "zone", _("development zone or management unit")
    COMMUNITY = "community", pgettext_lazy("division kind", "community")
    VILLAGE = "village", _("village")
    GRID = "grid", _("unit grid cell")


class AreaClass(models.TextChoices):
    """Area class used by some cities to vary time limits (e.g. A for the busiest streets)."""

    A = "A", _("class A")
    B = "B", _("class B")
    C = "C", _("class C")


class GridSource(models.TextChoices):
    """Where a located unit grid cell came from."""

    CITY = "city", _("city unit grid")
    H3 = "h3", _("H3 cell (resolution 10)")
