"""The facility registry, inspection templates (data), inspections and the cases they opened.

Writes go through ``services``; the admin edits reference data (facilities, templates, items).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cityops.facilities.choices import FacilityKind, StationService, ToiletClass, ToiletType


class Facility(models.Model):
    """One amenity in the street: a public toilet, a station, later a park or a fitness place."""

    code = models.CharField(
        _("code"),
        max_length=17,
        unique=True,
        help_text=_("The 17-digit component identifier: county code, type code, 6-digit sequence."),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=10, choices=FacilityKind.choices, default=FacilityKind.TOILET
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    # Where the facility lies, fixed when it is saved (figures per district).
    county_code = models.CharField(_("county"), max_length=12, blank=True)
    township_code = models.CharField(_("township"), max_length=12, blank=True)

    toilet_type = models.CharField(_("toilet type"), max_length=12, choices=ToiletType.choices, blank=True)
    toilet_class = models.CharField(_("toilet class"), max_length=1, choices=ToiletClass.choices, blank=True)
    cubicles_male = models.PositiveSmallIntegerField(_("men's cubicles"), default=0)
    cubicles_female = models.PositiveSmallIntegerField(_("women's cubicles"), default=0)
    urinals = models.PositiveSmallIntegerField(_("urinals"), default=0)
    accessible = models.BooleanField(_("accessible cubicle"), default=False)
    third_washroom = models.BooleanField(_("third washroom"), default=False)
    opening_hours = models.CharField(
        _("opening hours"),
        max_length=120,
        default="06:00-22:00",
        help_text=_('"24h", "06:00-22:00" or "Mo-Fr 06:00-22:00; Sa-Su 07:00-21:00".'),
    )
    free = models.BooleanField(_("free of charge"), default=True)
    department = models.ForeignKey(
        "organization.Department",
        verbose_name=_("managing department"),
        on_delete=models.PROTECT,
        related_name="facilities",
    )
    inspection_interval_days = models.PositiveSmallIntegerField(
        _("inspect every (days)"),
        null=True,
        blank=True,
        help_text=_("Empty: the interval of the facility's inspection template."),
    )
    is_active = models.BooleanField(_("in service"), default=True)
    note = models.TextField(_("note"), blank=True)

    # Kept by the inspection service, so lists, the finder and the figures need no aggregation.
    last_inspection = models.ForeignKey(
        "Inspection",
        verbose_name=_("last inspection"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    last_inspected_at = models.DateTimeField(_("last inspected"), null=True, blank=True, editable=False)

    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["lat", "lon"], name="facility_lat_lon"),
            models.Index(fields=["kind", "is_active"], name="facility_kind_active"),
            models.Index(fields=["last_inspected_at"], name="facility_last_inspected"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_station(self) -> bool:
        return self.kind == FacilityKind.STATION

    @property
    def cubicles(self) -> int:
        return self.cubicles_male + self.cubicles_female


class FacilityService(models.Model):
    """A service of a station: planned when the row exists, ``in_place`` once it is there."""

    facility = models.ForeignKey(
        Facility, verbose_name=_("facility"), on_delete=models.CASCADE, related_name="services"
    )
    service = models.CharField(_("service"), max_length=10, choices=StationService.choices)
    in_place = models.BooleanField(_("in place"), default=False)

    class Meta:
        verbose_name = _("station service")
        verbose_name_plural = _("station services")
        ordering = ["facility", "service"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "service"], name="facility_service_once"),
        ]

    def __str__(self) -> str:
        return self.get_service_display()


class InspectionTemplate(models.Model):
    """A checklist for a kind of facility, with how often each facility must be inspected."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kinds = models.JSONField(
        _("facility kinds"), default=list, help_text=_('The kinds it applies to, e.g. ["toilet", "station"].')
    )
    interval_days = models.PositiveSmallIntegerField(_("inspect every (days)"), default=7)
    is_active = models.BooleanField(_("active"), default=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("inspection template")
        verbose_name_plural = _("inspection templates")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class ChecklistItem(models.Model):
    """One pass/fail item of a template. A failed item opens a case under ``condition_ref``."""

    template = models.ForeignKey(
        InspectionTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="items"
    )
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    core = models.BooleanField(
        _("counts for compliance"),
        default=True,
        help_text=_("Compliance: inspections with every such item passed, over all inspections."),
    )
    supplies = models.BooleanField(
        _("supplies item"), default=False, help_text=_("Soap and paper: counted in the supplies coverage.")
    )
    condition_ref = models.CharField(
        _("filing condition"),
        max_length=40,
        blank=True,
        help_text=_("The standard's condition a failure is filed under (e.g. S026#1); empty: the first."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["template", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["template", "key"], name="checklist_item_key_once")]

    def __str__(self) -> str:
        return self.name


class Inspection(models.Model):
    """One visit of an inspector to a facility, with a result per checklist item."""

    facility = models.ForeignKey(
        Facility, verbose_name=_("facility"), on_delete=models.PROTECT, related_name="inspections"
    )
    template = models.ForeignKey(
        InspectionTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="+"
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspector"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="facility_inspections",
    )
    inspector_name = models.CharField(_("inspector name"), max_length=100, blank=True)
    at = models.DateTimeField(_("time"))
    compliant = models.BooleanField(
        _("compliant"), help_text=_("Every item that counts for compliance passed.")
    )
    passed = models.BooleanField(_("all passed"))
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["facility", "-at"], name="inspection_facility_at"),
            models.Index(fields=["at"], name="inspection_at"),
        ]

    def __str__(self) -> str:
        return f"{self.facility.code} {self.at:%Y-%m-%d %H:%M}"


def result_photo_path(instance, filename):
    return f"inspections/{instance.inspection.at:%Y-%m}/{instance.inspection_id}-{filename}"


class InspectionResult(models.Model):
    """The result of one checklist item in one inspection."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="results"
    )
    item = models.ForeignKey(
        ChecklistItem, verbose_name=_("checklist item"), on_delete=models.PROTECT, related_name="results"
    )
    passed = models.BooleanField(_("passed"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    photo = models.ImageField(_("photo"), upload_to=result_photo_path, blank=True)
    issue = models.ForeignKey(
        "FacilityIssue",
        verbose_name=_("issue"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="results",
    )

    class Meta:
        verbose_name = _("inspection result")
        verbose_name_plural = _("inspection results")
        ordering = ["inspection", "item__order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"], name="inspection_result_once"),
        ]
        indexes = [models.Index(fields=["item", "passed"], name="result_item_passed")]


class FacilityIssue(models.Model):
    """A failed item of a facility and the case it opened, until an inspection finds it fixed."""

    facility = models.ForeignKey(
        Facility, verbose_name=_("facility"), on_delete=models.PROTECT, related_name="issues"
    )
    item = models.ForeignKey(
        ChecklistItem, verbose_name=_("checklist item"), on_delete=models.PROTECT, related_name="issues"
    )
    case_number = models.CharField(_("case number"), max_length=20, db_index=True)
    opened_at = models.DateTimeField(_("opened"))
    last_failed_at = models.DateTimeField(_("last failed"))
    fail_count = models.PositiveIntegerField(_("times failed"), default=1)
    # The item passed again while the department still held the case: noted, the case is left alone.
    passing_since = models.DateTimeField(_("passing since"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("facility issue")
        verbose_name_plural = _("facility issues")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "item"],
                condition=models.Q(resolved_at__isnull=True),
                name="facility_issue_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facility.code} {self.item.name} {self.case_number}"
