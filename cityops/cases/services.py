"""Every write to a case: intake (``case_report``) and one executor for every action (``case_act``).

The recipe of every state change: lock the row, check the transition table, apply, recompute the
due times through the pure ``deadlines`` module, append a ``CaseEvent``, save with ``update_fields``,
and queue notifications in the outbox inside the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.cases import deadlines, workflow
from cityops.cases.choices import (
    CLOCK_STATES,
    OPEN_STATES,
    Action,
    Kind,
    PhotoStage,
    Source,
    Stage,
    State,
    Urgency,
)
from cityops.cases.models import (
    Attachment,
    Case,
    CaseCounter,
    CaseEvent,
    DispatchRule,
    Follow,
    LoopSettings,
    ReportKey,
)
from cityops.cases.workflow import ActorFacts, CaseFacts
from cityops.catalog import selectors as catalog
from cityops.core.calendar import load_calendar
from cityops.core.db import count_up, insert, one_or_none, pipelined
from cityops.core.errors import DomainError, NotAllowed
from cityops.core.files import files_removed_on_failure, stored
from cityops.core.images import CleanImage, clean_image
from cityops.geography.distance import bbox, haversine_m
from cityops.geography.selectors import locate
from cityops.notifications.services import notification_queue
from cityops.organization.choices import Role
from cityops.organization.models import Department
from cityops.organization.selectors import members_with_role, memberships_of, roles_of, sees_whole_city

# Reports from the centre's own people are already verified; public ones need an inspector first.
VERIFIED_SOURCES = frozenset({Source.INSPECTOR, Source.INSPECTION, Source.SUPERIOR})
MAX_PHOTOS = 9
# How far ahead an extension may end: the working time to a deadline is counted day by day on every
# page that shows it, and one in year 9999 overflowed the calendar on each of them.
MAX_EXTENSION = timedelta(days=366)


def extension_too_far(until: datetime | None, now: datetime) -> bool:
    return until is not None and until > now + MAX_EXTENSION


# ------------------------------------------------------------------------------------------------
# helpers


def _next_number(now: datetime, *, draw: tuple = ()) -> tuple:
    """The month's next number (``core.db.count_up``), then the keys of the models ``draw`` names: the
    counter row's lock lasts until the drawing transaction commits, so two reports can never draw the
    same number."""
    month = timezone.localtime(now).strftime("%Y-%m")
    counted = count_up(CaseCounter, "last", month=month, draw=draw)
    count, *keys = counted if draw else (counted,)
    return (f"{month}-{count:06d}", *keys)


def _number_ahead(now: datetime) -> tuple[str, int, int] | None:
    """On a database that locks rows (PostgreSQL), the report's number, drawn and committed on its own.

    Drawn inside the intake's transaction, the counter's row lock was held through the inserts of the
    case, its event and its fact and the commit: two thirds of a report's time, during which every
    other report waited (PostgreSQL intake stalled at ~270 reports/s with a fifth of the CPU idle). In
    a transaction of its own the lock lasts one statement. The price: a report that fails after this
    point (a database error; every check of the input runs before) leaves its number unused. SQLite
    takes its write lock for the whole intake transaction anyway, where a second commit would only
    cost time: there the number is drawn inside (None here).

    The upsert runs in autocommit, a transaction of one statement: one round trip where an atomic
    block took three (BEGIN, the upsert, COMMIT). Inside a caller's transaction it simply joins it, and
    the lock lasts until that transaction ends, as before. The same statement draws the keys of the
    case and of its first event, so the intake's inserts need no answer from each other and go in one
    round trip (``core.db.pipelined``). Returns the number and the two keys.
    """
    if connection.vendor == "sqlite":
        return None
    return _next_number(now, draw=(Case, CaseEvent))


def _step_due(stage: Stage, start: datetime):
    limit = catalog.step_limit(stage.value) if stage is not Stage.HANDLE else None
    if limit is None:
        return None
    return deadlines.due(start, limit.limit, limit.unit, load_calendar())


def _enter_stage(case: Case, stage: Stage | None, now: datetime) -> None:
    case.stage = stage.value if stage else ""
    case.stage_started_at = now if stage else None
    case.due_at = _step_due(stage, now) if stage and stage is not Stage.HANDLE else case.due_at
    if stage is None:
        case.due_at = None


def _clean_photos(photos: Iterable) -> list[CleanImage]:
    """Check every photo before storing any, so a bad one leaves nothing behind (and is refused before
    a report takes its number)."""
    return [clean_image(upload) for upload in photos]


def _save_photos(
    case: Case, event: CaseEvent, cleaned: list[CleanImage], stage: PhotoStage, now: datetime
) -> int:
    """Store each file, note it in the unit of work (``core.files``: removed if the work fails), then
    insert its row."""
    for i, img in enumerate(cleaned, 1):
        photo = Attachment(
            case=case, event=event, stage=stage, width=img.width, height=img.height, created_at=now
        )
        photo.file.save(
            f"{stage.value}-{event.pk}-{i}.{img.content.name.rpartition('.')[2]}", img.content, save=False
        )
        stored(photo.file)
        photo.save(force_insert=True)
    return len(cleaned)


def _event(
    case: Case,
    action: Action,
    actor,
    now: datetime,
    *,
    from_state="",
    note="",
    data=None,
    public=True,
    key: int | None = None,
):
    return insert(
        CaseEvent(
            id=key,
            case=case,
            action=action,
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=getattr(actor, "display_name", "") or "",
            from_state=from_state,
            to_state=case.state,
            department=case.department,
            note=note,
            data=data or {},
            is_public=public,
            at=now,
        )
    )


def _notify_department(case: Case, event: CaseEvent, subject: str, now: datetime) -> None:
    dept = case.department
    if dept is None:
        return
    body = _("%(subject)s: case %(number)s, %(type)s, %(address)s. Due: %(due)s.") % {
        "subject": subject,
        "number": case.number,
        "type": case.type_name,
        "address": case.address or f"{case.lat:.5f},{case.lon:.5f}",
        "due": timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M") if case.due_at else "-",
    }
    for channel, recipient in (("console", dept.code), ("email", dept.email)):
        notification_queue(
            key=f"ev{event.pk}:dept:{channel}",
            channel=channel,
            recipient=recipient,  # an empty e-mail address queues nothing
            subject=subject,
            body=body,
            case_number=case.number,
            now=now,
        )


def _notify_followers(case: Case, event: CaseEvent, text: str, now: datetime) -> None:
    """Reporters of the case and of the duplicates merged into it get its public updates."""
    for f in case.follows.all():
        for channel, recipient in (("sms", f.phone), ("email", f.email)):
            notification_queue(
                key=f"ev{event.pk}:follow{f.pk}:{channel}",
                channel=channel,
                recipient=recipient,
                subject=case.number,
                body=text,
                case_number=case.number,
                now=now,
            )


# ------------------------------------------------------------------------------------------------
# intake


@dataclass(frozen=True)
class ReportInput:
    source: str
    type_code: str
    description: str
    lat: float
    lon: float
    kind: str = Kind.MATTER
    urgency: str = Urgency.NORMAL
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    reporter_email: str = ""
    is_public: bool = True
    # the client's key for this report, scoped by the adapter to who sent it ("user:7:<key>"): the
    # same key again answers with the case it made (``ReportKey``)
    once_key: str = ""


def once_key(scope: str, key: str | None) -> str:
    """A client's key for a report (an ``Idempotency-Key`` header, the public form's one-time key),
    scoped to who sent it (``scope``: a person, an Open311 key, the public); "" without one."""
    if not key:
        return ""
    if len(key) > 64 or not (key.isascii() and key.isprintable()):
        raise DomainError(_("Idempotency-Key is at most 64 visible ASCII characters."), code="once_key")
    return f"{scope}:{key}"


def _reported_with(key: str) -> Case | None:
    found = ReportKey.objects.filter(key=key).select_related("case").first()
    return found.case if found else None


def case_report(*, data: ReportInput, photos: Iterable = (), actor=None, now: datetime) -> Case:
    """File a new report. Validates everything before writing; the whole intake is one transaction.

    With ``data.once_key``, a key already used answers with the case it made, also when two requests
    with it race (the second one's insert of the key fails, and it answers with the first's case)."""
    key = data.once_key
    if key:
        if len(key) > ReportKey._meta.get_field("key").max_length or "\x00" in key:
            raise DomainError(_("The report's key is too long or not text."), code="once_key")
        earlier = _reported_with(key)
        if earlier is not None:
            return earlier
    try:
        source = Source(data.source)
    except ValueError as exc:
        raise DomainError(_("Unknown source: %(value)s.") % {"value": data.source}, code="source") from exc
    try:
        urgency = Urgency(data.urgency or Urgency.NORMAL)
    except ValueError as exc:
        raise DomainError(_("Urgency must be normal or urgent."), code="urgency") from exc
    kind = Kind(data.kind) if data.kind in Kind.values else None
    if kind is None:
        raise DomainError(_("Kind must be component or matter."), code="kind")
    info = catalog.catalog_type(kind, data.type_code or "")
    if info is None or not info.is_active:
        raise DomainError(_("Unknown problem type: %(code)s.") % {"code": data.type_code or "-"}, code="type")
    description = (data.description or "").strip()
    if not description:
        raise DomainError(_("Describe the problem."), code="description")
    if len(description) > 2000:
        raise DomainError(_("The description may be at most 2000 characters."), code="description")
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_("At most 9 photos per step."), code="photos")
    where = locate(data.lat, data.lon, at=now)  # raises OutsideCity with a clear message
    if source in VERIFIED_SOURCES and not (actor and getattr(actor, "is_authenticated", False)):
        raise DomainError(_("Only staff may report as this source."), code="source")
    # These sources skip verification (and an inspector's report names its reporter as the case's
    # inspector): through the staff API any role could claim them.
    if source == Source.INSPECTOR and Role.INSPECTOR not in roles_of(actor):
        raise NotAllowed(_("Only inspectors may report as an inspector."), code="source")
    if source == Source.SUPERIOR and not sees_whole_city(actor):
        raise NotAllowed(_("Only the command centre may report an assignment from above."), code="source")
    cleaned = _clean_photos(photos)
    # Built before any lock is taken: the transaction below only writes.
    case = Case(
        source=source,
        kind=kind,
        type_code=info.code,
        type_name=info.name,
        urgency=urgency,
        description=description,
        lat=float(data.lat),
        lon=float(data.lon),
        address=(data.address or "").strip()[:200],
        county_code=where.county.code if where.county else where.city.code,
        township_code=where.township.code if where.township else "",
        community_code=where.community.code if where.community else "",
        grid_code=where.grid,
        area_class=where.area_class or "",
        state=State.TO_FILE if source in VERIFIED_SOURCES else State.TO_VERIFY,
        reporter_name=(data.reporter_name or "").strip()[:60],
        reporter_phone=(data.reporter_phone or "").strip()[:20],
        reported_by=actor if getattr(actor, "pk", None) else None,
        is_public=bool(data.is_public),
        tracking_token=secrets.token_urlsafe(18),
        reported_at=now,
        updated_at=now,
    )
    _enter_stage(case, Stage.FILE if case.state == State.TO_FILE else Stage.VERIFY, now)
    if source == Source.INSPECTOR and getattr(actor, "pk", None):
        case.inspector = actor
    ahead = _number_ahead(now)
    try:
        with files_removed_on_failure(), transaction.atomic(), pipelined() as pipeline:
            case.number, case.pk, event_key = ahead or (*_next_number(now), None, None)
            insert(case)
            event = _event(case, Action.REPORT, actor, now, data={"source": source.value}, key=event_key)
            if key:
                ReportKey.objects.create(key=key, case=case, created_at=now)
            if cleaned:
                pipeline.sync()  # the rows are in before any file is stored
            _save_photos(case, event, cleaned, PhotoStage.REPORT, now)
            if case.reporter_phone or data.reporter_email:
                Follow.objects.create(
                    case=case, phone=case.reporter_phone, email=data.reporter_email, created_at=now
                )
    except IntegrityError:
        earlier = _reported_with(key) if key else None
        if earlier is None:
            raise
        return earlier  # a request with the same key made it first
    return case


# ------------------------------------------------------------------------------------------------
# dispatch rules and duplicates


def dispatch_proposal(case: Case) -> Department | None:
    """The department the dispatch rules choose: the most specific (type, area) match wins."""
    rules = list(
        DispatchRule.objects.filter(is_active=True, department__is_active=True)
        .filter(type_code__in=[case.type_code, ""])
        .filter(area_code__in=[case.township_code, case.county_code, ""])
        .select_related("department")
    )
    area_rank = (
        {case.township_code: 0, case.county_code: 1, "": 2}
        if case.township_code
        else {case.county_code: 1, "": 2}
    )

    def rank(r: DispatchRule):
        kind_ok = r.kind in ("", case.kind)
        return (not kind_ok, r.type_code == "", area_rank.get(r.area_code, 3), r.kind == "")

    rules = [r for r in rules if r.kind in ("", case.kind) and r.area_code in area_rank]
    return min(rules, key=rank).department if rules else None


def duplicate_candidates(
    *,
    kind: str,
    type_code: str,
    lat: float,
    lon: float,
    now: datetime,
    exclude: int | None = None,
    limit: int = 10,
) -> list[tuple[Case, float]]:
    """Open cases of the same type within the configured radius and time window, nearest first."""
    cfg = LoopSettings.current()
    radius = cfg.duplicate_radius_m
    min_lat, max_lat, min_lon, max_lon = bbox(lat, lon, radius)
    qs = Case.objects.filter(
        kind=kind,
        type_code=type_code,
        state__in=OPEN_STATES,
        reported_at__gte=now - timedelta(days=cfg.duplicate_window_days),
        lat__range=(min_lat, max_lat),
        lon__range=(min_lon, max_lon),
    )
    if exclude:
        qs = qs.exclude(pk=exclude)
    found = [(c, haversine_m(lat, lon, c.lat, c.lon)) for c in qs[:200]]
    found = [(c, d) for c, d in found if d <= radius]
    found.sort(key=lambda x: (x[1], -x[0].reported_at.timestamp()))
    return found[:limit]


# ------------------------------------------------------------------------------------------------
# filing conditions


def filing_options_for(case: Case) -> list[deadlines.FilingOption]:
    """The ways this case may be filed under the standards of its type, urgency and area class."""
    conds = catalog.conditions_for(case.kind, case.type_code, case.urgency, case.area_class or None)
    return deadlines.filing_options(conds)


def _filing_option(case: Case, ref: str) -> deadlines.FilingOption:
    options = filing_options_for(case)
    if not ref:
        return options[0]
    for option in options:
        if option.ref == ref:
            return option
    raise DomainError(
        _("The filing condition %(ref)s does not apply to this case.") % {"ref": ref}, code="condition"
    )


def _apply_filing_option(case: Case, option: deadlines.FilingOption) -> None:
    case.condition_ref = option.ref
    case.handle_limit, case.handle_unit = option.final.limit, option.final.unit
    case.milestones = (
        [{"ref": c.ref, "stage": c.stage, "limit": str(c.limit), "unit": c.unit} for c in option.conditions]
        if option.staged
        else []
    )


# ------------------------------------------------------------------------------------------------
# the one executor


class SystemActor:
    """The platform itself acting by rule (an inspection that found a failure files and dispatches).

    It holds the command-centre roles that filing and dispatching need, and nothing else; its events
    carry no user and the actor name "system".
    """

    pk = None
    is_authenticated = True
    is_superuser = False
    roles = frozenset({Role.OPERATOR, Role.DUTY_CHIEF, Role.DISPATCHER})

    @property
    def display_name(self) -> str:
        return _("system")


SYSTEM = SystemActor()


def actor_facts(actor, case: Case) -> ActorFacts:
    if isinstance(actor, SystemActor):
        return ActorFacts(roles=actor.roles, in_case_department=False)
    roles = frozenset(roles_of(actor))
    in_dept = False
    if case.department_id:
        path = case.department.path
        in_dept = any(
            m.role == Role.HANDLER and path.startswith(m.department.path) for m in memberships_of(actor)
        )
    return ActorFacts(roles=roles, in_case_department=in_dept)


def allowed_actions_for(actor, case: Case) -> list[Action]:
    return workflow.allowed_actions(
        CaseFacts(state=State(case.state), extension_pending=case.extension_pending), actor_facts(actor, case)
    )


@dataclass(frozen=True)
class ActionInput:
    action: str
    note: str = ""
    reason: str = ""
    department: str = ""  # department code (dispatch)
    original: str = ""  # case number (merge)
    until: datetime | None = None  # extension
    condition: str = ""  # filing condition ref (file); default: the first that applies
    inspector: int | None = None  # user id of the inspector asked to verify or check


def case_act(*, number: str, data: ActionInput, actor, photos: Iterable = (), now: datetime) -> Case:
    """Execute one action of the transition table on the case ``number``, as ``actor``, at ``now``.

    Its photos are checked before the case is locked: decoding nine phone photos takes seconds, and
    inside the transaction the case's row (on SQLite the database's one write lock) was held as long.
    """
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_("At most 9 photos per step."), code="photos")
    cleaned = _clean_photos(photos)
    with files_removed_on_failure(), transaction.atomic():
        case = one_or_none(Case.objects.select_for_update().filter(number=number))
        if case is None:
            raise DomainError(_("No case %(number)s.") % {"number": number}, code="not_found")
        if case.department_id:
            case.department = Department.objects.get(pk=case.department_id)
        facts = CaseFacts(state=State(case.state), extension_pending=case.extension_pending)
        t = workflow.check(data.action, facts, actor_facts(actor, case))
        note = (data.note or "").strip()
        reason = (data.reason or "").strip()
        if t.note_required and not (note or reason):
            raise DomainError(_("A note is required for this action."), code="note_required")
        if "reason" in t.requires and not (reason or note):
            raise DomainError(_("A reason is required for this action."), code="reason_required")
        if "photos" in t.requires and not photos:
            raise DomainError(_("Add at least one photo of the result."), code="photos_required")
        from_state = case.state
        fields = {"state", "updated_at", "stage", "stage_started_at", "due_at"}
        extra: dict = {}
        notify_dept = ""
        public_text = ""

        calendar = load_calendar()
        if t.target is not None:
            case.state = t.target
        if t.stage is not None and t.stage is not Stage.HANDLE:
            _enter_stage(case, t.stage, now)

        action = t.action
        if action is Action.FILE:
            option = _filing_option(case, data.condition)
            _apply_filing_option(case, option)
            case.filed_at = now
            fields |= {"condition_ref", "handle_limit", "handle_unit", "milestones", "filed_at"}
            extra = {"condition": option.ref, "limit": str(option.final.limit), "unit": option.final.unit}
            public_text = _("Your report %(number)s has been filed as a case.")
        elif action is Action.DISPATCH:
            proposal = dispatch_proposal(case)
            chosen = proposal
            if data.department:
                chosen = Department.objects.filter(code=data.department, is_active=True).first()
                if chosen is None:
                    raise DomainError(
                        _("No active department with code %(code)s.") % {"code": data.department},
                        code="department",
                    )
            if chosen is None:
                raise DomainError(
                    _("No dispatch rule covers this case: choose a department."), code="department_required"
                )
            if case.handle_limit is None:
                cond = catalog.conditions_for(
                    case.kind, case.type_code, case.urgency, case.area_class or None
                )[0]
                case.condition_ref, case.handle_limit, case.handle_unit = cond.ref, cond.limit, cond.unit
            case.department = chosen
            case.dispatched_at = now
            case.stage, case.stage_started_at = Stage.HANDLE, now
            case.handle_due_at = deadlines.due(now, case.handle_limit, case.handle_unit, calendar)
            if case.milestones:
                case.milestones = deadlines.milestone_dues(now, case.milestones, calendar)
                case.handle_due_at = max(datetime.fromisoformat(m["due"]) for m in case.milestones)
            case.due_at = case.handle_due_at
            case.paused_at = None
            fields |= {
                "department",
                "dispatched_at",
                "handle_due_at",
                "paused_at",
                "condition_ref",
                "handle_limit",
                "handle_unit",
                "milestones",
            }
            extra = {
                "department": chosen.code,
                "proposed": proposal.code if proposal else "",
                "override": bool(proposal and chosen.pk != proposal.pk) or (proposal is None),
            }
            notify_dept = _("New case dispatched")
            public_text = _("Case %(number)s has been sent to %(department)s.")
        elif action is Action.RETURN:
            extra = {"department": case.department.code}
            case.return_count += 1
            case.department = None
            case.handle_due_at = None
            case.paused_at = None
            fields |= {"department", "handle_due_at", "paused_at", "return_count"}
        elif action is Action.REQUEST_EXTENSION:
            if data.until is None or data.until <= (case.handle_due_at or now):
                raise DomainError(_("The extension must end after the current due time."), code="until")
            if extension_too_far(data.until, now):
                raise DomainError(_("An extension may end at most a year from now."), code="until")
            case.extension_pending = True
            case.extension_until = data.until
            case.paused_at = now
            fields |= {"extension_pending", "extension_until", "paused_at"}
            extra = {"until": data.until.isoformat()}
        elif action is Action.APPROVE_EXTENSION:
            until = data.until or case.extension_until
            case.handle_due_at = until
            case.due_at = until
            case.extension_pending = False
            case.paused_at = None
            fields |= {"extension_pending", "paused_at", "handle_due_at"}
            extra = {"until": until.isoformat()}
            notify_dept = _("Extension approved")
        elif action in (Action.DENY_EXTENSION, Action.UNPARK, Action.CHECK_FAIL):
            if action is Action.CHECK_FAIL:
                case.rework_count += 1
                fields.add("rework_count")
                notify_dept = _("Check failed: rework")
                paused_from = case.handled_at
            else:
                paused_from = case.paused_at
            if action is Action.DENY_EXTENSION:
                case.extension_pending = False
                fields.add("extension_pending")
                notify_dept = _("Extension denied")
            if case.milestones and paused_from:
                case.milestones = deadlines.milestones_resumed(case.milestones, paused_from, now, calendar)
                fields.add("milestones")
            if case.handle_due_at and paused_from:
                case.handle_due_at = deadlines.resumed_due(
                    case.handle_due_at, paused_from, now, case.handle_unit, calendar
                )
            case.paused_at = None
            case.stage, case.stage_started_at, case.due_at = Stage.HANDLE, now, case.handle_due_at
            fields |= {"paused_at", "handle_due_at"}
        elif action is Action.PARK:
            case.paused_at = now
            fields.add("paused_at")
        elif action is Action.REPORT_DONE:
            case.handled_at = now
            fields.add("handled_at")
            public_text = _("Case %(number)s has been handled and waits for an on-site check.")
        elif action is Action.CHECK_PASS:
            public_text = ""
        elif action is Action.CLOSE:
            case.closed_at = now
            case.stage, case.stage_started_at, case.due_at = "", None, None
            fields.add("closed_at")
            public_text = _("Case %(number)s is closed. Please rate the result.")
        elif action is Action.REJECT or action is Action.INVALIDATE:
            case.stage, case.stage_started_at, case.due_at = "", None, None
            public_text = _("Your report %(number)s was not filed: %(reason)s")
        elif action is Action.MERGE:
            original = one_or_none(
                Case.objects.select_for_update().filter(number=(data.original or "").strip())
            )
            if original is None or original.pk == case.pk:
                raise DomainError(_("Choose an existing original case to merge into."), code="original")
            if original.state not in OPEN_STATES:
                raise DomainError(_("The original case is no longer open."), code="original_closed")
            if (original.kind, original.type_code) != (case.kind, case.type_code):
                raise DomainError(
                    _("Only a case of the same type can be the original."), code="original_type"
                )
            case.merged_into = original
            case.stage, case.stage_started_at, case.due_at = "", None, None
            fields.add("merged_into")
            Case.objects.filter(pk=original.pk).update(
                followers=F("followers") + 1 + case.followers, updated_at=now
            )
            for f in case.follows.all():
                Follow.objects.create(
                    case=original, phone=f.phone, email=f.email, user=f.user, via_case=case, created_at=now
                )
            extra = {"original": original.number}
            public_text = _(
                "Your report %(number)s was merged into case %(original)s; you will get its updates."
            )
        elif action is Action.URGE:
            case.urge_count += 1
            fields.add("urge_count")
            notify_dept = _("Urged by the command centre")
        elif action is Action.REOPEN:
            case.reopen_requested_at = None
            fields.add("reopen_requested_at")
            case.closed_at = None
            case.department = None
            case.handle_due_at = None
            fields |= {"closed_at", "department", "handle_due_at"}
            public_text = _("Case %(number)s has been reopened.")
        elif action is Action.VERIFY:
            public_text = _("Your report %(number)s has been verified on site.")

        if data.inspector and action in (Action.VERIFY, Action.REPORT_DONE, Action.REOPEN, Action.FILE):
            # one of the inspectors the page lists: another id was stored as it came, and one of no one
            # failed in the database at the commit, after the action had been taken
            if not members_with_role(Role.INSPECTOR).filter(user__pk=data.inspector).exists():
                raise DomainError(_("Choose an inspector from the list."), code="inspector")
            case.inspector_id = data.inspector
            fields.add("inspector")
        case.updated_at = now
        case.save(update_fields=sorted(fields))
        event = _event(
            case,
            action,
            actor,
            now,
            from_state=from_state,
            note=reason or note,
            data=extra,
            public=action
            not in (Action.URGE, Action.REQUEST_EXTENSION, Action.DENY_EXTENSION, Action.APPROVE_EXTENSION),
        )
        stage = {
            Action.REPORT_DONE: PhotoStage.HANDLED,
            Action.CHECK_PASS: PhotoStage.CHECKED,
            Action.CHECK_FAIL: PhotoStage.CHECKED,
        }.get(action, PhotoStage.REPORT)
        _save_photos(case, event, cleaned, stage, now)
        if notify_dept:
            _notify_department(case, event, notify_dept, now)
        if public_text:
            if action is Action.MERGE:
                text = public_text % {"number": case.number, "original": extra["original"]}
                _notify_followers(case, event, text, now)
            else:
                text = public_text % {
                    "number": case.number,
                    "department": case.department.name if case.department else "",
                    "reason": reason or note,
                }
                _notify_followers(case, event, text, now)
    return case


def case_follow(*, number: str, phone: str = "", email: str = "", now: datetime) -> Case:
    """A citizen says "me too": counted on the case and sent its updates."""
    with transaction.atomic():
        case = one_or_none(Case.objects.select_for_update().filter(number=number, state__in=OPEN_STATES))
        if case is None:
            raise DomainError(_("That case is not open any more."), code="not_open")
        Case.objects.filter(pk=case.pk).update(followers=F("followers") + 1, updated_at=now)
        if phone or email:
            Follow.objects.create(case=case, phone=phone, email=email, created_at=now)
        case.refresh_from_db()
    return case


def cases_mark_overdue(*, now: datetime) -> int:
    """Record one overdue event per deadline for every open case past due, and tell its department."""
    count = 0
    ids = list(
        Case.objects.filter(state__in=CLOCK_STATES, due_at__lt=now, paused_at__isnull=True)
        .exclude(overdue_noted_for=F("due_at"))
        .values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            case = Case.objects.select_for_update().filter(pk=pk).first()
            if (
                case is None
                or case.state not in OPEN_STATES
                or case.paused_at is not None
                or case.due_at is None
                or case.due_at >= now
                or case.overdue_noted_for == case.due_at
            ):
                continue
            case.overdue_noted_for = case.due_at
            case.save(update_fields=["overdue_noted_for"])
            if case.department_id:
                case.department = Department.objects.get(pk=case.department_id)
            event = _event(
                case,
                Action.OVERDUE,
                None,
                now,
                from_state=case.state,
                data={"due": case.due_at.isoformat(), "stage": case.stage},
                public=False,
            )
            _notify_department(case, event, _("Case overdue"), now)
            count += 1
    return count


@transaction.atomic
def dispatch_rules_load(*, rows: list[dict]) -> int:
    """Create or update dispatch rules from (kind, type, area, department, note) rows; validates all first."""
    depts = {d.code: d for d in Department.objects.all()}
    errors = []
    for i, r in enumerate(rows, 1):
        if r.get("department") not in depts:
            errors.append(f"rule {i}: unknown department {r.get('department')!r}")
        if r.get("kind", "") not in ("", *Kind.values):
            errors.append(f"rule {i}: unknown kind {r.get('kind')!r}")
    if errors:
        raise DomainError("; ".join(errors), code="dispatch_rules")
    for r in rows:
        DispatchRule.objects.update_or_create(
            kind=r.get("kind", ""),
            type_code=str(r.get("type", "")),
            area_code=str(r.get("area", "")),
            defaults={"department": depts[r["department"]], "note": r.get("note", ""), "is_active": True},
        )
    return len(rows)


# ------------------------------------------------------------------------------------------------
# the reporter's side: staff replies, satisfaction and reopen requests

# Who may reply to the reporter: the command centre, or a handler of the case's department.
REPLY_ROLES = frozenset({Role.OPERATOR, Role.DUTY_CHIEF, Role.DISPATCHER, Role.LEADER, Role.ADMIN})


def _locked_case(number: str) -> Case:
    case = one_or_none(Case.objects.select_for_update().filter(number=number))
    if case is None:
        raise DomainError(_("No case %(number)s.") % {"number": number}, code="not_found")
    if case.department_id:
        case.department = Department.objects.get(pk=case.department_id)
    return case


def reply_allowed(actor, case: Case) -> bool:
    """The command centre, or a handler of the case's department, may reply to the reporter."""
    facts = actor_facts(actor, case)
    return bool(facts.roles & REPLY_ROLES) or facts.in_case_department


def case_reply(*, number: str, text: str, actor, now: datetime) -> CaseEvent:
    """A staff member answers the reporter: a public event on the timeline, sent to the followers."""
    from cityops.core.errors import NotAllowed

    text = (text or "").strip()
    if not text:
        raise DomainError(_("Write the reply."), code="text_required")
    if len(text) > 2000:
        raise DomainError(_("A reply may be at most 2000 characters."), code="text")
    with transaction.atomic():
        case = _locked_case(number)
        if not reply_allowed(actor, case):
            raise NotAllowed(_("Only the command centre or the responsible department may reply."))
        case.updated_at = now
        case.save(update_fields=["updated_at"])
        event = _event(case, Action.REPLY, actor, now, from_state=case.state, note=text)
        body = _("Reply on case %(number)s: %(text)s") % {"number": case.number, "text": text}
        _notify_followers(case, event, body, now)
    return event


class _Reporter:
    """The citizen acting on their own case (rating, reopen request): no user, named in the timeline."""

    pk = None

    @property
    def display_name(self) -> str:
        return _("the reporter")


REPORTER = _Reporter()


def _rating_open(case: Case) -> bool:
    """A closed case may be rated once per closing (after a reopen and a new closing, again)."""
    return (
        case.state == State.CLOSED
        and case.closed_at is not None
        and (case.rated_at is None or case.rated_at < case.closed_at)
    )


def case_rate(*, number: str, rating: str, comment: str = "", now: datetime) -> Case:
    """The reporter rates the result of a closed case. The comment is for staff: the event is private.

    The caller (the public tracking page) has already proved the person is the reporter or a follower.
    """
    from cityops.cases.choices import Rating
    from cityops.core.errors import Conflict

    try:
        value = Rating(rating)
    except ValueError as exc:
        raise DomainError(_("Choose how satisfied you are."), code="rating") from exc
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise DomainError(_("A comment may be at most 1000 characters."), code="comment")
    with transaction.atomic():
        case = _locked_case(number)
        if case.state != State.CLOSED:
            raise Conflict(_("A case can be rated once it is closed."), code="not_closed")
        if not _rating_open(case):
            raise Conflict(_("This case has already been rated."), code="already_rated")
        case.rating, case.rating_comment, case.rated_at = value, comment, now
        case.updated_at = now
        case.save(update_fields=["rating", "rating_comment", "rated_at", "updated_at"])
        _event(
            case,
            Action.RATE,
            REPORTER,
            now,
            from_state=case.state,
            note=comment,
            data={"rating": value.value},
            public=False,
        )
    return case


def reopen_window_open(case: Case, now: datetime) -> bool:
    """Whether the reporter may still ask to reopen: closed, not asked yet, within the configured days."""
    if case.state != State.CLOSED or case.closed_at is None:
        return False
    if case.reopen_requested_at is not None and case.reopen_requested_at >= case.closed_at:
        return False
    return now <= case.closed_at + timedelta(days=LoopSettings.current().reopen_days)


def case_reopen_request(*, number: str, reason: str, now: datetime) -> Case:
    """The reporter asks to reopen a closed case; it goes to the duty chief's "reopen requests" queue.

    The duty chief's ``reopen`` action (``case_act``) clears the request. The reason is for staff only.
    """
    from cityops.core.errors import Conflict

    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Tell us why the problem is not solved."), code="reason_required")
    if len(reason) > 1000:
        raise DomainError(_("A reason may be at most 1000 characters."), code="reason")
    with transaction.atomic():
        case = _locked_case(number)
        if case.state != State.CLOSED:
            raise Conflict(_("Only a closed case can be reopened."), code="not_closed")
        if case.reopen_requested_at is not None and case.reopen_requested_at >= (case.closed_at or now):
            raise Conflict(_("You have already asked to reopen this case."), code="already_requested")
        if not reopen_window_open(case, now):
            raise Conflict(
                _("A case can be reopened within %(days)s days of closing.")
                % {"days": LoopSettings.current().reopen_days},
                code="too_late",
            )
        case.reopen_requested_at = now
        case.updated_at = now
        case.save(update_fields=["reopen_requested_at", "updated_at"])
        _event(case, Action.REOPEN_REQUEST, REPORTER, now, from_state=case.state, note=reason, public=False)
    return case
