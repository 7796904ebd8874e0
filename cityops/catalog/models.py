"""The catalogue (GB/T 47678.5 component and matter types) and the city's case standards.

Both are reference data a city edits (admin, xlsx workbook); the case loop reads them through
``selectors`` (cached per process), never directly.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cityops.catalog.choices import AreaClass, Kind, Step, Urgency
from cityops.catalog.dataset import normalize_keywords
from cityops.core.models import TimeUnit

type_code_validator = RegexValidator(
    r"^(?!00)\d{2}(?!000)\d{3}$", _("Expected a 5-digit catalogue code, e.g. 01001.")
)
major_code_validator = RegexValidator(r"^(?!00)\d{2}$", _("Expected a 2-digit major class code, e.g. 01."))

LIMIT_VALIDATORS = [MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("999999.99"))]


class MajorClass(models.Model):
    """A major class (大类): the first two digits of a type code, separately for components and matters."""

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=2, validators=[major_code_validator])
    name = models.CharField(_("name"), max_length=100)
    local = models.BooleanField(_("local extension"), default=False)

    class Meta:
        verbose_name = _("major class")
        verbose_name_plural = _("major classes")
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="catalog_major_kind_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CatalogType(models.Model):
    """A component type or a matter type. Components and matters share codes, so the key is (kind, code)."""

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=5, validators=[type_code_validator], db_index=True)
    name = models.CharField(_("name"), max_length=100)
    major = models.ForeignKey(
        MajorClass, verbose_name=_("major class"), on_delete=models.PROTECT, related_name="types"
    )
    component = models.ForeignKey(
        "self",
        verbose_name=_("component"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="matters",
        limit_choices_to={"kind": Kind.COMPONENT},
        help_text=_("For a matter '<component> abnormal': the component type it is about."),
    )
    local = models.BooleanField(_("local extension"), default=False)
    note = models.TextField(_("note"), blank=True)
    is_public = models.BooleanField(
        _("shown to citizens"), default=True, help_text=_("Citizens can pick this type when they report.")
    )
    keywords = models.CharField(
        _("keywords"),
        max_length=500,
        blank=True,
        help_text=_("Words citizens type for this problem, separated by commas."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive types stay on old cases but cannot be chosen.")
    )

    class Meta:
        verbose_name = _("catalogue type")
        verbose_name_plural = _("catalogue types")
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="catalog_type_kind_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def keyword_list(self) -> list[str]:
        return [w for w in self.keywords.split(",") if w]

    def clean(self) -> None:
        self.keywords = normalize_keywords(self.keywords)
        errors = {}
        if self.major_id and self.major.kind != self.kind:
            errors["major"] = _("The major class belongs to the other kind.")
        if self.code and self.major_id and self.code[:2] != self.major.code:
            errors["code"] = _("The code must start with its major class code.")
        if self.component_id and self.kind != Kind.MATTER:
            errors["component"] = _("Only a matter refers to a component type.")
        if errors:
            raise ValidationError(errors)


class CaseStandard(models.Model):
    """One row of the city's 立结案标准: the catalogue codes it covers, when to file, and its conditions.

    A standard applies to its codes in both kinds: a case about component 01001 and a case about matter
    01001 (its '<component> abnormal' problem) follow the same standard.
    """

    key = models.CharField(
        _("key"),
        max_length=32,
        unique=True,
        help_text=_("The standard's number in the city's table, e.g. S001."),
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    topic = models.CharField(_("topic"), max_length=200)
    file_when = models.TextField(_("filing condition"), blank=True)
    note = models.TextField(_("note"), blank=True)
    sources = models.JSONField(
        _("sources"), default=list, blank=True, help_text=_("Where the values come from (address and text).")
    )

    class Meta:
        verbose_name = _("case standard")
        verbose_name_plural = _("case standards")
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return f"{self.key} {self.topic}"


class StandardCode(models.Model):
    """A catalogue code a standard covers, in both kinds; a plain code so an import can replace standards."""

    standard = models.ForeignKey(
        CaseStandard, verbose_name=_("standard"), on_delete=models.CASCADE, related_name="codes"
    )
    code = models.CharField(_("code"), max_length=5, validators=[type_code_validator], db_index=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("standard code")
        verbose_name_plural = _("standard codes")
        ordering = ["standard", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "code"], name="catalog_standard_code_unique")
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        if self.code and not CatalogType.objects.filter(code=self.code).exists():
            raise ValidationError({"code": _("No catalogue type has this code.")})


class StandardCondition(models.Model):
    """A filing condition with its handling limit at one urgency level and its closing condition.

    Several conditions of one standard at the same urgency with stage names are milestones of one case
    (make safe in 2 hours, then repair in 24), in ``order``.
    """

    standard = models.ForeignKey(
        CaseStandard, verbose_name=_("standard"), on_delete=models.CASCADE, related_name="conditions"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    file_when = models.TextField(_("filing condition of this level"), blank=True)
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    limit = models.DecimalField(_("limit"), max_digits=8, decimal_places=2, validators=LIMIT_VALIDATORS)
    unit = models.CharField(_("unit"), max_length=10, choices=TimeUnit.choices)
    close_when = models.TextField(_("closing condition"), blank=True)
    basis = models.CharField(_("basis"), max_length=200, blank=True)
    clock_starts = models.CharField(_("clock starts"), max_length=200, blank=True)
    area_class = models.CharField(_("area class"), max_length=1, choices=AreaClass.choices, blank=True)

    class Meta:
        verbose_name = _("standard condition")
        verbose_name_plural = _("standard conditions")
        ordering = ["standard", "order"]
        constraints = [models.UniqueConstraint(fields=["standard", "order"], name="catalog_condition_order")]

    def __str__(self) -> str:
        return f"{self.standard.key}#{self.order} {self.get_urgency_display()} {self.limit} {self.unit}"


class StepLimit(models.Model):
    """Time limit of one of the command centre's own steps (accept, verify, file, ...)."""

    step = models.CharField(_("step"), max_length=10, choices=Step.choices, unique=True)
    limit = models.DecimalField(_("limit"), max_digits=8, decimal_places=2, validators=LIMIT_VALIDATORS)
    unit = models.CharField(_("unit"), max_length=10, choices=TimeUnit.choices)

    class Meta:
        verbose_name = _("step limit")
        verbose_name_plural = _("step limits")
        ordering = ["step"]

    def __str__(self) -> str:
        return f"{self.get_step_display()} {self.limit} {self.unit}"


class StandardDefault(models.Model):
    """The handling limit for a catalogue code no standard covers, per urgency level."""

    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, unique=True)
    limit = models.DecimalField(_("limit"), max_digits=8, decimal_places=2, validators=LIMIT_VALIDATORS)
    unit = models.CharField(_("unit"), max_length=10, choices=TimeUnit.choices)

    class Meta:
        verbose_name = _("default limit")
        verbose_name_plural = _("default limits")
        ordering = ["urgency"]

    def __str__(self) -> str:
        return f"{self.get_urgency_display()} {self.limit} {self.unit}"


class CatalogVersion(models.Model):
    """A counter bumped on every change of the reference data, so each process knows its cache is stale."""

    number = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("catalogue version")
        verbose_name_plural = _("catalogue versions")

    def __str__(self) -> str:
        return str(self.number)
