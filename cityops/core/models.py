"""The editable working calendar: official days, covered years and daily work periods."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from cityops.core import worktime


class TimeUnit(models.TextChoices):
    """Units of a time limit, with the same values as ``worktime.Unit``."""

    WORK_HOUR = worktime.Unit.WORK_HOUR.value, _("working hours")
    WORK_DAY = worktime.Unit.WORK_DAY.value, _("working days")
    HOUR = worktime.Unit.HOUR.value, _("hours")
    DAY = worktime.Unit.DAY.value, _("days")
    MINUTE = worktime.Unit.MINUTE.value, _("minutes")


class CalendarSource(models.TextChoices):
    OFFICIAL = "official", _("Official schedule")
    MANUAL = "manual", _("Edited by hand")


class CalendarYear(models.Model):
    """A year of the calendar; ``official`` says its State Council schedule is complete.

    Years without an official row are judged Monday-Friday and flagged, so the admin adds next year
    here (or with ``core_calendar_import``) once the schedule is published.
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    official = models.BooleanField(
        _("official schedule complete"),
        default=False,
        help_text=_(
            "Tick once every holiday and make-up working day of the year is entered; until then the year "
            "counts as assumed (Monday to Friday) and staff are warned."
        ),
    )
    source = models.CharField(
        _("source"),
        max_length=200,
        blank=True,
        help_text=_("Where the days come from, e.g. the notice number."),
    )
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """A day that departs from Monday-Friday: a holiday, or a make-up working day (调休上班).

    Holidays falling on a weekend are kept too, so every day of a holiday carries its name.
    """

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(
        _("name"), max_length=60, blank=True, help_text=_("For example 春节 or 国庆节调休上班.")
    )
    source = models.CharField(
        _("source"), max_length=16, choices=CalendarSource.choices, default=CalendarSource.MANUAL
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.name}".strip()


class WorkSchedule(models.Model):
    """The daily work periods in force over a date range (open ends allowed).

    Where ranges overlap, the schedule that starts latest wins, so a summer schedule is simply a
    schedule with dates over the open-ended default.
    """

    name = models.CharField(_("name"), max_length=60)
    valid_from = models.DateField(_("valid from"), null=True, blank=True, help_text=_("Empty: since always."))
    valid_to = models.DateField(
        _("valid to"), null=True, blank=True, help_text=_("Empty: until further notice.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("work schedule")
        verbose_name_plural = _("work schedules")
        ordering = [models.F("valid_from").asc(nulls_first=True), "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("A schedule cannot end before it starts.")})
        # Two schedules starting on the same day would leave the winner to chance.
        same_start = WorkSchedule.objects.filter(valid_from=self.valid_from).exclude(pk=self.pk)
        if same_start.exists():
            raise ValidationError({"valid_from": _("Another schedule already starts on this date.")})


class WorkPeriod(models.Model):
    """One period of the working day, e.g. 08:30-12:00."""

    schedule = models.ForeignKey(
        WorkSchedule, verbose_name=_("schedule"), on_delete=models.CASCADE, related_name="periods"
    )
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        verbose_name = _("work period")
        verbose_name_plural = _("work periods")
        ordering = ["schedule", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="workperiod_start_before_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValidationError(
                _("A work period must end after it starts (periods cannot cross midnight).")
            )


class CalendarRevision(models.Model):
    """One row whose token changes on every calendar edit, so every process reloads its cached copy."""

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar revision")
        verbose_name_plural = _("calendar revisions")

    def __str__(self) -> str:
        return self.token
