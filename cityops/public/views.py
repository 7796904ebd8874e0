"""Public pages: report a problem, track a case, the public map and figures. No log-in needed.

Adapters only: parse -> authorize through the public selectors -> call one service -> render.
Every case shown here comes from ``public_case_list`` / ``public_case_get``; a reporter's contact
details appear only masked, and only to the holder of the case's tracking token (or a matching phone).
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from datetime import datetime
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cityops.cases import services
from cityops.cases.choices import DEPARTMENT_STATES, OPEN_STATES, Action, PhotoStage, Rating, Source
from cityops.cases.models import Attachment
from cityops.cases.selectors import public_case_get, public_case_list, public_events
from cityops.catalog import selectors as catalog
from cityops.core import jsonout
from cityops.core.errors import DomainError
from cityops.core.images import photo_response
from cityops.core.redact import redact_contacts
from cityops.geography.choices import AreaLevel
from cityops.geography.selectors import area_index, area_list
from cityops.public import selectors
from cityops.public import services as public_services
from cityops.public.forms import (
    MAP_PERIODS,
    FollowForm,
    MapFilterForm,
    PublicReportForm,
    RateForm,
    ReopenForm,
    TrackForm,
    mask_phone,
)

# Anonymous reports per address per hour, and tracking look-ups by phone (guessing phone numbers).
REPORTS_PER_HOUR = 10
LOOKUPS_PER_HOUR = 30
CITY_CENTRE = (36.195, 113.117)
SESSION_KEY = "cityops_track"  # {number: {"t": token, "phone": digits}}


def _now() -> datetime:
    return timezone.now()


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a forwarded header is trusted only when a proxy sets it (deployment concern).
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _over_limit(request: HttpRequest, bucket: str, limit: int) -> bool:
    """Count one use of ``bucket`` by this address in the current hour; True once over ``limit``."""
    key = f"public:{bucket}:{_client_ip(request)}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > limit


def _districts():
    return [(a.code, a.name) for a in area_list(level=AreaLevel.COUNTY)]


def _grouped_types():
    """Public types grouped by major class, problems (matters) before facilities (components)."""
    groups: OrderedDict[str, list] = OrderedDict()
    types = sorted(catalog.type_list(public_only=True), key=lambda t: (t.kind != "matter", t.code))
    for t in types:
        label = t.major_name if t.kind == "matter" else _("Facilities: %(major)s") % {"major": t.major_name}
        groups.setdefault(label, []).append((f"{t.kind}:{t.code}", t.name, t.code))
    return list(groups.items())


# ------------------------------------------------------------------------------------------------
# report a problem


@require_GET
def type_options(request: HttpRequest) -> HttpResponse:
    """The type picker's ``<option>``s for a search text (htmx), or the grouped list without one."""
    q = request.GET.get("q", "")[:40].strip()
    ctx = {"selected": request.GET.get("type", "")}
    if q:
        ctx["found"] = [
            (f"{t.kind}:{t.code}", t.name, t.code) for t in catalog.type_search(q, public_only=True, limit=30)
        ]
        ctx["query"] = q
    else:
        ctx["groups"] = _grouped_types()
    return render(request, "public/_type_options.html", ctx)


def _district_point(code: str) -> tuple[float, float] | None:
    geom = area_index().geometry_of(code)
    if geom is None or geom.is_empty:
        return None
    p = geom.representative_point()
    return p.y, p.x


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """The citizen's report form (mobile first): type, place, photos, description, phone."""
    districts = _districts()
    status = 200
    if request.method == "POST":
        form = PublicReportForm(request.POST, districts=districts)
        if _over_limit(request, "report", REPORTS_PER_HOUR):
            messages.error(
                request,
                _(
                    "Too many reports from your connection in the last hour. Please try again later "
                    "or call the 12319 city hotline."
                ),
            )
            status = 429
        elif form.is_valid():
            d = form.cleaned_data
            kind, code = form.type_parts()
            lat, lon = d["lat"], d["lon"]
            if lat is None:
                # Typed address only: the report sits inside the chosen district; the inspector who
                # verifies it finds the spot by the address.
                lat, lon = _district_point(d["district"]) or CITY_CENTRE
            data = services.ReportInput(
                source=Source.PUBLIC,
                kind=kind if kind in ("matter", "component") else "",
                type_code=code,
                description=d["description"],
                lat=lat,
                lon=lon,
                address=d["address"],
                reporter_phone=d["phone"],
                is_public=d["is_public"],
                once_key=services.once_key("public", d["once"]),
            )
            try:
                case = services.case_report(
                    data=data, photos=request.FILES.getlist("photos"), actor=None, now=_now()
                )
            except DomainError as exc:
                messages.error(request, exc.message)
                status = exc.status
            else:
                _remember(request, case.number, case.tracking_token, d["phone"])
                request.session["cityops_last_report"] = case.number
                return redirect("public:thanks")
        else:
            status = 400
    else:
        form = PublicReportForm(
            initial={"is_public": True, "once": secrets.token_urlsafe(24)}, districts=districts
        )
    return render(
        request,
        "public/report.html",
        {
            "form": form,
            "groups": _grouped_types(),
            "selected": form["type"].value() or "",
            "districts": districts,
            "centre": CITY_CENTRE,
        },
        status=status,
    )


@require_GET
def nearby(request: HttpRequest) -> HttpResponse:
    """Open public cases of the same type near the pin (htmx): follow one instead of a new report."""
    raw = request.GET.get("type", "")
    kind, _sep, code = raw.rpartition(":")
    try:
        lat, lon = float(request.GET.get("lat", "")), float(request.GET.get("lon", ""))
    except ValueError:
        return render(request, "public/_nearby.html", {"cases": [], "asked": False})
    # a NUL in the type reached PostgreSQL, which refuses it in text: a server error
    if not code or "\x00" in raw or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return render(request, "public/_nearby.html", {"cases": [], "asked": False})
    found = services.duplicate_candidates(
        kind=kind or "matter", type_code=code[:5], lat=lat, lon=lon, now=_now(), limit=10
    )
    visible = set(public_case_list().filter(pk__in=[c.pk for c, _d in found]).values_list("pk", flat=True))
    rows = []
    for c, dist in found:
        if c.pk in visible:
            _group, label = selectors.public_state(c.state)
            rows.append(
                {
                    "number": c.number,
                    "type_name": c.type_name,
                    "state_label": label,
                    "reported_at": c.reported_at,
                    "distance": dist,
                    "followers": c.followers,
                }
            )
    return render(request, "public/_nearby.html", {"cases": rows, "asked": True})


@require_POST
def follow(request: HttpRequest) -> HttpResponse:
    """ "Me too": count the citizen on an open public case and send them its updates."""
    form = FollowForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please check your mobile number."))
        return redirect("public:report")
    number = form.cleaned_data["follow"]
    case = public_case_get(number)
    if case is None or case.state not in OPEN_STATES:
        messages.error(request, _("That case is not open any more: please send a new report."))
        return redirect("public:report")
    phone = "" if form.cleaned_data["anonymous"] else form.cleaned_data["phone"]
    try:
        services.case_follow(number=case.number, phone=phone, now=_now())
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("public:report")
    if phone:  # the case's updates by SMS; never its reporter's link (rating, reopening, their details)
        messages.success(request, _("Thank you: you will get this case's updates by SMS."))
    else:
        messages.success(request, _('Thank you: your "me too" has been counted on this case.'))
    return redirect("public:track_case", number=case.number)


@require_GET
def thanks(request: HttpRequest) -> HttpResponse:
    number = request.session.get("cityops_last_report", "")
    entry = request.session.get(SESSION_KEY, {}).get(number)
    if not number or not entry:
        return redirect("public:report")
    link = request.build_absolute_uri(reverse("public:track_case", args=[number]) + f"?t={entry['t']}")
    return render(
        request,
        "public/thanks.html",
        {"number": number, "link": link, "phone": mask_phone(entry.get("phone", ""))},
    )


# ------------------------------------------------------------------------------------------------
# track a case


def _remember(request: HttpRequest, number: str, token: str, phone: str = "") -> None:
    store = dict(request.session.get(SESSION_KEY, {}))
    store[number] = {"t": token, "phone": phone}
    # A browser keeps at most 20 cases; the oldest is forgotten first.
    while len(store) > 20:
        store.pop(next(iter(store)))
    request.session[SESSION_KEY] = store


def _token(request: HttpRequest, number: str) -> str:
    return request.session.get(SESSION_KEY, {}).get(number, {}).get("t", "")


def _get_case(request: HttpRequest, number: str):
    """The case as the public side may see it; the reporter's token (from the session) also opens
    a private case. Returns (case, is_reporter)."""
    token = _token(request, number)
    case = public_case_get(number, token=token) if token else public_case_get(number)
    if case is None:
        raise Http404(_("No such case, or it is not public."))
    return case, bool(token) and case.tracking_token == token


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """Find a case by number; a matching phone number unlocks the reporter's own details."""
    status = 200
    if request.method == "POST":
        form = TrackForm(request.POST)
        if form.is_valid():
            number, phone = form.cleaned_data["number"], form.cleaned_data["phone"]
            if phone:
                if _over_limit(request, "lookup", LOOKUPS_PER_HOUR):
                    messages.error(request, _("Too many look-ups in the last hour. Please try again later."))
                    return render(request, "public/track_form.html", {"form": form}, status=429)
                token = selectors.reporter_token_for(number, phone)
                if token:
                    _remember(request, number, token, phone)
                    return redirect("public:track_case", number=number)
                if public_case_get(number) is None:
                    form.add_error(None, _("No public case with this number and mobile number."))
                    return render(request, "public/track_form.html", {"form": form}, status=404)
                messages.info(
                    request, _("This mobile number is not the reporter's: you see the public timeline.")
                )
                return redirect("public:track_case", number=number)
            if public_case_get(number) is None:
                form.add_error("number", _("No public case with this number."))
                status = 404
            else:
                return redirect("public:track_case", number=number)
        else:
            status = 400
    else:
        form = TrackForm(initial={"number": request.GET.get("number", "")[:20]})
    return render(request, "public/track_form.html", {"form": form}, status=status)


def _event_sentence(ev) -> str:
    dept = ev.department.name if ev.department_id and ev.department else _("the responsible department")
    sentences = {
        Action.REPORT: _("We received your report."),
        Action.VERIFY: _("Verified on site."),
        Action.FILE: _("Filed as a case."),
        Action.DISPATCH: _("Sent to %(department)s.") % {"department": dept},
        Action.ACCEPT: _("%(department)s has taken it on.") % {"department": dept},
        Action.RETURN: _("Sent back to the command centre to find the right department."),
        Action.PARK: _("Handling postponed: it cannot be done this season."),
        Action.UNPARK: _("Handling resumed."),
        Action.REPORT_DONE: _("Handled."),
        Action.CHECK_PASS: _("Checked on site: done."),
        Action.CHECK_FAIL: _("Checked on site: not finished yet, handling goes on."),
        Action.CLOSE: _("Closed."),
        Action.REJECT: _("Not filed."),
        Action.MERGE: _("Merged with an earlier report of the same problem."),
        Action.REOPEN: _("Reopened."),
        Action.REPLY: _("Reply from the city:"),
    }
    return str(sentences.get(Action(ev.action), "")) if ev.action in Action.values else ""


# Notes of these public events are written for the citizen; other notes are staff-internal.
PUBLIC_NOTE_ACTIONS = {Action.REPLY, Action.REJECT}


def _timeline(case):
    rows = []
    before, after = [], []
    for ev in public_events(case):
        text = _event_sentence(ev)
        photos = [p for p in ev.photos.all() if p.is_public]
        for p in photos:
            (before if p.stage == PhotoStage.REPORT else after).append(p)
        if not text:
            continue
        rows.append(
            {
                "action": ev.action,
                "at": ev.at,
                "text": text,
                "note": redact_contacts(ev.note) if ev.action in PUBLIC_NOTE_ACTIONS else "",
                "original": ev.data.get("original", "") if ev.action == Action.MERGE else "",
                "photos": photos,
            }
        )
    return rows, before, after


@require_GET
def track_case(request: HttpRequest, number: str) -> HttpResponse:
    """The public timeline of a case in plain words; the reporter also sees their own details."""
    token = request.GET.get("t", "")
    if token:
        # A token with a NUL is no token (PostgreSQL refuses it in a query: it was a server error).
        case = public_case_get(number, token=token) if "\x00" not in token else None
        if case is not None and case.tracking_token == token:
            entry = request.session.get(SESSION_KEY, {}).get(number, {})
            _remember(request, number, token, entry.get("phone", "") or case.reporter_phone)
        # The secret leaves the address bar (and later Referer headers) once it is in the session.
        return redirect("public:track_case", number=number)
    case, is_reporter = _get_case(request, number)
    now = _now()
    events, before, after = _timeline(case)
    group, state_label = selectors.public_state(case.state)
    ctx = {
        "case": case,
        "description": redact_contacts(case.description),
        "address": redact_contacts(case.address),
        "events": events,
        "before": before,
        "after": after,
        "state_group": group,
        "state_label": state_label,
        "is_reporter": is_reporter,
        "handle_due": case.handle_due_at if case.state in DEPARTMENT_STATES else None,
    }
    if is_reporter:
        entry = request.session[SESSION_KEY][number]
        ctx.update(
            {
                "my_phone": mask_phone(entry.get("phone", "")),
                "can_rate": services._rating_open(case),
                "can_reopen": services.reopen_window_open(case, now),
                "reopen_asked": case.reopen_requested_at is not None
                and case.closed_at is not None
                and case.reopen_requested_at >= case.closed_at,
                "rating_label": Rating(case.rating).label if case.rating else "",
                "rate_form": RateForm(),
                "reopen_form": ReopenForm(),
                "reopen_days": services.LoopSettings.current().reopen_days,
            }
        )
    return render(request, "public/track.html", ctx)


def _reporter_case(request: HttpRequest, number: str):
    case, is_reporter = _get_case(request, number)
    if not is_reporter:
        raise Http404(_("Open your private tracking link, or enter your mobile number, first."))
    return case


@require_POST
def rate(request: HttpRequest, number: str) -> HttpResponse:
    case = _reporter_case(request, number)
    form = RateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how satisfied you are."))
        return redirect("public:track_case", number=case.number)
    try:
        services.case_rate(
            number=case.number,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
            now=_now(),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you for your rating."))
    return redirect("public:track_case", number=case.number)


@require_POST
def reopen(request: HttpRequest, number: str) -> HttpResponse:
    case = _reporter_case(request, number)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tell us why the problem is not solved."))
        return redirect("public:track_case", number=case.number)
    try:
        services.case_reopen_request(number=case.number, reason=form.cleaned_data["reason"], now=_now())
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your request has been sent to the command centre's duty chief."))
    return redirect("public:track_case", number=case.number)


@require_GET
def photo(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """A public photo of a case the visitor may see (report, handled and checked photos)."""
    case, _is_reporter = _get_case(request, number)
    p = (
        Attachment.objects.filter(case=case, pk=pk, is_public=True, event__is_public=True)
        .only("file")
        .first()
    )
    if p is None:
        raise Http404(_("No such photo."))
    return photo_response(p.file)


# ------------------------------------------------------------------------------------------------
# public map and figures


def _map_form(request: HttpRequest) -> MapFilterForm:
    areas = [(a.code, a.name) for a in area_list(level=AreaLevel.COUNTY)]
    form = MapFilterForm(request.GET, areas=areas, types=catalog.type_list(public_only=True))
    form.is_valid()
    return form


def _map_filters(form: MapFilterForm) -> selectors.MapFilters:
    return selectors.MapFilters(
        type_code=form.value("type"),
        area=form.value("area"),
        state=form.value("state"),
        days=MAP_PERIODS.get(form.value("days", "30"), 30),
    )


@require_GET
def map_page(request: HttpRequest) -> HttpResponse:
    form = _map_form(request)
    rows = selectors.map_cases(_map_filters(form), now=_now(), limit=100)
    types = sorted(catalog.type_list(public_only=True), key=lambda t: (t.kind != "matter", t.code))
    seen, type_choices = set(), []
    for t in types:  # a code once (the matter and component of a code share it)
        if t.code not in seen:
            seen.add(t.code)
            type_choices.append((t.code, f"{t.code} {t.name}"))
    return render(
        request,
        "public/map.html",
        {
            "form": form,
            "rows": rows,
            "type_choices": type_choices,
            "selected_type": form.value("type"),
            "query": request.GET.urlencode(),
            "centre": CITY_CENTRE,
        },
    )


URL_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what ``reverse`` leaves unquoted in an argument


@require_GET
def map_geojson(request: HttpRequest) -> HttpResponse:
    """Recent public cases as GeoJSON points with public fields only (at most 2000)."""
    form = _map_form(request)
    rows = selectors.map_cases(_map_filters(form), now=_now())
    # Up to 2,000 points: the track page's address is built once and the number put in it (``reverse``
    # for each point was two thirds of the answer's time).
    marker = "0"
    head, _marker, tail = reverse("public:track_case", args=[marker]).rpartition(marker)
    zone = timezone.get_current_timezone()
    features = []
    for r in rows:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                "properties": {
                    "number": r["number"],
                    "type": f"{r['type_code']} {r['type_name']}",
                    "state": r["group"],
                    "state_label": r["state_label"],
                    "reported": r["reported_at"].astimezone(zone).date().isoformat(),
                    "url": f"{head}{quote(r['number'], safe=URL_SAFE)}{tail}",
                },
            }
        )
    payload = {"type": "FeatureCollection", "features": features, "truncated": len(rows) >= selectors.MAP_CAP}
    response = HttpResponse(jsonout.dumps(payload), content_type="application/geo+json; charset=utf-8")
    response["Cache-Control"] = "public, max-age=60"
    return response


@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    periods = {str(d): d for d in selectors.FIGURE_PERIODS}
    days = periods.get(request.GET.get("days", "90"), 90)
    now = _now()
    as_of, rows = public_services.figures_now(days=days, now=now)
    return render(
        request,
        "public/figures.html",
        {
            "rows": rows,
            "days": days,
            "periods": list(periods),
            "now": now,
            "as_of": as_of,
            # whole minutes, at least one, when the figures are kept between loads
            "every_minutes": max(1, round(settings.CITYOPS_PUBLIC_FIGURES_SECONDS / 60))
            if settings.CITYOPS_PUBLIC_FIGURES_SECONDS
            else 0,
        },
    )
