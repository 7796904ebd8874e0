"""Reads of cases: the one visibility rule, and the work queues built on it.

Who sees which cases:
* command-centre roles (operator, duty chief, dispatcher, leader, administrator) see every case;
* a department handler sees the cases of their department and of the departments under it
  (including cases that department once held, through the events, is not needed: a returned case
  leaves the department's view);
* an inspector sees the cases they reported or are assigned to, and every case waiting for an
  on-site verification or check (their task pool).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q, QuerySet
from django.utils import timezone

from cityops.cases.choices import CLOCK_STATES, OPEN_STATES, State
from cityops.cases.models import Attachment, Case, CaseEvent
from cityops.cases.search import text_filter
from cityops.core.db import (
    ModelRows,
    Prepared,
    PreparedObjects,
    Rare,
    one_or_none,
    prefetched,
    stable,
    stable_plans,
)
from cityops.organization.choices import Role
from cityops.organization.selectors import department_paths_of, roles_of, sees_whole_city


def case_list_for(user) -> QuerySet[Case]:
    """Every case ``user`` may see (unordered filters applied by callers)."""
    qs = Case.objects.all()
    if sees_whole_city(user):
        return qs
    roles = roles_of(user)
    cond = Q(pk__in=[])
    if Role.HANDLER in roles:
        for path in department_paths_of(user, Role.HANDLER):
            cond |= Q(department__path__startswith=path)
    if Role.INSPECTOR in roles:
        cond |= Q(reported_by=user) | Q(inspector=user) | Q(state__in=[State.TO_VERIFY, State.TO_CHECK])
    if not roles:
        return qs.none()
    return qs.filter(cond)


# The hot reads of the case page, compiled once (core.db.PreparedObjects): building and compiling
# them with the ORM cost more than reading them. Plans PostgreSQL may keep: lookups by key.
_CASE_BY_NUMBER = PreparedObjects(
    Case,
    lambda number: Case.objects.filter(number=number).order_by()[:1],
    related=("department", "inspector"),
)
# The timeline and its photos in one statement: a row per event and photo (the event's columns
# repeated), events in time order and each event's photos in theirs.
_EVENT_ROWS = ModelRows(CaseEvent, related=("actor", "department"))
_PHOTO_NAMES = tuple(f.attname for f in Attachment._meta.concrete_fields)
_TIMELINE = Prepared(
    lambda case_id: (
        CaseEvent.objects.filter(case_id=case_id)
        .order_by("at", "id", "photos__created_at", "photos__id")
        .values_list(*_EVENT_ROWS.columns, *(f"photos__{name}" for name in _PHOTO_NAMES))
    )
)


def case_get_for(user, number: str) -> Case | None:
    # The case a merged one points to (rarely set, a whole second case row) is read only when shown.
    if sees_whole_city(user):
        with stable_plans():
            found = _CASE_BY_NUMBER.objects(number=number)
        return found[0] if found else None
    qs = case_list_for(user).select_related("department", "inspector").filter(number=number)
    return one_or_none(stable(qs))  # a lookup by the unique number: one plan for every number


def case_events_for(user, case: Case) -> list[CaseEvent]:
    """The timeline of a case the user may see (call only after ``case_get_for``), oldest first, with
    each event's actor, department and photos loaded."""
    with stable_plans():
        rows = _TIMELINE.rows(case_id=case.pk)
    width = len(_EVENT_ROWS.columns)
    photo_pk = width + _PHOTO_NAMES.index(Attachment._meta.pk.attname)
    event_pk = _EVENT_ROWS.names.index(CaseEvent._meta.pk.attname)
    events: list[CaseEvent] = []
    photos: list[Attachment] = []
    for row in rows:
        if not events or events[-1].pk != row[event_pk]:
            if events:
                prefetched(events[-1], "photos", photos)
            events.append(_EVENT_ROWS.objects([row[:width]])[0])
            photos = []
        if row[photo_pk] is not None:
            photos.append(Attachment.from_db(DEFAULT_DB_ALIAS, _PHOTO_NAMES, row[width:]))
    if events:
        prefetched(events[-1], "photos", photos)
    return events


# ------------------------------------------------------------------------------------------------
# the public side: the one rule for what citizens, public pages and Open311 may see

# Invalidated reports (pranks, abuse) never show publicly; merged ones point to their original.
PUBLIC_HIDDEN_STATES = frozenset({State.INVALID})


def public_case_list() -> QuerySet[Case]:
    """Cases anyone may see. Callers must render only public fields: never the reporter's contact."""
    return Case.objects.filter(is_public=True).exclude(state__in=PUBLIC_HIDDEN_STATES)


def public_case_get(number: str, *, token: str = "") -> Case | None:
    """A case by number for the public side; with the reporter's tracking token, also a private case."""
    qs = stable(Case.objects.select_related("department", "merged_into").filter(number=number))
    if token:
        case = one_or_none(qs.filter(tracking_token=token))
        if case is not None and len(token) >= 16:
            return case
    qs = public_case_list().select_related("department", "merged_into").filter(number=number)
    return one_or_none(stable(qs))


def public_events(case: Case) -> QuerySet[CaseEvent]:
    """The public timeline: events marked public, with their public photos."""
    return stable(
        case.events.filter(is_public=True)
        .select_related("department")
        .prefetch_related("photos")
        .order_by("at", "id")
    )


# ------------------------------------------------------------------------------------------------
# work queues

QUEUES: dict[str, dict] = {
    "to_verify": {"states": [State.TO_VERIFY], "roles": {Role.INSPECTOR, Role.OPERATOR}},
    "to_file": {"states": [State.TO_FILE], "roles": {Role.DUTY_CHIEF, Role.OPERATOR}},
    "to_dispatch": {"states": [State.TO_DISPATCH], "roles": {Role.DISPATCHER}},
    "in_handling": {
        "states": [State.DISPATCHED, State.HANDLING],
        "roles": {Role.HANDLER, Role.DISPATCHER, Role.DUTY_CHIEF},
    },
    "extensions": {"states": [State.HANDLING], "extension": True, "roles": {Role.DUTY_CHIEF, Role.HANDLER}},
    "parked": {"states": [State.PARKED], "roles": {Role.DUTY_CHIEF, Role.HANDLER, Role.LEADER}},
    "to_check": {"states": [State.TO_CHECK], "roles": {Role.INSPECTOR, Role.DUTY_CHIEF}},
    "to_close": {"states": [State.TO_CLOSE], "roles": {Role.DUTY_CHIEF}},
    "reopen_requests": {"states": [State.CLOSED], "reopen": True, "roles": {Role.DUTY_CHIEF}},
    "overdue": {"states": None, "overdue": True, "roles": set(Role)},
    "all": {"states": None, "roles": set(Role)},
}

# The queues each role sees first on its home page, in order.
ROLE_QUEUES = {
    Role.INSPECTOR: ["to_verify", "to_check", "all"],
    Role.OPERATOR: ["to_verify", "to_file", "all"],
    Role.DUTY_CHIEF: ["to_file", "extensions", "to_close", "reopen_requests", "parked", "overdue", "all"],
    Role.DISPATCHER: ["to_dispatch", "in_handling", "overdue", "all"],
    Role.HANDLER: ["in_handling", "extensions", "parked", "overdue", "all"],
    Role.LEADER: ["overdue", "parked", "all"],
    Role.ADMIN: ["all"],
}

SORTS = {
    "reported": ("reported_at", "id"),
    "-reported": ("-reported_at", "-id"),
    "due": ("due_at", "id"),
    "-due": ("-due_at", "-id"),
    "number": ("number",),
    "-number": ("-number",),
}


@dataclass(frozen=True)
class CaseFilters:
    queue: str = "all"
    type_code: str = ""
    area: str = ""  # county or township code
    department: str = ""  # department code
    source: str = ""
    state: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""  # number or text
    sort: str = "-reported"


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def case_queue_for(user, filters: CaseFilters, *, now: datetime) -> QuerySet[Case]:
    """The filtered, ordered list behind a work queue, a search or an export."""
    return _queue_filter(case_list_for(user), filters, now)


def _queue_filter(qs: QuerySet[Case], filters: CaseFilters, now: datetime | None) -> QuerySet[Case]:
    spec = QUEUES.get(filters.queue, QUEUES["all"])
    if spec.get("states"):
        in_states = Q(state__in=spec["states"])
        # open work queues hold a few percent of all cases: say so to the planner (see ``Rare``)
        qs = qs.filter(Rare(in_states) if set(spec["states"]) <= set(OPEN_STATES) else in_states)
    if spec.get("reopen"):
        qs = qs.filter(reopen_requested_at__isnull=False)
    if spec.get("extension"):
        qs = qs.filter(extension_pending=True)
    if spec.get("overdue"):
        qs = qs.filter(Rare(Q(state__in=CLOCK_STATES)), due_at__lt=now, paused_at__isnull=True)
    if filters.type_code:
        qs = qs.filter(type_code=filters.type_code)
    if filters.area:
        qs = qs.filter(
            Q(county_code=filters.area) | Q(township_code=filters.area) | Q(community_code=filters.area)
        )
    if filters.department:
        qs = qs.filter(department__code=filters.department)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.date_from:
        qs = qs.filter(reported_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(reported_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    q = filters.q.strip()
    if q:
        qs = qs.filter(text_filter(q, qs.db))
    return qs.order_by(*SORTS.get(filters.sort, SORTS["-reported"]))


# What a queue row shows, read as plain values: a case has some fifty columns, and building a model
# instance per row (even with the rest deferred) cost more than the query.
QUEUE_ROW_FIELDS = (
    "number",
    "type_name",
    "address",
    "county_code",
    "township_code",
    "state",
    "extension_pending",
    "reported_at",
    "due_at",
    "paused_at",
    "department__name",
)
_VALUE_FILTERS = ("type_code", "area", "department", "source", "state")


@dataclass
class QueueRow:
    """One case in a work queue; the page adds what it shows (``url``, ``area_name`` ...)."""

    number: str
    type_name: str
    address: str
    county_code: str
    township_code: str
    state: str
    extension_pending: bool
    reported_at: datetime
    due_at: datetime | None
    paused_at: datetime | None
    department_name: str | None


def _queue_page_query(queue: str, sort: str, offset: int, limit: int, now=None, **values):
    qs = _queue_filter(Case.objects.all(), CaseFilters(queue=queue, sort=sort, **values), now)
    return qs.values_list(*QUEUE_ROW_FIELDS)[offset : offset + limit]


# A whole-city page of a queue, compiled once per queue, sort, page and mix of filters (building and
# compiling it with the ORM cost more than the database's answer). Its plan depends on the values (a
# rare type, a busy area), so it is never kept (no ``stable_plans``).
_QUEUE_PAGE = Prepared(_queue_page_query)


def case_queue_page(user, filters: CaseFilters, *, now: datetime, offset: int, limit: int) -> list[QueueRow]:
    """One page of a work queue, as ``QueueRow`` values."""
    if sees_whole_city(user) and not (filters.q.strip() or filters.date_from or filters.date_to):
        values = {name: getattr(filters, name) for name in _VALUE_FILTERS if getattr(filters, name)}
        if QUEUES.get(filters.queue, QUEUES["all"]).get("overdue"):
            values["now"] = now
        rows = _QUEUE_PAGE.rows(shape=(filters.queue, filters.sort, offset, limit), **values)
    else:  # searches, date ranges and the narrower views of handlers and inspectors: the ORM
        qs = case_queue_for(user, filters, now=now).values_list(*QUEUE_ROW_FIELDS)
        rows = qs[offset : offset + limit]
    return [QueueRow(*row) for row in rows]


def queue_counts_for(user, names: list[str], *, now: datetime) -> dict[str, int]:
    return {name: case_queue_for(user, CaseFilters(queue=name), now=now).count() for name in names}
