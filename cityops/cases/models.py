from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cityops.cases.choices import OPEN_STATES, Action, Kind, PhotoStage, Rating, Source, Stage, State, Urgency


class CaseQuerySet(models.QuerySet):
    def open(self):
        from cityops.cases.choices import OPEN_STATES

        return self.filter(state__in=OPEN_STATES)


class Case(models.Model):
    """One problem in the street, from report to closing. State changes only through ``services``."""

    number = models.CharField(_("case number"), max_length=20, unique=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    type_code = models.CharField(_("type code"), max_length=5)
    type_name = models.CharField(_("type"), max_length=60)
    condition_ref = models.CharField(_("filing condition"), max_length=40, blank=True)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    description = models.TextField(_("description"))
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    # Where the case was, fixed at intake: a redrawn boundary never moves an old case.
    county_code = models.CharField(_("county"), max_length=12)
    township_code = models.CharField(_("township"), max_length=12, blank=True)
    community_code = models.CharField(_("community"), max_length=16, blank=True)
    grid_code = models.CharField(_("grid cell"), max_length=32)
    area_class = models.CharField(_("area class"), max_length=1, blank=True)

    state = models.CharField(_("state"), max_length=12, choices=State.choices)
    department = models.ForeignKey(
        "organization.Department",
        verbose_name=_("responsible department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,  # led by case_dept_state; a second index would only cost every write
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned inspector"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspected_cases",
        db_index=False,  # led by case_inspector_state
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
    )

    # The clock: the current clocked step and its due time, plus the handling limit and its state.
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, blank=True)
    stage_started_at = models.DateTimeField(_("stage started"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    handle_limit = models.DecimalField(
        _("handling limit"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    handle_unit = models.CharField(_("handling limit unit"), max_length=10, blank=True)
    handle_due_at = models.DateTimeField(_("handling due"), null=True, blank=True)
    # Staged standards (make safe in 2 h, repair in 24 h): each milestone with its limit and due time.
    milestones = models.JSONField(_("milestones"), default=list, blank=True)
    paused_at = models.DateTimeField(_("clock paused since"), null=True, blank=True)
    extension_pending = models.BooleanField(_("extension pending"), default=False)
    extension_until = models.DateTimeField(_("extension requested until"), null=True, blank=True)
    overdue_noted_for = models.DateTimeField(null=True, blank=True, editable=False)

    rework_count = models.PositiveIntegerField(_("rework count"), default=0)
    return_count = models.PositiveIntegerField(_("return count"), default=0)
    urge_count = models.PositiveIntegerField(_("urge count"), default=0)
    followers = models.PositiveIntegerField(_("followers"), default=0)

    # The reporter's satisfaction after closing, and a request to reopen (goes to the duty chief).
    rating = models.CharField(_("satisfaction"), max_length=12, choices=Rating.choices, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)
    reopen_requested_at = models.DateTimeField(_("reopen requested"), null=True, blank=True)

    reporter_name = models.CharField(_("reporter name"), max_length=60, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=20, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
    )
    is_public = models.BooleanField(_("public"), default=True)
    # The secret in the reporter's private tracking link (shows private details of their own case).
    # Not indexed: it is only ever compared with the case found by its number (two indexes that every
    # report had to update, and no query used).
    tracking_token = models.CharField(max_length=32, blank=True, editable=False)

    reported_at = models.DateTimeField(_("reported"), db_index=True)
    filed_at = models.DateTimeField(_("filed"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"))

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["state", "-reported_at"], name="case_state_reported"),
            # work queues filtered by type (most queue pages are)
            models.Index(fields=["type_code", "state", "-reported_at"], name="case_type_state"),
            models.Index(fields=["department", "state", "-reported_at"], name="case_dept_state"),
            # a department's cases newest first: a handler's list, the department filter
            models.Index(fields=["department", "-reported_at"], name="case_dept"),
            models.Index(fields=["state", "due_at"], name="case_state_due"),
            # a queue of one state by number: the parked cases grow with the years (28,586 at 3M cases),
            # and SQLite read them all to sort a page (140 ms -> 0.3 ms)
            models.Index(fields=["state", "number"], name="case_state_number"),
            models.Index(fields=["county_code", "-reported_at"], name="case_county"),
            models.Index(fields=["type_code", "-reported_at"], name="case_type"),
            models.Index(fields=["inspector", "state"], name="case_inspector_state"),
            models.Index(fields=["updated_at"], name="case_updated"),
            # The duty chief's reopen requests: a few cases among the closed million, which the queue
            # read one by one (1M cases: 0.3-0.9 s).
            models.Index(
                fields=["-reported_at", "-id"],
                name="case_reopen_requested",
                condition=models.Q(reopen_requested_at__isnull=False),
            ),
            # A queue in deadline order: only the open cases have a deadline (``selectors.DUE_SORTS``).
            models.Index(fields=["due_at", "id"], name="case_due", condition=models.Q(due_at__isnull=False)),
            # Open311's open requests of a type, newest first: the few percent of public cases still open,
            # already in date order (1M cases, PostgreSQL: 13 ms of sorting the type's open cases ->
            # 0.1 ms). Staff queues carry no ``is_public`` condition, so they never pick it.
            models.Index(
                fields=["type_code", "-reported_at"],
                name="case_public_open_type",
                condition=models.Q(is_public=True, state__in=sorted(OPEN_STATES)),
            ),
        ]

    def __str__(self) -> str:
        return self.number


class CaseEvent(models.Model):
    """Append-only timeline and audit trail; never updated or deleted."""

    # led by event_case_at: no index of its own
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="events", db_index=False
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT
    )
    actor_name = models.CharField(_("actor name"), max_length=100, blank=True)
    from_state = models.CharField(_("from"), max_length=12, choices=State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=12, choices=State.choices, blank=True)
    department = models.ForeignKey(
        "organization.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    is_public = models.BooleanField(_("shown to the public"), default=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="event_case_at"),
            # Open311's feed of updates since a moment, polled by other systems: without it every
            # poll read all events (1M cases, 7.4M events: 0.5 s on PostgreSQL, 1.2 s on SQLite)
            models.Index(fields=["at", "id"], name="event_at"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("CaseEvent is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("CaseEvent is append-only")


def attachment_path(instance, filename):
    return f"cases/{instance.case.number[:7]}/{instance.case.number}/{instance.stage}-{filename}"


class Attachment(models.Model):
    """A photo of a case at one stage; metadata stripped before it is stored."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="attachments"
    )
    event = models.ForeignKey(
        CaseEvent,
        verbose_name=_("event"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="photos",
    )
    stage = models.CharField(_("stage"), max_length=10, choices=PhotoStage.choices)
    file = models.ImageField(_("file"), upload_to=attachment_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    is_public = models.BooleanField(_("public"), default=True)
    created_at = models.DateTimeField(_("uploaded"))

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["created_at", "id"]


class CaseCounter(models.Model):
    """Per-month sequence for human-readable case numbers (2026-11-000123)."""

    month = models.CharField(max_length=7, primary_key=True)
    last = models.PositiveIntegerField(default=0)


class DispatchRule(models.Model):
    """Catalogue type x area -> responsible department. The most specific matching rule wins."""

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, blank=True)
    type_code = models.CharField(
        _("type code"), max_length=5, blank=True, help_text=_("Empty: any type (a default for the area).")
    )
    area_code = models.CharField(
        _("area code"),
        max_length=12,
        blank=True,
        help_text=_("County or township code; empty: the whole city."),
    )
    department = models.ForeignKey(
        "organization.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("dispatch rule")
        verbose_name_plural = _("dispatch rules")
        constraints = [
            models.UniqueConstraint(fields=["kind", "type_code", "area_code"], name="dispatch_rule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.type_code or '*'} @ {self.area_code or '*'} -> {self.department}"


class ReportKey(models.Model):
    """The key a client sent with a report (the public form's one-time key, an API's
    ``Idempotency-Key``, scoped to who sent it): the same key again answers with the case it made
    instead of a second one (a double tap, a retry after an answer lost on a weak connection)."""

    key = models.CharField(_("key"), max_length=120, unique=True)
    case = models.OneToOneField(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("report key")
        verbose_name_plural = _("report keys")

    def __str__(self) -> str:
        return f"{self.case_id}"


class Follow(models.Model):
    """A reporter who gets a case's updates: the original reporter, merged duplicates' reporters, "me too"."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follows")
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    via_case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()


class LoopSettings(models.Model):
    """City-wide settings of the case loop, edited in the admin (one row)."""

    duplicate_radius_m = models.PositiveIntegerField(_("duplicate radius (m)"), default=50)
    duplicate_window_days = models.PositiveIntegerField(_("duplicate window (days)"), default=7)
    reopen_days = models.PositiveIntegerField(_("days a citizen may ask to reopen"), default=7)

    class Meta:
        verbose_name = _("case loop settings")
        verbose_name_plural = _("case loop settings")

    @classmethod
    def current(cls) -> "LoopSettings":
        return cls.objects.order_by("pk").first() or cls()
