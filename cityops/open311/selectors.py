"""Reads of the Open311 adapter, built only on the public case selectors and the catalogue selectors.

What Open311 may show is exactly what ``cases.selectors.public_case_list`` / ``public_case_get`` /
``public_events`` allow. The list endpoints need the last public note and the first public report
photo of many cases at once; they take them as subqueries restricted by the same rule
(``is_public`` events, public photos of public events), so a list is one query however long it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.db import connections
from django.db.models import OuterRef, Q, QuerySet, Subquery

from cityops.cases.choices import ENDED_STATES, OPEN_STATES, PhotoStage
from cityops.cases.models import Attachment, Case, CaseEvent
from cityops.cases.selectors import public_case_condition, public_case_get, public_case_list, public_events
from cityops.catalog import selectors as catalog
from cityops.catalog.choices import Kind
from cityops.core.db import Common, Prepared, one_or_none

DEFAULT_WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000

# GeoReport v2 knows two statuses; the detailed state goes out in ``extensions``.
STATUS_STATES = {"open": sorted(OPEN_STATES), "closed": sorted(ENDED_STATES)}


def status_of(state: str) -> str:
    return "open" if state in OPEN_STATES else "closed"


# ------------------------------------------------------------------------------------------------
# services: the public matter types of the catalogue


def service_list():
    """Every public, active matter type, in code order."""
    return catalog.type_list(Kind.MATTER, public_only=True)


def service_get(code: str):
    info = catalog.catalog_type(Kind.MATTER, code)
    if info is None or not info.is_public or not info.is_active:
        return None
    return info


def component_majors() -> frozenset[str]:
    """Major classes that hold components (01-05 in the standard), read from the catalogue itself."""
    return frozenset(t.major for t in catalog.type_list(Kind.COMPONENT, active_only=False))


# ------------------------------------------------------------------------------------------------
# service requests: public cases


def _public_photos() -> Q:
    return Q(is_public=True) & (Q(event__isnull=True) | Q(event__is_public=True))


RECORD_FIELDS = (
    "number",
    "state",
    "type_code",
    "type_name",
    "description",
    "address",
    "lat",
    "lon",
    "followers",
    "reported_at",
    "updated_at",
    "due_at",
    "handle_due_at",
    "department__code",
    "department__name",
    "merged_into__number",
)


def _annotated(qs: QuerySet[Case]) -> QuerySet[Case]:
    notes = (
        CaseEvent.objects.filter(case=OuterRef("pk"), is_public=True)
        .exclude(note="")
        .order_by("-at", "-id")
        .values("note")[:1]
    )
    photo = (
        Attachment.objects.filter(_public_photos(), case=OuterRef("pk"), stage=PhotoStage.REPORT)
        .order_by("created_at", "id")
        .values("id")[:1]
    )
    # Only what a GeoReport record shows (``records.service_request``): a case row has some thirty
    # columns, and converting the unused ones cost a third of a 50-request page. The reporter's contact
    # and tracking token are never loaded.
    return (
        qs.select_related("department", "merged_into")
        .only(*RECORD_FIELDS)
        .annotate(o311_notes=Subquery(notes), o311_photo=Subquery(photo))
    )


@dataclass(frozen=True)
class RequestFilters:
    ids: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] = field(default_factory=list)
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    page: int = 1
    page_size: int = MAX_PAGE_SIZE


# The list's columns: a record's fields, then the two annotations (``Prepared`` wants them last).
LIST_COLUMNS = (*RECORD_FIELDS, "department_id", "merged_into_id", "o311_notes", "o311_photo")


# Each filter of a list and the lookup it is (values are given only for the filters in use).
LIST_LOOKUPS = {
    "ids": "number__in",
    "codes": "type_code__in",
    "start": "reported_at__gte",
    "end": "reported_at__lte",
    "states": "state__in",
    "updated_after": "updated_at__gte",
    "updated_before": "updated_at__lte",
}


def _list_query(offset: int, limit: int, **values) -> QuerySet:
    qs = public_case_list().filter(
        **{LIST_LOOKUPS[name]: value for name, value in values.items() if name != "ended"}
    )
    if "ended" in values:
        # Closed requests are nine in ten: SQLite (no statistics) gathered all of a window's through the
        # state index, computing each one's note and photo before sorting them (1M cases: 0.2 s a page);
        # told they are common, it walks the date index and stops at the page's end.
        qs = qs.filter(Common(Q(state__in=values["ended"])))
    if offset:
        # A later page picks its cases' keys first: the databases computed the last note and the first
        # photo of every case skipped (page 200 of 1,000 at 1M cases: 2.4 s on PostgreSQL).
        keys = qs.order_by("-reported_at", "-id").values("pk")[offset : offset + limit]
        qs, offset = Case.objects.filter(pk__in=keys), 0
    return _annotated(qs).order_by("-reported_at", "-id").values_list(*LIST_COLUMNS)[offset : offset + limit]


_LIST = Prepared(_list_query)


def _list_values(filters: RequestFilters, now: datetime) -> dict:
    """The filters of a list as ``_list_query`` values: only those given, so each mix is one shape."""
    if filters.ids:
        return {"ids": list(filters.ids)}
    start, end = filters.start, filters.end
    if start is None and end is None and filters.updated_after is None and filters.updated_before is None:
        start = now - DEFAULT_WINDOW
    elif start is None and end is not None:
        start = end - DEFAULT_WINDOW
    values = {
        "codes": list(filters.codes),
        "start": start,
        "end": end,
        "states": [s for status in filters.statuses for s in STATUS_STATES[status]],
        "ended": None,
        "updated_after": filters.updated_after,
        "updated_before": filters.updated_before,
    }
    if set(filters.statuses) == {"closed"}:  # said apart: its condition differs (see ``_list_query``)
        values["ended"] = values.pop("states")
    elif set(filters.statuses) == set(STATUS_STATES):  # every state: no condition (SQLite sorted them all)
        del values["states"]
    return {name: v for name, v in values.items() if v is not None and v != []}


def request_list(filters: RequestFilters, *, now: datetime) -> list[SimpleNamespace]:
    """Public cases matching the GeoReport filters, newest first, one page, as records to render.

    ``ids`` overrides every other filter (as the spec says). Without any date the window is the last
    90 days; with only ``end`` it is the 90 days before it. Each item has the attributes of a case that
    ``records.service_request`` reads (a list is read by third-party apps polling it, so its query is
    compiled once per filter mix: ``core.db.Prepared``).
    """
    offset = (filters.page - 1) * filters.page_size
    rows = _LIST.rows(shape=(offset, filters.page_size), **_list_values(filters, now))
    out = []
    for row in rows:
        r = dict(zip(LIST_COLUMNS, row, strict=True))
        dept = SimpleNamespace(code=r.pop("department__code"), name=r.pop("department__name"))
        merged = SimpleNamespace(number=r.pop("merged_into__number"))
        out.append(SimpleNamespace(**r, department=dept, merged_into=merged))
    return out


def request_get(number: str) -> Case | None:
    """One public case by its number (never a private one: Open311 has no tracking token)."""
    case = public_case_get(number)
    if case is None:
        return None
    return one_or_none(_annotated(public_case_list().filter(pk=case.pk)))


def media_get(number: str, attachment_id: int) -> Attachment | None:
    """A public photo of a public case: one shown on the case's public timeline."""
    case = public_case_get(number)
    if case is None:
        return None
    for event in public_events(case):
        for photo in event.photos.all():
            if photo.pk == attachment_id and photo.is_public:
                return photo
    return None


# ------------------------------------------------------------------------------------------------
# request updates: the public timeline events


@dataclass(frozen=True)
class UpdateFilters:
    ids: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    page_size: int = MAX_PAGE_SIZE


def update_list(filters: UpdateFilters, *, now: datetime) -> list[CaseEvent]:
    """Public events of public cases, oldest first, one page."""
    qs = CaseEvent.objects.filter(public_case_condition("case"), is_public=True)
    if filters.ids:
        qs = qs.filter(case__number__in=filters.ids)
    start, end = filters.start, filters.end
    if start is None and end is None and not filters.ids:
        start = now - DEFAULT_WINDOW
    elif start is None and end is not None:
        start = end - DEFAULT_WINDOW
    if start is not None:
        qs = qs.filter(at__gte=start)
    if end is not None:
        qs = qs.filter(at__lte=end)
    # The first public photo of each event, in the same statement: prefetching them built a filtered
    # query per event (a third of a page of 1,000 updates).
    photo = (
        Attachment.objects.filter(_public_photos(), event=OuterRef("pk"))
        .order_by("created_at", "id")
        .values("id")[:1]
    )
    offset = (filters.page - 1) * filters.page_size
    if offset and connections[qs.db].vendor != "sqlite":
        # A later page picks its events' keys first, as ``_list_query`` its cases': PostgreSQL looked
        # for the photo of every event it skipped (page 20 of 1,000 at 1M cases: 101 -> 48 ms).
        # SQLite works out a row's columns only once it is past the offset: a second pass cost it 5%.
        keys = qs.order_by("at", "id").values("pk")[offset : offset + filters.page_size]
        qs, offset = CaseEvent.objects.filter(pk__in=keys), 0
    qs = (
        qs.select_related("case")
        .only("id", "action", "to_state", "note", "at", "case__number", "case__state")
        .annotate(o311_photo=Subquery(photo))
        .order_by("at", "id")
    )
    return list(qs[offset : offset + filters.page_size])
