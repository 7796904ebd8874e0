"""Reads of the facilities app: the one visibility rule, the finder, schedules and figures.

Who sees what:
* the registry, inspections and figures: every staff member (anyone with an active role); the
  registry is reference data the whole platform shares;
* the public (finder, ``/api/v1/toilets/``): active toilets and stations, with the public fields only
  and the last inspection's result per item (never the inspector or photos).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from cityops.core.db import ModelRows, Prepared, stable_plans
from cityops.facilities import rules
from cityops.facilities.choices import TOILET_KINDS, FacilityKind
from cityops.facilities.models import (
    ChecklistItem,
    Facility,
    FacilityIssue,
    FacilityService,
    Inspection,
    InspectionResult,
    InspectionTemplate,
)
from cityops.geography import distance
from cityops.organization.selectors import roles_of


def is_staff(user) -> bool:
    return bool(roles_of(user))


def facility_list_for(user) -> QuerySet[Facility]:
    """Facilities ``user`` may see (staff: all; others: none)."""
    if not is_staff(user):
        return Facility.objects.none()
    return Facility.objects.all()


def facility_get_for(user, code: str) -> Facility | None:
    return (
        facility_list_for(user)
        .select_related("department", "last_inspection")
        .prefetch_related("services")
        .filter(code=code)
        .first()
    )


def public_toilets() -> QuerySet[Facility]:
    return Facility.objects.filter(is_active=True, kind__in=list(TOILET_KINDS))


def templates_by_kind() -> dict[str, InspectionTemplate]:
    out: dict[str, InspectionTemplate] = {}
    for t in InspectionTemplate.objects.filter(is_active=True).order_by("key"):
        for k in t.kinds or []:
            out.setdefault(k, t)
    return out


def checklist_of(template: InspectionTemplate) -> list[ChecklistItem]:
    return list(template.items.filter(is_active=True).order_by("order", "id"))


def interval_of(facility: Facility, templates: dict[str, InspectionTemplate]) -> int:
    if facility.inspection_interval_days:
        return facility.inspection_interval_days
    t = templates.get(facility.kind)
    return t.interval_days if t else 7


def inspections_of(facility: Facility, limit: int = 20) -> list[Inspection]:
    return list(
        facility.inspections.select_related("template")
        .prefetch_related(Prefetch("results", queryset=InspectionResult.objects.select_related("item")))
        .order_by("-at", "-id")[:limit]
    )


def open_issues_of(facility: Facility) -> list[FacilityIssue]:
    return list(facility.issues.filter(resolved_at=None).select_related("item").order_by("-opened_at"))


# ------------------------------------------------------------------------------------------------
# the finder


@dataclass(frozen=True)
class Nearby:
    facility: Facility
    distance_m: float
    open_now: bool


MAX_RADIUS_M = 50_000

# a facility's columns, then its last inspection's, and back into instances
_NEAREST_ROWS = ModelRows(Facility, related=("last_inspection",))
# The public finder reads what it shows and nothing else (the other fields are deferred): a third of
# the columns to fetch and convert for each candidate, and of the attributes to set for each toilet.
# Its candidates come from the facility table alone, ordered and cut to a batch there; the kept ones'
# last inspections are read with their lines (``_attach_last_results``). Joined to the candidates,
# every inspection of the city was hashed for each request before the batch was cut.
PUBLIC_FIELDS = (
    "code",
    "name",
    "kind",
    "address",
    "lat",
    "lon",
    "accessible",
    "third_washroom",
    "opening_hours",
    "free",
    "last_inspection",
)
_PUBLIC_ROWS = ModelRows(Facility, only={"": PUBLIC_FIELDS})


def _nearest_query(
    offset: int,
    batch: int,
    accessible: bool,
    third_washroom: bool,
    free: bool,
    *,
    min_lat: float,
    max_lat: float,
    min_lon: float,
    max_lon: float,
    lat: float,
    lon: float,
    k2: float,
    base: QuerySet[Facility] | None = None,
    columns: tuple[str, ...] = _NEAREST_ROWS.columns,
) -> QuerySet:
    """Candidates in the box, in approximate distance order (equirectangular), as rows of ``columns``
    (by default a facility's columns, then its last inspection's)."""
    qs = base if base is not None else public_toilets()
    if accessible:
        qs = qs.filter(accessible=True)
    if third_washroom:
        qs = qs.filter(third_washroom=True)
    if free:
        qs = qs.filter(free=True)
    return (
        qs.filter(lat__range=(min_lat, max_lat), lon__range=(min_lon, max_lon))
        .annotate(_d2=(F("lat") - lat) * (F("lat") - lat) + (F("lon") - lon) * (F("lon") - lon) * k2)
        .order_by("_d2", "id")
        .values_list(*columns)[offset : offset + batch]
    )


_NEAREST = Prepared(lambda *shape, **box: _nearest_query(*shape, columns=_PUBLIC_ROWS.columns, **box))


def _positions(rows: ModelRows) -> tuple[int, ...]:
    """Where a candidate row holds what the distance and the opening check read."""
    return tuple(rows.names.index(n) for n in ("id", "lat", "lon", "opening_hours"))


def _nearest_public(offset, batch, accessible, third_washroom, free, box) -> list[tuple]:
    # The public finder's query, compiled once per filter mix (core.db.Prepared): the ORM spent more
    # building and compiling it than the database spent answering it.
    return _NEAREST.rows(shape=(offset, batch, accessible, third_washroom, free), **box)


def nearest_toilets(
    *,
    lat: float,
    lon: float,
    at: datetime,
    limit: int = 10,
    open_only: bool = False,
    accessible: bool = False,
    third_washroom: bool = False,
    free: bool = False,
    radius_m: float = MAX_RADIUS_M,
    queryset: QuerySet[Facility] | None = None,
) -> list[Nearby]:
    """The nearest active toilets to (lat, lon), nearest first, each with its distance and open state.

    A bounding box of ``radius_m`` and an approximate (equirectangular) distance order the candidates in
    SQL, in batches; the exact haversine distance and the opening hours are then checked in Python. For
    any registry size this costs one query per batch (one in practice) plus one for the results of the
    last inspections. The public finder's facilities (no ``queryset``) hold the ``PUBLIC_FIELDS`` and
    their last inspection's time and result, the rest deferred; with a ``queryset``, every field.
    """
    min_lat, max_lat, min_lon, max_lon = distance.bbox(lat, lon, radius_m)
    k = distance.lon_scale(lat)
    box = {
        "min_lat": float(min_lat),
        "max_lat": float(max_lat),
        "min_lon": float(min_lon),
        "max_lon": float(max_lon),
        "lat": float(lat),
        "lon": float(lon),
        "k2": float(k * k),
    }
    # The approximate order is all but exact: a few spare rows cover the difference, unless many
    # candidates may be dropped (closed ones, when only open toilets are asked for).
    batch = max(limit * 3, 30) if open_only else limit + 10
    found: list[Nearby] = []
    offset = 0
    made = _PUBLIC_ROWS if queryset is None else _NEAREST_ROWS
    at_id, at_lat, at_lon, at_hours = _positions(made)
    while True:
        if queryset is None:
            rows = _nearest_public(offset, batch, accessible, third_washroom, free, box)
        else:
            rows = list(_nearest_query(offset, batch, accessible, third_washroom, free, base=queryset, **box))
        # Distance and opening hours are read from the plain rows; only the rows kept become instances
        # (the spare rows of a batch cost as much to build as the ones shown).
        for row in rows:
            d = distance.haversine_m(lat, lon, row[at_lat], row[at_lon])
            if d > radius_m:
                continue
            open_now = rules.is_open(row[at_hours], at)
            if open_only and not open_now:
                continue
            found.append((d, row[at_id], open_now, row))
        # The approximate order can differ from the exact one by far less than a batch's spread; sort.
        if len(found) >= limit or len(rows) < batch:
            break
        offset += batch
    found.sort(key=lambda c: (c[0], c[1]))
    kept = found[:limit]
    facilities = made.objects([c[3] for c in kept])
    _attach_last_results(facilities)
    return [Nearby(f, d, open_now) for f, (d, _pk, open_now, _row) in zip(facilities, kept, strict=True)]


class LastResult(NamedTuple):
    """One checklist line of a facility's last inspection, as the public finder shows it (a named
    tuple: the finder makes eighty per request, and a frozen dataclass costs four times as much)."""

    key: str
    name: str
    passed: bool


def _last_results_query(*, ids: list[int]) -> QuerySet:
    # an inspection without lines still comes, once, with NULL line columns (an outer join)
    return (
        Inspection.objects.filter(id__in=ids)
        .order_by("id", "results__item__order", "results__id")
        .values_list("id", "at", "compliant", "results__item__key", "results__item__name", "results__passed")
    )


# compiled once per number of facilities (core.db.Prepared), as the finder's own query
_LAST_RESULTS = Prepared(_last_results_query)
_LAST_INSPECTION = Facility._meta.get_field("last_inspection")


def _attach_last_results(facilities: list[Facility]) -> None:
    """Set ``last_results`` on each facility: the lines of its last inspection, in item order; and its
    ``last_inspection`` (time and result) where it was not read with it.

    Read as plain rows: the finder answers every request with ten facilities and their eight lines, and
    building 160 model instances for three values each cost more than the query."""
    ids = [f.last_inspection_id for f in facilities if f.last_inspection_id]
    inspections: dict[int, Inspection] = {}
    lines: dict[int, list[LastResult]] = {}
    if ids:
        with stable_plans():  # a lookup by keys: one plan for every list of ten
            found = _LAST_RESULTS.rows(ids=ids)
        for inspection_id, at, compliant, key, name, passed in found:
            if inspection_id not in inspections:
                inspections[inspection_id] = Inspection.from_db(
                    DEFAULT_DB_ALIAS, ("id", "at", "compliant"), (inspection_id, at, compliant)
                )
                lines[inspection_id] = []
            if key is not None:
                lines[inspection_id].append(LastResult(key, name, passed))
    for f in facilities:
        f.last_results = lines.get(f.last_inspection_id, [])
        if not _LAST_INSPECTION.is_cached(f):
            _LAST_INSPECTION.set_cached_value(f, inspections.get(f.last_inspection_id))


# ------------------------------------------------------------------------------------------------
# schedules


@dataclass(frozen=True)
class DueRow:
    facility: Facility
    status: str
    next_due: datetime | None
    interval_days: int


def due_list(user, *, now: datetime, statuses: tuple[str, ...] = ("never", "late", "due")) -> list[DueRow]:
    """Active facilities whose inspection is due, late or never done: late and never first."""
    templates = templates_by_kind()
    rows = []
    for f in facility_list_for(user).filter(is_active=True).select_related("department"):
        interval = interval_of(f, templates)
        status = rules.inspection_status(f.last_inspected_at, interval, now)
        if status in statuses:
            rows.append(DueRow(f, status, rules.next_due(f.last_inspected_at, interval), interval))
    order = {"never": 0, "late": 1, "due": 2, "ok": 3}
    far = now + timedelta(days=3650)
    rows.sort(key=lambda r: (order[r.status], r.next_due or far, r.facility.code))
    return rows


# ------------------------------------------------------------------------------------------------
# figures


def _period_start(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def compliance_overall(*, since: datetime, until: datetime) -> rules.Ratio:
    agg = Inspection.objects.filter(at__gte=since, at__lt=until).aggregate(
        n=Count("id"), ok=Count("id", filter=Q(compliant=True))
    )
    return rules.compliance(agg["ok"], agg["n"])


def compliance_by(group: str, *, since: datetime, until: datetime) -> list[tuple[str, rules.Ratio]]:
    """Compliance per ``county``, ``department``, ``week`` or ``month`` (keys as codes or dates)."""
    qs = Inspection.objects.filter(at__gte=since, at__lt=until)
    tz = timezone.get_current_timezone()
    key = {
        "county": F("facility__county_code"),
        "department": F("facility__department__code"),
        "week": TruncWeek("at", tzinfo=tz),
        "month": TruncMonth("at", tzinfo=tz),
    }[group]
    rows = (
        qs.annotate(k=key)
        .values("k")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(compliant=True)))
        .order_by("k")
    )
    return [(r["k"], rules.compliance(r["ok"], r["n"])) for r in rows]


def compliance_per_item(*, since: datetime, until: datetime) -> list[tuple[ChecklistItem, rules.Ratio]]:
    rows = (
        InspectionResult.objects.filter(inspection__at__gte=since, inspection__at__lt=until)
        .values("item")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(passed=True)))
    )
    items = {i.pk: i for i in ChecklistItem.objects.filter(pk__in=[r["item"] for r in rows])}
    out = [(items[r["item"]], rules.Ratio(r["ok"], r["n"])) for r in rows]
    out.sort(key=lambda x: (x[0].template_id, x[0].order, x[0].pk))
    return out


def supplies_coverage() -> rules.Ratio:
    """Active toilets whose last inspection found every supplies item passed / active toilets."""
    toilets = public_toilets()
    failed_supply = InspectionResult.objects.filter(
        inspection_id=OuterRef("last_inspection_id"), item__supplies=True, passed=False
    )
    any_supply = InspectionResult.objects.filter(
        inspection_id=OuterRef("last_inspection_id"), item__supplies=True
    )
    agg = toilets.aggregate(
        n=Count("id"),
        ok=Count(
            "id",
            filter=Q(last_inspection__isnull=False) & Q(Exists(any_supply)) & ~Q(Exists(failed_supply)),
        ),
    )
    return rules.Ratio(agg["ok"], agg["n"])


def station_completion() -> rules.Ratio:
    agg = FacilityService.objects.filter(
        facility__is_active=True, facility__kind=FacilityKind.STATION
    ).aggregate(n=Count("id"), ok=Count("id", filter=Q(in_place=True)))
    return rules.Ratio(agg["ok"], agg["n"])


def toilet_indicators(now: datetime, *, days: int = 30) -> dict:
    """The key numbers for the dashboards: supplies coverage, station completion, compliance rate."""
    supplies = supplies_coverage()
    stations = station_completion()
    comp = compliance_overall(since=_period_start(now, days), until=now)
    toilets = public_toilets()
    return {
        "toilets": toilets.count(),
        "stations": toilets.filter(kind=FacilityKind.STATION).count(),
        "supplies_coverage": {"part": supplies.part, "whole": supplies.whole, "rate": supplies.rate},
        "station_completion": {"part": stations.part, "whole": stations.whole, "rate": stations.rate},
        "compliance": {"part": comp.part, "whole": comp.whole, "rate": comp.rate, "days": days},
        "open_issues": FacilityIssue.objects.filter(resolved_at=None).count(),
    }


def inspections_for(user) -> QuerySet[Inspection]:
    """Inspections ``user`` may see (staff: all)."""
    if not is_staff(user):
        return Inspection.objects.none()
    return Inspection.objects.all()
