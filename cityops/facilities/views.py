"""Staff pages of the registry and inspections, the public toilet finder and its JSON API.

Adapters only: parse -> authorize through the selectors -> call one service -> render.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cityops.cases.models import Case
from cityops.core.errors import DomainError
from cityops.core.images import photo_response
from cityops.core.jsonout import json_response
from cityops.facilities import rules, selectors, services, xlsx
from cityops.facilities.choices import TOILET_KINDS, InspectionStatus
from cityops.facilities.forms import FAIL, FacilityFilterForm, FinderForm, InspectionForm, RegistryUploadForm
from cityops.facilities.models import InspectionResult
from cityops.geography.choices import AreaLevel
from cityops.geography.selectors import area_list
from cityops.organization.choices import Role
from cityops.organization.selectors import department_list_for, roles_of

PAGE_SIZE = 50
# Where the finder starts without the user's position: the main city's centre (英雄广场).
CITY_CENTRE = (36.1955, 113.1165)
LOCAL = ZoneInfo("Asia/Shanghai")


def _now() -> datetime:
    return timezone.now()


def _staff_only(request: HttpRequest) -> None:
    if not selectors.is_staff(request.user):
        raise Http404(_("No such page."))


def _inspector_only(request: HttpRequest) -> None:
    if Role.INSPECTOR not in roles_of(request.user):
        raise Http404(_("No such page."))


def _counties():
    return list(area_list(level=AreaLevel.COUNTY))


# ------------------------------------------------------------------------------------------------
# registry


@login_required
@require_GET
def facility_list(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    now = _now()
    counties = _counties()
    form = FacilityFilterForm(
        request.GET,
        counties=counties,
        departments=department_list_for(request.user)
        .filter(facilities__isnull=False)
        .distinct()
        .order_by("path"),
    )
    form.is_valid()
    qs = selectors.facility_list_for(request.user).select_related("department")
    if q := form.value("q"):
        qs = qs.filter(code__startswith=q) | qs.filter(name__icontains=q) | qs.filter(address__icontains=q)
    if kind := form.value("kind"):
        qs = qs.filter(kind=kind)
    if county := form.value("county"):
        qs = qs.filter(county_code=county)
    if dept := form.value("department"):
        qs = qs.filter(department__code=dept)
    templates = selectors.templates_by_kind()
    status = form.value("status")
    page = form.value("page", 1)
    rows = []
    if status:
        for f in qs.order_by("code"):
            f.status = rules.inspection_status(f.last_inspected_at, selectors.interval_of(f, templates), now)
            if f.status == status:
                rows.append(f)
        has_next = len(rows) > page * PAGE_SIZE
        rows = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    else:
        rows = list(qs.order_by("code")[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
        has_next = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        for f in rows:
            f.status = rules.inspection_status(f.last_inspected_at, selectors.interval_of(f, templates), now)
    names = {a.code: a.name for a in counties}
    for f in rows:
        f.county_name = names.get(f.county_code, f.county_code)
        f.status_label = InspectionStatus(f.status).label
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "facilities/list.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "has_prev": page > 1,
            "has_next": has_next,
            "base_query": params.urlencode(),
            "is_inspector": Role.INSPECTOR in roles_of(request.user),
        },
    )


def _map_points(facilities, now: datetime, templates) -> list[dict]:
    return [
        {
            "code": f.code,
            "name": f.name,
            "lat": f.lat,
            "lon": f.lon,
            "kind": f.kind,
            "status": rules.inspection_status(f.last_inspected_at, selectors.interval_of(f, templates), now),
            "url": reverse("facilities:detail", args=[f.code]),
        }
        for f in facilities
    ]


@login_required
@require_GET
def facility_map(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    now = _now()
    qs = selectors.facility_list_for(request.user).filter(is_active=True).order_by("code")
    points = _map_points(qs, now, selectors.templates_by_kind())
    return render(request, "facilities/map.html", {"points": points, "centre": CITY_CENTRE})


@login_required
@require_GET
def facility_detail(request: HttpRequest, code: str) -> HttpResponse:
    _staff_only(request)
    facility = selectors.facility_get_for(request.user, code)
    if facility is None:
        raise Http404(_("No such facility."))
    now = _now()
    templates = selectors.templates_by_kind()
    interval = selectors.interval_of(facility, templates)
    issues = selectors.open_issues_of(facility)
    states = dict(
        Case.objects.filter(number__in=[i.case_number for i in issues]).values_list("number", "state")
    )
    for i in issues:
        i.case_state = states.get(i.case_number, "")
    return render(
        request,
        "facilities/detail.html",
        {
            "f": facility,
            "services": list(facility.services.all()),
            "inspections": selectors.inspections_of(facility),
            "issues": issues,
            "status": InspectionStatus(rules.inspection_status(facility.last_inspected_at, interval, now)),
            "next_due": rules.next_due(facility.last_inspected_at, interval),
            "interval": interval,
            "open_now": rules.is_open(facility.opening_hours, now),
            "is_inspector": Role.INSPECTOR in roles_of(request.user),
            "county_name": dict((a.code, a.name) for a in _counties()).get(facility.county_code, ""),
        },
    )


@login_required
@require_GET
def due_list(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    rows = selectors.due_list(request.user, now=_now())
    for r in rows:
        r.facility.status_label = InspectionStatus(r.status).label
    return render(request, "facilities/due.html", {"rows": rows})


@login_required
@require_GET
def registry_export(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    qs = (
        selectors.facility_list_for(request.user)
        .select_related("department")
        .prefetch_related("services")
        .order_by("code")
    )
    content = xlsx.write_registry(qs)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime(_now()).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="facilities-{stamp}.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def registry_import(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    if not request.user.is_superuser and not (roles_of(request.user) & {Role.ADMIN, Role.DUTY_CHIEF}):
        raise Http404(_("No such page."))
    errors = []
    status = 200
    if request.method == "POST":
        form = RegistryUploadForm(request.POST, request.FILES)
        if form.is_valid():
            result = services.facilities_import(
                content=form.cleaned_data["file"].read(), actor=request.user, now=_now()
            )
            if result.errors:
                errors = result.errors
                status = 400
                messages.error(request, _("Nothing was imported: correct the rows below and upload again."))
            else:
                messages.success(
                    request,
                    _("Imported: %(created)s new, %(updated)s updated.")
                    % {"created": result.created, "updated": result.updated},
                )
                return redirect("facilities:list")
        else:
            status = 400
    else:
        form = RegistryUploadForm()
    return render(request, "facilities/import.html", {"form": form, "errors": errors}, status=status)


# ------------------------------------------------------------------------------------------------
# inspections


def _float(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if -180 <= v <= 180 else None


@login_required
@require_GET
def nearby(request: HttpRequest) -> HttpResponse:
    """The inspector's phone list: facilities nearest to their position, or the due list without one."""
    _inspector_only(request)
    now = _now()
    lat, lon = _float(request.GET.get("lat")), _float(request.GET.get("lon"))
    templates = selectors.templates_by_kind()
    rows = []
    if lat is not None and lon is not None:
        qs = selectors.facility_list_for(request.user).filter(is_active=True, kind__in=list(templates))
        for n in selectors.nearest_toilets(lat=lat, lon=lon, at=now, limit=20, queryset=qs):
            f = n.facility
            f.distance_m = round(n.distance_m)
            f.status = rules.inspection_status(f.last_inspected_at, selectors.interval_of(f, templates), now)
            rows.append(f)
    else:
        for r in selectors.due_list(request.user, now=now)[:20]:
            r.facility.distance_m = None
            r.facility.status = r.status
            rows.append(r.facility)
    for f in rows:
        f.status_label = InspectionStatus(f.status).label
    return render(
        request,
        "facilities/nearby.html",
        {"rows": rows, "lat": lat, "lon": lon, "has_position": lat is not None},
    )


def _checklist(facility):
    template = services.template_for(facility)
    if template is None:
        raise Http404(_("No inspection template applies to this facility."))
    return template, selectors.checklist_of(template)


@login_required
@require_http_methods(["GET", "POST"])
def inspect(request: HttpRequest, code: str) -> HttpResponse:
    """The checklist on the phone: pass or fail per item, a photo and a note for failures."""
    _inspector_only(request)
    facility = selectors.facility_get_for(request.user, code)
    if facility is None or not facility.is_active:
        raise Http404(_("No such facility."))
    template, items = _checklist(facility)
    status = 200
    if request.method == "POST":
        form = InspectionForm(request.POST, request.FILES, items=items)
        if form.is_valid():
            d = form.cleaned_data
            answers = [
                services.ItemAnswer(
                    item=i.key,
                    passed=d[f"item-{i.key}"] != FAIL,
                    note=d[f"note-{i.key}"],
                    photo=d[f"photo-{i.key}"],
                )
                for i in items
            ]
            try:
                outcome = services.inspection_submit(
                    facility=facility.code,
                    answers=answers,
                    actor=request.user,
                    now=_now(),
                    lat=d.get("lat"),
                    lon=d.get("lon"),
                    note=d["note"],
                )
            except DomainError as exc:
                messages.error(request, exc.message)
                status = exc.status
            else:
                if outcome.opened:
                    messages.success(
                        request, _("Cases opened: %(numbers)s.") % {"numbers": ", ".join(outcome.opened)}
                    )
                if outcome.checked:
                    messages.success(
                        request, _("Checks passed: %(numbers)s.") % {"numbers": ", ".join(outcome.checked)}
                    )
                messages.success(request, _("Inspection saved."))
                return redirect("facilities:inspection", pk=outcome.inspection.pk)
        else:
            status = 400
    else:
        form = InspectionForm(items=items)
    return render(
        request,
        "facilities/inspect.html",
        {"f": facility, "template": template, "form": form, "rows": form.rows()},
        status=status,
    )


@login_required
@require_GET
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    ins = (
        selectors.inspections_for(request.user)
        .select_related("facility", "facility__department", "template")
        .filter(pk=pk)
        .first()
    )
    if ins is None:
        raise Http404(_("No such inspection."))
    results = list(ins.results.select_related("item", "issue").order_by("item__order", "id"))
    numbers = [r.issue.case_number for r in results if r.issue_id]
    cases = {c.number: c for c in Case.objects.filter(number__in=numbers).select_related("department")}
    for r in results:
        r.case = cases.get(r.issue.case_number) if r.issue_id else None
    return render(request, "facilities/inspection.html", {"ins": ins, "results": results})


@login_required
@require_GET
def result_photo(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    r = InspectionResult.objects.filter(pk=pk, inspection__in=selectors.inspections_for(request.user)).first()
    if r is None or not r.photo:
        raise Http404(_("No such photo."))
    return photo_response(r.photo)


# ------------------------------------------------------------------------------------------------
# figures


@login_required
@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    now = _now()
    days = 30
    since = now - timedelta(days=days)
    names = {a.code: a.name for a in _counties()}
    depts = {d.code: d.name for d in department_list_for(request.user)}
    local_today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    weeks_since = local_today - timedelta(days=local_today.weekday() + 7 * 7)
    months_since = local_today.replace(day=1) - timedelta(days=150)
    months_since = months_since.replace(day=1)
    return render(
        request,
        "facilities/figures.html",
        {
            "days": days,
            "ind": selectors.toilet_indicators(now, days=days),
            "per_item": selectors.compliance_per_item(since=since, until=now),
            "per_county": [
                (names.get(k, k), r) for k, r in selectors.compliance_by("county", since=since, until=now)
            ],
            "per_department": [
                (depts.get(k, k), r) for k, r in selectors.compliance_by("department", since=since, until=now)
            ],
            "per_week": selectors.compliance_by("week", since=weeks_since, until=now),
            "per_month": selectors.compliance_by("month", since=months_since, until=now),
        },
    )


# ------------------------------------------------------------------------------------------------
# the public finder and its API


def _flag(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def toilet_json(n: selectors.Nearby) -> dict:
    f = n.facility
    last = None
    if f.last_inspection_id and f.last_inspection is not None:
        last = {
            "at": f.last_inspection.at.isoformat(),
            "compliant": f.last_inspection.compliant,
            "items": [{"key": r.key, "name": r.name, "passed": r.passed} for r in f.last_results],
        }
    return {
        "code": f.code,
        "name": f.name,
        "address": f.address,
        "is_station": f.is_station,
        "lat": round(f.lat, 6),
        "lon": round(f.lon, 6),
        "distance_m": round(n.distance_m),
        "open_now": n.open_now,
        "opening_hours": f.opening_hours,
        "open_24h": rules.is_24h(f.opening_hours),
        "free": f.free,
        "accessible": f.accessible,
        "third_washroom": f.third_washroom,
        "last_inspection": last,
    }


def _api_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _open_at(raw: str) -> datetime | None:
    """``open_at`` as an aware time, or None when it is not one. ``parse_datetime`` raises on a
    well-formed impossible value (month 13, an offset of +99:00), and a time at the calendar's edge
    overflows when read in local time: each was a server error."""
    try:
        parsed = parse_datetime(raw.replace(" ", "+"))
        if parsed is None:
            return None
        at = parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL)
        at.astimezone(LOCAL)
    except (ValueError, OverflowError):
        return None
    return at


@require_GET
def api_nearest(request: HttpRequest) -> HttpResponse:
    """``GET /api/v1/toilets/nearest?lat=..&lon=..&limit=..`` (public, read-only).

    Optional: ``open_at`` (ISO time; only toilets open then, ``open_now`` evaluated then),
    ``open=1`` (only toilets open now), ``accessible=1``, ``third_washroom=1``, ``free=1``.
    """
    try:
        lat = float(request.GET["lat"])
        lon = float(request.GET["lon"])
    except (KeyError, ValueError):
        return _api_error(_("Give lat and lon in decimal degrees."))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return _api_error(_("Give lat and lon in decimal degrees."))
    try:
        limit = int(request.GET.get("limit", 10))
    except ValueError:
        return _api_error(_("limit is a whole number from 1 to 50."))
    if not 1 <= limit <= 50:
        return _api_error(_("limit is a whole number from 1 to 50."))
    at = _now()
    open_only = _flag(request.GET.get("open"))
    if request.GET.get("open_at"):
        at = _open_at(request.GET["open_at"])
        if at is None:
            return _api_error(_("open_at is an ISO date and time, e.g. 2026-03-10T21:30+08:00."))
        open_only = True
    found = selectors.nearest_toilets(
        lat=lat,
        lon=lon,
        at=at,
        limit=limit,
        open_only=open_only,
        accessible=_flag(request.GET.get("accessible")),
        third_washroom=_flag(request.GET.get("third_washroom")),
        free=_flag(request.GET.get("free")),
    )
    response = json_response([toilet_json(n) for n in found])
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def finder(request: HttpRequest) -> HttpResponse:
    """The public toilet finder: nearest first from the user's position or the city centre."""
    first_visit = "lat" not in request.GET
    form = FinderForm(request.GET if not first_visit else {"open": "on"})
    form.is_valid()
    d = form.cleaned_data if form.is_valid() else {}
    lat, lon = d.get("lat"), d.get("lon")
    from_user = lat is not None and lon is not None
    if not from_user:
        lat, lon = CITY_CENTRE
    now = _now()
    found = selectors.nearest_toilets(
        lat=lat,
        lon=lon,
        at=now,
        limit=20,
        open_only=bool(d.get("open")),
        accessible=bool(d.get("accessible")),
        third_washroom=bool(d.get("third_washroom")),
        free=bool(d.get("free")),
    )
    rows = [toilet_json(n) for n in found]
    for row in rows:
        row["distance_km"] = row["distance_m"] / 1000
    return render(
        request,
        "facilities/finder.html",
        {
            "form": form,
            "rows": rows,
            "lat": lat,
            "lon": lon,
            "from_user": from_user,
            "kinds": [str(k) for k in TOILET_KINDS],
        },
    )
