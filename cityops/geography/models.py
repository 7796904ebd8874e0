"""Areas (city down to unit grid cells) and their versioned boundaries."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cityops.geography.choices import AreaClass, AreaKind, AreaLevel


class Area(models.Model):
    """One division: the city, a county-level unit, a township, a community or a unit grid cell.

    The outline lives in ``AreaBoundary`` rows, so an area may exist without a polygon (the townships
    of the reference data) and a redrawn outline never changes what an older version said.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=AreaLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AreaKind.choices, blank=True)
    is_core = models.BooleanField(_("main city"), default=False, help_text=_("Part of the main urban area."))
    area_class = models.CharField(
        _("area class"),
        max_length=1,
        choices=AreaClass.choices,
        blank=True,
        help_text=_("Optional class that some time limits depend on."),
    )
    department_code = models.CharField(
        _("responsible department code"),
        max_length=32,
        blank=True,
        help_text=_("Code of the department responsible for this area, mainly for unit grid cells."),
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"], name="area_level_code")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class AreaBoundary(models.Model):
    """One version of an area's outline, valid from ``valid_from`` until ``valid_to`` (open if null).

    Geometry is GeoJSON text in WGS84 (no spatial database needed); the bounding box columns let a
    query skip far-away outlines without parsing them. ``digest`` identifies the shape so that an
    unchanged re-import writes nothing.
    """

    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="boundaries"
    )
    version = models.PositiveIntegerField(_("version"))
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    geometry = models.TextField(_("geometry (GeoJSON, WGS84)"))
    digest = models.CharField(_("shape digest"), max_length=64)
    min_lat = models.FloatField(_("south"))
    min_lon = models.FloatField(_("west"))
    max_lat = models.FloatField(_("north"))
    max_lon = models.FloatField(_("east"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("area boundary")
        verbose_name_plural = _("area boundaries")
        ordering = ["area__code", "version"]
        constraints = [
            models.UniqueConstraint(fields=["area", "version"], name="areaboundary_unique_version"),
            models.UniqueConstraint(
                fields=["area"], condition=Q(valid_to__isnull=True), name="areaboundary_one_current"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="areaboundary_valid_range",
            ),
        ]
        indexes = [models.Index(fields=["valid_from", "valid_to"], name="areaboundary_validity")]

    def __str__(self) -> str:
        return f"{self.area} v{self.version}"

    @property
    def is_current(self) -> bool:
        return self.valid_to is None
