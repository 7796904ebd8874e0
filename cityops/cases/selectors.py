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

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from cityops.cases.choices import CLOCK_STATES, OPEN_STATES, State
from cityops.cases.models import Attachment, Case, CaseEvent
from cityops.cases.search import text_filter
from cityops.core.db import (
    Common,
    ModelRows,
    Prepared,
    PreparedObjects,
    Rare,
    SortedAfter,
    Unindexed,
    at_least,
    one_or_none,
    prefetched,
    stable,
    stable_plans,
)
from cityops.organization.choices import Role
from cityops.organization.selectors import (
    active_department_id,
    department_keys_under,
    department_paths_of,
    roles_of,
    sees_whole_city,
)

# The inspectors' task pool: every inspector sees every case waiting for an on-site visit.
INSPECTOR_POOL = frozenset({State.TO_VERIFY, State.TO_CHECK})


def case_list_for(user, *, states=None, page: bool = False, walk: bool = False) -> QuerySet[Case]:
    """Every case ``user`` may see (unordered filters applied by callers).

    ``states``: the caller lists only cases in these states. An inspector sees the whole of a list
    within the task pool, and the rule's other branches are left out: with them SQLite read every
    case the inspector ever reported before the pool's few (a busy inspector's task list: 0.6 s).
    ``page``: the caller reads one ordered page (see the inspector's branch below).
    ``walk``: SQLite is to read the list by another index than the departments' (see the handler's
    branch below)."""
    qs = Case.objects.all()
    reach = case_reach_of(user)
    if reach is None:
        return qs
    inspector, departments = reach
    cond = Q(pk__in=[])
    if inspector and states is not None and set(states) <= INSPECTOR_POOL:
        return qs
    if departments:
        # Their departments and those under them, by key: the planner weighs each department by its
        # statistics and counts from the department's index. Where SQLite should read another index
        # (``walk``), the keys are checked on each row: from the department's index it sorted every
        # case of a district bureau (half the city) for a page in number order (see ``Unindexed``).
        held = Q(department_id__in=departments)
        cond |= Unindexed(held) if walk else held
    if inspector:
        # Their reports, their assignments and the pool: most of the cases for a busy inspector. For
        # a page SQLite walks the list in its order rather than gathering them all and sorting them
        # (see ``Unindexed``); a count or a subquery gathers them through their indexes, where a
        # walk would read the whole table.
        mine = Q(reported_by=user) | Q(inspector=user) | Q(state__in=INSPECTOR_POOL)
        cond |= Unindexed(mine) if page else mine
    if not inspector and not departments:
        return qs.none()
    return qs.filter(cond)


def case_reach_of(user) -> tuple[bool, tuple[int, ...]] | None:
    """What decides which cases ``user`` sees (``case_list_for``): ``None`` for the whole city, else
    whether the inspector's branch applies (their own reports and assignments, and the task pool) and
    the keys of the departments their handler's branch reaches. Equal reaches see the same cases:
    figures kept per reach (a past month's report) are shared or told apart by it."""
    if sees_whole_city(user):
        return None
    roles = roles_of(user)
    departments = (
        department_keys_under(department_paths_of(user, Role.HANDLER)) if Role.HANDLER in roles else []
    )
    return Role.INSPECTOR in roles, tuple(departments)


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
    return Case.objects.filter(public_case_condition())


def public_case_condition(via: str = "") -> Q:
    """The rule of ``public_case_list`` as a condition, on the case reached through ``via`` (``"case"``
    for a case's events): a join lets the database walk the events in time order, where SQLite read
    every public case for an ``IN`` of them (Open311's updates at 1M cases: 1.3 s)."""
    prefix = f"{via}__" if via else ""
    return Q(**{f"{prefix}is_public": True}) & ~Q(**{f"{prefix}state__in": PUBLIC_HIDDEN_STATES})


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

# Cases without a deadline (closed, rejected, invalid: most of them) come after those with one in both
# deadline orders, on every database (SQLite put them first, PostgreSQL first when descending).
SORTS = {
    "reported": ("reported_at", "id"),
    "-reported": ("-reported_at", "-id"),
    "due": (F("due_at").asc(nulls_last=True), "id"),
    "-due": (F("due_at").desc(nulls_last=True), "-id"),
    "number": ("number",),
    "-number": ("-number",),
}
# A page in deadline order is read in two parts (``case_queue_page``): the cases with a deadline from
# their small partial index (``case_due``), then those without one, in the same order as above.
DUE_SORTS = {"due": (("due_at", "id"), ("id",)), "-due": (("-due_at", "-id"), ("-id",))}
DATED, UNDATED = "dated", "undated"


@dataclass(frozen=True)
class CaseFilters:
    queue: str = "all"
    type_code: str = ""
    area: str = ""  # county or township code
    department: str = ""  # department code
    department_key: int | None = None  # or its key, when known (the compiled queue page)
    source: str = ""
    state: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""  # number or text
    sort: str = "-reported"


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def case_queue_for(
    user, filters: CaseFilters, *, now: datetime, part: str = "", page: bool = False
) -> QuerySet[Case]:
    """The filtered, ordered list behind a work queue, a search or an export (``part``: see
    ``_queue_filter``; ``page``: one page of it will be read, see ``case_list_for``)."""
    spec = QUEUES.get(filters.queue, QUEUES["all"])
    states = spec.get("states")
    if filters.state:
        states = [s for s in (states or [filters.state]) if s == filters.state]
    # SQLite reads a page from its order's index or another filter's (a rare type's), and the cases
    # with a deadline or a reopen request from their partial indexes; a count from the departments'.
    walk = page or part == DATED or bool(spec.get("reopen"))
    dense = _dense(filters) if page else frozenset()
    visible = case_list_for(user, states=states, page=page, walk=walk)
    return _queue_filter(visible, filters, now, part, dense=dense)


class PagedList:
    """A list as Django's paginator counts and slices it, counted by one query and read by others.

    Pages are read as the queue page reads them (``case_queue_page``), by a query that may walk an
    index in the list's order; the count comes from the whole list's query, which an index answers
    whatever the order. In deadline order the list is read in two parts, the cases with a deadline
    and then those without: in one statement both databases sorted every case of the list (the
    staff API at 1M cases: 1.4-2 s a page). A part is counted only as far as the page reaches: its
    full count, a department's million cases with a deadline, took 50-80 ms at 3M cases."""

    def __init__(self, whole: QuerySet[Case], *parts: QuerySet[Case]):
        self.whole, self.parts = whole, parts
        self._sizes: dict[int, int] = {}  # the parts counted to their end

    def count(self) -> int:
        return self.whole.count()

    def count_at_most(self, most: int) -> int:
        """The number of rows, or ``most + 1`` when there are more: the database stops there."""
        return self.whole[: most + 1].count()

    def _size_up_to(self, i: int, most: int) -> int:
        """The number of rows of part ``i``, or ``most`` when it has at least that many."""
        if i in self._sizes:
            return min(self._sizes[i], most)
        n = self.parts[i][:most].count()
        if n < most:
            self._sizes[i] = n
        return n

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self[key : key + 1][0]
        start, stop = key.start or 0, key.stop
        if stop is None or key.step is not None:
            raise TypeError("a PagedList is read by bounded slices")
        rows, base, last = [], 0, len(self.parts) - 1
        for i, part in enumerate(self.parts):
            if i == last:
                rows += list(part[max(0, start - base) : stop - base])
                break
            size = self._size_up_to(i, stop - base)
            if max(0, start - base) < size:
                rows += list(part[max(0, start - base) : size])
            if size == stop - base:  # the slice ends in this part
                break
            base += size
        return rows


def case_queue_list(user, filters: CaseFilters, *, now: datetime, related=()) -> PagedList:
    """``case_queue_for`` to be paged (the staff API), as a ``PagedList``."""
    whole = case_queue_for(user, filters, now=now).order_by()
    parts = (DATED, UNDATED) if filters.sort in DUE_SORTS else ("",)
    return PagedList(
        whole,
        *(case_queue_for(user, filters, now=now, part=p, page=True).select_related(*related) for p in parts),
    )


def _plain(condition: Q) -> Q:
    return condition


def _conditions(filters: CaseFilters) -> list[tuple[str, Q]]:
    """The form's filters as conditions, by name."""
    out = []
    if filters.type_code:
        out.append(("type", Q(type_code=filters.type_code)))
    if filters.area:
        area = filters.area
        out.append(("area", Q(county_code=area) | Q(township_code=area) | Q(community_code=area)))
    if filters.department_key is not None:
        out.append(("department", Q(department_id=filters.department_key)))
    elif filters.department:
        key = active_department_id(filters.department)
        by = Q(department_id=key) if key is not None else Q(department__code=filters.department)
        out.append(("department", by))
    if filters.source:
        out.append(("source", Q(source=filters.source)))
    if filters.state:
        out.append(("state", Q(state=filters.state)))
    if filters.date_from:
        out.append(("from", Q(reported_at__gte=_day_start(filters.date_from))))
    if filters.date_to:
        out.append(("to", Q(reported_at__lt=_day_start(filters.date_to + timedelta(days=1)))))
    return out


# A filter is dense for a page in number order when it keeps at least this many cases.
DENSE_AT = 2_000
NUMBER_SORTS = frozenset({"number", "-number"})
_PROBED = frozenset({"type", "area", "department", "state"})  # the filters with an index of their own


def _dense(filters: CaseFilters, using: str = DEFAULT_DB_ALIAS) -> frozenset[str]:
    """For a page in number order on SQLite: the filters that keep at least ``DENSE_AT`` cases, each
    counted through its own index up to that many (a fraction of a millisecond).

    No index holds a filter and the number together, and SQLite keeps no statistics of values: it
    started from the filter's index and sorted all its cases, a busy type's 200,000 or half the city
    for a district bureau (1M cases: 0.3-0.6 s). A dense filter is marked common (``Common``), so
    SQLite walks the number's index and checks it on each row; a rare one keeps its index, and the
    few cases it keeps are sorted."""
    if filters.sort not in NUMBER_SORTS or connections[using].vendor != "sqlite":
        return frozenset()
    return frozenset(
        name
        for name, condition in _conditions(filters)
        if name in _PROBED and at_least(Case.objects.using(using).filter(condition), DENSE_AT)
    )


def _queue_filter(
    qs: QuerySet[Case],
    filters: CaseFilters,
    now: datetime | None,
    part: str = "",
    open_state: bool = False,
    dense: frozenset[str] = frozenset(),
) -> QuerySet[Case]:
    """``part`` reads only the cases with a deadline (``DATED``) or those without (``UNDATED``) of a
    list in deadline order. ``open_state``: ``filters.state`` is an open state, said apart for the
    compiled page, whose state is a stand-in when its SQL is built. ``dense``: the filters SQLite is
    told keep many cases (``_dense``)."""
    spec = QUEUES.get(filters.queue, QUEUES["all"])
    # Where a small partial index holds the list (pending reopen requests, the cases with a deadline),
    # the other filters are said to be unselective, or SQLite starts from their index and sorts all of
    # a busy type's cases (see ``Common``).
    driven = bool(spec.get("reopen")) or part == DATED
    hint = Common if driven else _plain
    open_queue = bool(spec.get("states")) and set(spec["states"]) <= set(OPEN_STATES)
    # a list of open cases: the newest few percent
    few = open_queue or open_state or filters.state in OPEN_STATES
    if spec.get("states"):
        in_states = Q(state__in=spec["states"])
        # open work queues hold a few percent of all cases: say so to the planner (see ``Rare``)
        qs = qs.filter(Rare(in_states) if open_queue else hint(in_states))
    if spec.get("reopen"):
        # A few cases among the closed million, read from their partial index (``case_reopen_requested``)
        # whatever the order: by key, SQLite starts from them instead of walking another index.
        pending = Q(reopen_requested_at__isnull=False)
        qs = qs.filter(pending, pk__in=Case.objects.filter(pending).order_by().values("pk"))
    if spec.get("extension"):
        qs = qs.filter(extension_pending=True)
    if spec.get("overdue"):
        qs = qs.filter(Rare(Q(state__in=CLOCK_STATES)), due_at__lt=now, paused_at__isnull=True)
    for name, condition in _conditions(filters):
        qs = qs.filter((Common if name in dense else hint)(condition))
    q = filters.q.strip()
    if q:
        qs = qs.filter(text_filter(q, qs.db))
    if part:
        dated, undated = DUE_SORTS.get(filters.sort, DUE_SORTS["due"])
        if part == DATED:
            return qs.filter(due_at__isnull=False).order_by(*dated)
        qs = qs.filter(due_at__isnull=True)
        return qs.order_by(*(_sorted_after(undated) if few else undated))
    order = SORTS.get(filters.sort, SORTS["-reported"])
    # one state: its own index (``case_state_reported``, ``case_state_number``) holds the queue in
    # either order, and the parked cases, which grow with the years, were sorted for every page
    # (PostgreSQL at 3M cases: 70 ms -> 0.3 ms)
    one_state = bool(filters.state) or len(spec.get("states") or ()) == 1
    if few and filters.sort in OLDEST_FIRST and not one_state:
        order = _sorted_after(order)
    return qs.order_by(*order)


# An open queue's cases are the newest: read from the newest end, an index finds them at once; from
# the oldest end it reads every closed case first, so these orders sort the queue's cases instead.
# Unless the queue is of one state, whose index leads with it.
OLDEST_FIRST = {"reported", "number"}


def _sorted_after(order) -> list:
    return [SortedAfter(k[1:]).desc() if k.startswith("-") else SortedAfter(k).asc() for k in order]


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


def _queue_page_query(
    queue: str,
    sort: str,
    part: str,
    open_state: bool,
    dense: tuple[str, ...],
    offset: int,
    limit: int,
    now=None,
    **values,
):
    filters = CaseFilters(queue=queue, sort=sort, **values)
    qs = _queue_filter(Case.objects.all(), filters, now, part, open_state, frozenset(dense))
    return qs.values_list(*QUEUE_ROW_FIELDS)[offset : offset + limit]


# A whole-city page of a queue, compiled once per queue, sort, page and mix of filters (building and
# compiling it with the ORM cost more than the database's answer). Its plan depends on the values (a
# rare type, a busy area), so it is never kept (no ``stable_plans``).
_QUEUE_PAGE = Prepared(_queue_page_query)


def case_queue_page(user, filters: CaseFilters, *, now: datetime, offset: int, limit: int) -> list[QueueRow]:
    """One page of a work queue, as ``QueueRow`` values.

    In deadline order the page is read in two parts, the cases with a deadline (a few thousand open
    ones, from their partial index) and then those without one. In one statement ordered by a column
    that is empty for nine cases in ten, both databases sorted every case in the list (1M cases:
    1.3 s)."""
    if sees_whole_city(user) and not (filters.q.strip() or filters.date_from or filters.date_to):
        values = {name: getattr(filters, name) for name in _VALUE_FILTERS if getattr(filters, name)}
        key = active_department_id(values["department"]) if "department" in values else None
        if key is not None:
            del values["department"]
            values["department_key"] = key
        if QUEUES.get(filters.queue, QUEUES["all"]).get("overdue"):
            values["now"] = now

        dense = tuple(sorted(_dense(filters)))

        def read(part: str, start: int, count: int) -> list:
            shape = (filters.queue, filters.sort, part, filters.state in OPEN_STATES, dense, start, count)
            return _QUEUE_PAGE.rows(shape=shape, **values)

    else:  # searches, date ranges and the narrower views of handlers and inspectors: the ORM

        def read(part: str, start: int, count: int) -> list:
            qs = case_queue_for(user, filters, now=now, part=part, page=True).values_list(*QUEUE_ROW_FIELDS)
            return list(qs[start : start + count])

    if filters.sort not in DUE_SORTS:
        return [QueueRow(*row) for row in read("", offset, limit)]
    rows = read(DATED, offset, limit)
    if len(rows) < limit:
        if rows or not offset:
            dated = offset + len(rows)
        else:  # the page starts past the cases with a deadline: how many are there?
            dated = case_queue_for(user, filters, now=now, part=DATED).count()
        rows += read(UNDATED, max(0, offset - dated), limit - len(rows))
    return [QueueRow(*row) for row in rows]


def queue_counts_for(user, names: list[str], *, now: datetime) -> dict[str, int]:
    return {name: case_queue_for(user, CaseFilters(queue=name), now=now).count() for name in names}
