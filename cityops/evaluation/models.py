"""Evaluation data: one fact row per case, daily snapshots, and the configurable weights, grades and targets.

``CaseFact`` is derived state: ``services.fact_refresh`` rewrites it from the case and its events
whenever an event is recorded, and ``evaluation_rebuild_facts`` rebuilds it for every case. Nothing
else writes it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cityops.cases.choices import Kind, Rating, Source, State


def _step_person():
    """The person who answers for a step; indexed by a partial index (``fact_<name>`` in ``Meta``)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )


class CaseFact(models.Model):
    """What evaluation needs to know about one case: each clocked step's start, due time, end and actor.

    Steps: verification (public reports), filing (the first decision), dispatch (the first dispatch),
    handling (the last dispatch cycle), check (the last check) and closing (the last closing).
    """

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="fact", verbose_name=_("case")
    )
    number = models.CharField(_("case number"), max_length=20)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    type_code = models.CharField(_("type code"), max_length=5)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    county_code = models.CharField(_("county"), max_length=12)
    township_code = models.CharField(_("township"), max_length=12, blank=True)
    grid_code = models.CharField(_("grid cell"), max_length=32, blank=True)
    # The case's type name and position, kept here so the top types and the hotspots (on the dashboard
    # at every view, with today's thousands of reports) need no join with the cases. Nullable so that
    # adding them is an ALTER TABLE, not a copy of the whole table, on SQLite.
    type_name = models.CharField(_("type"), max_length=60, null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    department = models.ForeignKey(
        "organization.Department",
        verbose_name=_("responsible department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # led by fact_dept_handle
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    paused = models.BooleanField(_("clock paused"), default=False)

    reported_at = models.DateTimeField(_("reported"))
    reporter = _step_person()
    valid = models.BooleanField(_("valid report"), null=True, blank=True)

    verify_start = models.DateTimeField(null=True, blank=True)
    verify_due = models.DateTimeField(null=True, blank=True)
    verify_end = models.DateTimeField(null=True, blank=True)
    verify_done = models.BooleanField(default=False)
    verifier = _step_person()

    file_start = models.DateTimeField(null=True, blank=True)
    file_due = models.DateTimeField(null=True, blank=True)
    file_end = models.DateTimeField(null=True, blank=True)
    file_done = models.BooleanField(default=False)
    filer = _step_person()

    dispatch_start = models.DateTimeField(null=True, blank=True)
    dispatch_due = models.DateTimeField(null=True, blank=True)
    dispatch_end = models.DateTimeField(null=True, blank=True)
    dispatch_done = models.BooleanField(default=False)
    dispatcher = _step_person()
    returned = models.BooleanField(_("returned"), default=False)

    handle_start = models.DateTimeField(null=True, blank=True)
    handle_due = models.DateTimeField(null=True, blank=True)
    handle_end = models.DateTimeField(null=True, blank=True)
    handle_done = models.BooleanField(default=False)
    handle_paused = models.BooleanField(default=False)
    parked = models.BooleanField(default=False)
    handle_seconds = models.BigIntegerField(null=True, blank=True)
    rework_count = models.PositiveIntegerField(default=0)

    check_start = models.DateTimeField(null=True, blank=True)
    check_due = models.DateTimeField(null=True, blank=True)
    check_end = models.DateTimeField(null=True, blank=True)
    check_done = models.BooleanField(default=False)
    checker = _step_person()

    close_start = models.DateTimeField(null=True, blank=True)
    close_due = models.DateTimeField(null=True, blank=True)
    close_end = models.DateTimeField(null=True, blank=True)
    close_done = models.BooleanField(default=False)
    closer = _step_person()

    rating = models.CharField(_("satisfaction"), max_length=12, choices=Rating.choices, blank=True)
    version = models.PositiveIntegerField(default=0)
    case_updated_at = models.DateTimeField(null=True, blank=True)
    # The latest moment any counter compares with the time it is taken at (``metrics.AS_OF_FIELDS``):
    # from then until the fact is next written its counters are the same at every moment, so an ended
    # period's figures can be read from snapshots taken later (``selectors.dashboard_figures``).
    settles_at = models.DateTimeField(_("counters settle"), null=True, blank=True)
    # Whether the department of these facts (the last dispatch's) holds the case now: not while a
    # returned or reopened case waits for its next dispatch. The department's figures still count it,
    # its handlers no longer see it (``selectors.department_rows``). A default in the database too: a
    # process of the earlier release, during an upgrade, inserts facts without it.
    held = models.BooleanField(_("held by its department"), default=True, db_default=True)
    # The latest of the anchors (``metrics.ANCHORS``, the moments the counters' periods are taken
    # over): a fact counts in no period that starts after it (``metrics.relevant``).
    last_at = models.DateTimeField(_("latest step"), null=True, blank=True)

    class Meta:
        verbose_name = _("case fact")
        verbose_name_plural = _("case facts")
        # A new report leaves most step columns empty, and a column that is mostly empty at first is
        # indexed only where it is set: every condition on it (a period's range, a person, a
        # department) implies IS NOT NULL, so both databases use these partial indexes, and a report
        # writes 6 index entries for its fact instead of 21.
        indexes = [
            models.Index(fields=["reported_at"], name="fact_reported"),
            models.Index(fields=["state", "due_at"], name="fact_state_due"),
            models.Index(fields=["county_code", "reported_at"], name="fact_county_reported"),
            # the facts of an ended period that still moved after its end, read from the index alone
            # (``selectors.settled_after``): its first two columns are two ranges
            models.Index(
                fields=["settles_at", "reported_at", "case"],
                name="fact_settles",
                condition=Q(settles_at__isnull=False),
            ),
            # the facts of a recent period, whose number does not grow with the years (``last_at``)
            models.Index(fields=["last_at"], name="fact_last"),
            # the few facts whose department does not hold the case
            models.Index(fields=["department"], name="fact_unheld", condition=Q(held=False)),
            *(
                models.Index(fields=fields, name=name, condition=Q(**{f"{fields[0]}__isnull": False}))
                for fields, name in [
                    (["verify_start"], "fact_verify"),
                    (["file_start"], "fact_file_start"),
                    (["file_end"], "fact_file_end"),
                    (["dispatch_start"], "fact_dispatch_start"),
                    (["dispatch_end"], "fact_dispatch_end"),
                    (["handle_start"], "fact_handle_start"),
                    (["handle_end"], "fact_handle_end"),
                    (["check_start"], "fact_check"),
                    (["close_end"], "fact_close_end"),
                    (["department", "handle_start"], "fact_dept_handle"),
                    (["reporter"], "fact_reporter"),
                    (["verifier"], "fact_verifier"),
                    (["filer"], "fact_filer"),
                    (["dispatcher"], "fact_dispatcher"),
                    (["checker"], "fact_checker"),
                    (["closer"], "fact_closer"),
                ]
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ObjectKind(models.TextChoices):
    """What is evaluated; people are weighted by the role they are evaluated in."""

    CITY = "city", _("Whole city")
    DEPARTMENT = "department", _("Department")
    AREA = "area", _("Area")
    INSPECTOR = "inspector", _("Inspector")
    OPERATOR = "operator", _("Operator")
    DUTY_CHIEF = "duty_chief", _("Duty chief")
    DISPATCHER = "dispatcher", _("Dispatcher")


# The code of the city's second snapshot row of a day, every person's counters keyed by the person's key
# (``selectors.day_people``): one row a day, where a row per person would be hundreds. Under the city's
# kind, so that a reader of an earlier release (which reads the city row by its code and takes every
# other kind for a department or an area) never meets it.
PEOPLE = "people"


class MetricSnapshot(models.Model):
    """The counters of one day's cohorts and flows for one object, as known at ``computed_at``.

    ``counters`` holds one dict per kind of case, and ``_flips``: for each counter that grows with
    time alone (an open step passing its due time), the moments (UTC microseconds) at which it grows,
    so the counters can be brought forward to any later moment without reading the facts. The city
    row also keeps ``_types`` and ``_grids`` (the day's reports per problem type and grid cell) and
    ``_stock`` (the overdue stock, only seen live); a county row its townships' (``_townships``).
    ``SnapshotDay`` says whether a day is usable.
    """

    day = models.DateField(_("day"))
    object_kind = models.CharField(_("object kind"), max_length=12, choices=ObjectKind.choices)
    object_code = models.CharField(_("object code"), max_length=40)
    counters = models.JSONField(_("counters"), default=dict)
    version = models.PositiveIntegerField(_("formula version"))
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("metric snapshot")
        verbose_name_plural = _("metric snapshots")
        constraints = [
            models.UniqueConstraint(fields=["day", "object_kind", "object_code"], name="snapshot_unique"),
        ]
        indexes = [models.Index(fields=["object_kind", "object_code", "day"], name="snapshot_object_day")]


class SnapshotDay(models.Model):
    """Whether the snapshots of one day may stand in for the facts: one row per local day.

    Every write of a fact bumps ``changes`` on the days its anchors fall on (before and after the
    write); a computation records the value it started from in ``computed_changes``. The day's
    snapshots are usable while the two agree, the version and the shape are current and they were
    computed after the day ended. Reading ``changes`` before the facts makes a concurrent write look
    stale, never fresh.
    """

    day = models.DateField(_("day"), primary_key=True)
    changes = models.BigIntegerField(_("fact changes"), default=0)
    computed_changes = models.BigIntegerField(_("fact changes when computed"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed"), null=True, blank=True)
    version = models.PositiveIntegerField(_("formula version"), default=0)
    # What the snapshots hold (services.SNAPSHOT_SHAPE): a day computed by an older release lacks
    # what a newer one reads (the townships' and the people's counters), and is computed again. The
    # shape holds for the computation at ``shaped_at`` only: a process of an older release that
    # computes the day again sets ``computed_at`` and leaves both as they were.
    shape = models.PositiveSmallIntegerField(_("snapshot shape"), default=0)
    shaped_at = models.DateTimeField(_("shape computed"), null=True, blank=True)

    class Meta:
        verbose_name = _("snapshot day")
        verbose_name_plural = _("snapshot days")

    def __str__(self) -> str:
        return self.day.isoformat()


class FactCheck(models.Model):
    """When the timer last looked for stale facts, and by which rules (``services.facts_rebuild_stale``):
    its next look reads only the cases changed since. One row."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    started_at = models.DateTimeField(_("started"))
    # ``formulas.FORMULA_VERSION`` and ``services.STALE_RULES``: other rules read every case again
    rules = models.CharField(_("rules"), max_length=20)
    # the last look that read every case (``services.STALE_FULL_EVERY``)
    full_at = models.DateTimeField(_("every case read"), null=True, blank=True)

    class Meta:
        verbose_name = _("check of the facts")
        verbose_name_plural = _("checks of the facts")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} ({self.rules})"


class ScoreWeight(models.Model):
    """The weight of one indicator in the composite score of one kind of object."""

    object_kind = models.CharField(_("object kind"), max_length=12, choices=ObjectKind.choices)
    indicator = models.CharField(_("indicator"), max_length=40)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("score weight")
        verbose_name_plural = _("score weights")
        constraints = [
            models.UniqueConstraint(fields=["object_kind", "indicator"], name="score_weight_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.object_kind}:{self.indicator}={self.weight}"


class GradeThreshold(models.Model):
    """A grade and the lowest score that earns it (A >= 90 ... E below 40)."""

    grade = models.CharField(_("grade"), max_length=2, unique=True)
    min_score = models.DecimalField(_("lowest score"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("grade threshold")
        verbose_name_plural = _("grade thresholds")
        ordering = ["-min_score"]

    def __str__(self) -> str:
        return f"{self.grade} >= {self.min_score}"


class Target(models.Model):
    """A dated target of the city, shown as a live indicator on the leaders' dashboard."""

    key = models.SlugField(_("key"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    indicator = models.CharField(
        _("indicator"), max_length=60, help_text=_("Key of a registered indicator provider.")
    )
    target_value = models.DecimalField(_("target value"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    sort = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["sort", "key"]

    def __str__(self) -> str:
        return self.name
