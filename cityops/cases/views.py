"""Staff workbench: work queues, the case page with its actions, exports and the inspector's phone pages.

Adapters only: parse -> authorize through the selectors -> call one service -> render.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cityops.cases import deadlines, export, selectors, services, workflow
from cityops.cases.choices import DEPARTMENT_STATES, OPEN_STATES, Action, PhotoStage, Source, Stage, State
from cityops.cases.forms import DEFAULT_PAGE_SIZE, QUEUE_LABELS, ActionForm, CaseFilterForm, ReportForm
from cityops.cases.models import Attachment
from cityops.catalog import selectors as catalog
from cityops.catalog.choices import Kind, Urgency
from cityops.core.calendar import load_calendar
from cityops.core.errors import DomainError
from cityops.core.images import photo_response
from cityops.core.labels import labels_of
from cityops.core.worktime import WORKING_UNITS, Unit
from cityops.geography.choices import AreaLevel
from cityops.geography.selectors import area_choices, area_names
from cityops.organization.choices import Role
from cityops.organization.selectors import (
    department_choices_for,
    departments_for,
    members_with_role,
    roles_of,
    sees_whole_city,
)

# Actions whose form offers a photo upload (required for report_done, optional for the others).
PHOTO_ACTIONS = {Action.REPORT_DONE, Action.CHECK_FAIL, Action.CHECK_PASS, Action.VERIFY}
# Actions after which someone may be asked to go on site.
INSPECTOR_ACTIONS = {Action.VERIFY, Action.REPORT_DONE, Action.REOPEN, Action.FILE}


def _now() -> datetime:
    return timezone.now()


def _staff_only(request: HttpRequest) -> None:
    if not roles_of(request.user):
        raise Http404(_("No such page."))


# ------------------------------------------------------------------------------------------------
# queues


def _filter_form(request: HttpRequest) -> tuple[CaseFilterForm, dict[str, str]]:
    areas = area_choices(AreaLevel.COUNTY, AreaLevel.TOWNSHIP)
    form = CaseFilterForm(
        request.GET,
        types=catalog.type_choices(),
        areas=areas,
        departments=department_choices_for(request.user),
        queue_labels=QUEUE_LABELS,
    )
    form.is_valid()
    return form, dict(areas)


def _local_minute(value: datetime | None, tz) -> str:
    """``YYYY-MM-DD HH:MM`` in ``tz``: ``isoformat`` cut before the seconds (a third of ``strftime``'s
    time; a queue page writes a hundred)."""
    return value.astimezone(tz).isoformat(" ", "minutes")[:16] if value else ""


@login_required
@require_GET
def case_queue(request: HttpRequest) -> HttpResponse:
    """A work queue with filters, search and paging that never counts the whole table."""
    _staff_only(request)
    now = _now()
    form, names_of_areas = _filter_form(request)
    filters = form.filters()
    page = form.value("page", 1)
    size = form.value("size", DEFAULT_PAGE_SIZE)
    start = (page - 1) * size
    # one extra row says whether there is a next page
    rows = selectors.case_queue_page(request.user, filters, now=now, offset=start, limit=size + 1)
    has_next = len(rows) > size
    rows = rows[:size]
    # Row values prepared here rather than by per-row template filters and {% url %} (half the page's
    # time at 50 rows): one URL pattern, local times formatted once, state labels looked up.
    detail_url = reverse("cases:detail", args=["-"])
    state_labels = labels_of(State)
    tz = timezone.get_current_timezone()  # looked up once, not per value as ``localtime`` does
    for c in rows:
        c.area_name = names_of_areas.get(c.township_code) or names_of_areas.get(c.county_code, c.county_code)
        c.is_overdue = c.state in OPEN_STATES and deadlines.is_overdue(c.due_at, now, c.paused_at is not None)
        c.url = detail_url.replace("/-/", f"/{quote(c.number)}/")
        c.state_label = state_labels.get(c.state, c.state)
        c.reported_text = _local_minute(c.reported_at, tz)
        c.due_text = _local_minute(c.due_at, tz)
    params = request.GET.copy()
    params.pop("page", None)
    base = params.urlencode()
    role_queues = []
    for role in roles_of(request.user):
        for name in selectors.ROLE_QUEUES.get(role, []):
            if name not in role_queues:
                role_queues.append(name)
    return render(
        request,
        "cases/queue.html",
        {
            "form": form,
            "filters": filters,
            "queue_label": QUEUE_LABELS.get(filters.queue, filters.queue),
            "queues": [(n, QUEUE_LABELS[n]) for n in role_queues],
            "rows": rows,
            "page": page,
            "has_prev": page > 1,
            "has_next": has_next,
            "base_query": base,
            "export_query": base,
            "first_index": start + 1,
        },
    )


@login_required
@require_GET
def inspector_tasks(request: HttpRequest) -> HttpResponse:
    """The inspector's phone list: reports to verify and handled cases to check on site."""
    if Role.INSPECTOR not in roles_of(request.user):
        raise Http404(_("No such page."))
    now = _now()
    sections = []
    for name in ("to_verify", "to_check"):
        qs = selectors.case_queue_for(request.user, selectors.CaseFilters(queue=name, sort="due"), now=now)
        rows = list(qs.select_related("department")[:51])
        for c in rows:
            c.is_overdue = deadlines.is_overdue(c.due_at, now, c.paused_at is not None)
            c.mine = c.inspector_id == request.user.pk
        sections.append(
            {
                "name": name,
                "label": QUEUE_LABELS[name],
                "rows": rows[:50],
                "more": len(rows) > 50,
            }
        )
    return render(request, "cases/tasks.html", {"sections": sections})


# ------------------------------------------------------------------------------------------------
# exports


def _export_queryset(request: HttpRequest):
    _staff_only(request)
    form, _names = _filter_form(request)
    return selectors.case_queue_for(request.user, form.filters(), now=_now())


@login_required
@require_GET
def case_export_csv(request: HttpRequest) -> HttpResponse:
    qs = _export_queryset(request)
    return export.csv_response(qs, with_phone=sees_whole_city(request.user), now=_now())


@login_required
@require_GET
def case_export_xlsx(request: HttpRequest) -> HttpResponse:
    qs = _export_queryset(request)
    return export.xlsx_response(qs, with_phone=sees_whole_city(request.user), now=_now())


# ------------------------------------------------------------------------------------------------
# the case page


def _left(due_at: datetime | None, unit: str, now: datetime, calendar, paused: bool) -> dict | None:
    if due_at is None:
        return None
    try:
        unit = Unit(unit)
    except ValueError:
        unit = Unit.WORK_HOUR
    left: timedelta = deadlines.time_left(due_at, now, unit, calendar)
    minutes = int(abs(left).total_seconds() // 60)
    return {
        "due_at": due_at,
        "overdue": left < timedelta(0),
        "hours": minutes // 60,
        "minutes": minutes % 60,
        "working": unit in WORKING_UNITS,
        "paused": paused,
    }


def _deadlines(case, now: datetime) -> list[dict]:
    calendar = load_calendar()
    paused = case.paused_at is not None
    rows = []
    if case.due_at and case.stage and case.stage != Stage.HANDLE:
        limit = catalog.step_limit(case.stage)
        unit = limit.unit if limit else Unit.WORK_HOUR
        info = _left(case.due_at, unit, now, calendar, paused)
        info["label"] = _("%(stage)s due") % {"stage": Stage(case.stage).label}
        rows.append(info)
    if case.state in DEPARTMENT_STATES and len(case.milestones) > 1:
        for m in case.milestones[:-1]:
            if m.get("due"):
                info = _left(datetime.fromisoformat(m["due"]), m["unit"], now, calendar, paused)
                info["label"] = _("Milestone due: %(stage)s") % {"stage": m["stage"]}
                rows.append(info)
    if case.handle_due_at and case.state in DEPARTMENT_STATES:  # the handling clock stops at report_done
        info = _left(case.handle_due_at, case.handle_unit or Unit.WORK_HOUR, now, calendar, paused)
        info["label"] = _("Handling due")
        rows.append(info)
    return rows


def _action_forms(request: HttpRequest, case, now: datetime) -> list[dict]:
    forms = []
    for action in services.allowed_actions_for(request.user, case):
        t = workflow.TABLE[action]
        form = {
            "action": action.value,
            "label": action.label,
            "text_name": "reason" if "reason" in t.requires else "note",
            "text_required": t.note_required or "reason" in t.requires,
            "photos": action in PHOTO_ACTIONS,
            "photos_required": "photos" in t.requires,
            "until": "until" in t.requires,
            "danger": action in (Action.REJECT, Action.INVALIDATE, Action.CHECK_FAIL, Action.RETURN),
        }
        if action is Action.DISPATCH:
            proposal = services.dispatch_proposal(case)
            form["departments"] = departments_for(request.user)
            form["proposal"] = proposal.code if proposal else ""
        if action is Action.FILE:
            form["conditions"] = services.filing_options_for(case)
        if action is Action.MERGE:
            form["candidates"] = services.duplicate_candidates(
                kind=case.kind, type_code=case.type_code, lat=case.lat, lon=case.lon, now=now, exclude=case.pk
            )
        if action in INSPECTOR_ACTIONS:
            form["inspectors"] = [
                m.user for m in members_with_role(Role.INSPECTOR).order_by("user__username")
            ]
        forms.append(form)
    return forms


def _label(choices, value: str) -> str:
    return labels_of(choices).get(value, value)


def _case_page(request: HttpRequest, case, *, status: int = 200) -> HttpResponse:
    now = _now()
    events = list(selectors.case_events_for(request.user, case))
    by_stage: OrderedDict[str, list] = OrderedDict((s.value, []) for s in PhotoStage)
    # Labels as text, once per language (core.labels): Django's get_FOO_display rebuilds its choice map
    # on every call, and a lazy label is translated again at each use.
    actions, states = labels_of(Action), labels_of(State)
    for ev in events:
        ev.action_label = actions.get(ev.action, ev.action)
        ev.from_label = states.get(ev.from_state, ev.from_state)
        ev.to_label = states.get(ev.to_state, ev.to_state)
        for p in ev.photos.all():
            by_stage[p.stage].append(p)
    photo_stages = [(PhotoStage(s).label, ps) for s, ps in by_stage.items() if ps]
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "labels": {  # the case's choice labels, looked up once (see above)
                "state": states.get(case.state, case.state),
                "source": _label(Source, case.source),
                "kind": _label(Kind, case.kind),
                "urgency": _label(Urgency, case.urgency),
            },
            "events": events,
            "photo_stages": photo_stages,
            "deadlines": _deadlines(case, now),
            "condition": catalog.condition_by_ref(case.condition_ref) if case.condition_ref else None,
            "actions": _action_forms(request, case, now),
            "show_reporter": sees_whole_city(request.user),
            "can_reply": services.reply_allowed(request.user, case),
            "area_names": area_names([case.county_code, case.township_code, case.community_code]),
        },
        status=status,
    )


def _get_case(request: HttpRequest, number: str):
    _staff_only(request)
    case = selectors.case_get_for(request.user, number)
    if case is None:
        raise Http404(_("No such case."))
    return case


@login_required
@require_GET
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _case_page(request, _get_case(request, number))


@login_required
@require_POST
def case_act(request: HttpRequest, number: str) -> HttpResponse:
    """Take one action on the case; on success redirect back (PRG), on refusal show why."""
    case = _get_case(request, number)
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please check the form: %(fields)s.") % {"fields": ", ".join(form.errors)})
        return _case_page(request, case, status=400)
    d = form.cleaned_data
    data = services.ActionInput(
        action=d["action"],
        note=d["note"],
        reason=d["reason"],
        department=d["department"],
        original=d["original"],
        until=d["until"],
        condition=d["condition"],
        inspector=d["inspector"],
    )
    try:
        services.case_act(
            number=case.number,
            data=data,
            actor=request.user,
            photos=request.FILES.getlist("photos"),
            now=_now(),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        case = _get_case(request, number)
        return _case_page(request, case, status=exc.status)
    try:
        label = Action(d["action"]).label
    except ValueError:
        label = d["action"]
    messages.success(request, _("Done: %(action)s.") % {"action": label})
    return redirect("cases:detail", number=case.number)


@login_required
@require_POST
def case_reply(request: HttpRequest, number: str) -> HttpResponse:
    """Reply to the reporter: a public step on the case's timeline, sent to its followers."""
    case = _get_case(request, number)
    text = request.POST.get("text", "")[:4000]
    try:  # PostgreSQL refuses a NUL in text: the reply failed there as a server error
        ProhibitNullCharactersValidator()(text)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return _case_page(request, case, status=400)
    try:
        services.case_reply(number=case.number, text=text, actor=request.user, now=_now())
    except DomainError as exc:
        messages.error(request, exc.message)
        return _case_page(request, _get_case(request, number), status=exc.status)
    messages.success(request, _("Your reply has been sent to the reporter."))
    return redirect("cases:detail", number=case.number)


@login_required
@require_GET
def case_photo(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """A photo of a case the person may see (media files are not served publicly)."""
    case = _get_case(request, number)
    photo = Attachment.objects.filter(case=case, pk=pk).first()
    if photo is None:
        raise Http404(_("No such photo."))
    return photo_response(photo.file)


# ------------------------------------------------------------------------------------------------
# the inspector's report


def _type_options(text: str = ""):
    types = catalog.type_search(text, limit=50) if text.strip() else catalog.type_list()
    return [(f"{t.kind}:{t.code}", f"{t.code} {t.name}", t.kind) for t in types]


@login_required
@require_GET
def type_options(request: HttpRequest) -> HttpResponse:
    """``<option>`` elements for the type picker's search (htmx)."""
    _staff_only(request)
    q = request.GET.get("q", "")[:40]
    return render(request, "cases/_type_options.html", {"types": _type_options(q), "selected": ""})


@login_required
@require_http_methods(["GET", "POST"])
def case_report(request: HttpRequest) -> HttpResponse:
    """Mobile-first report form of an inspector: type, description, position, photos."""
    if Role.INSPECTOR not in roles_of(request.user):
        raise Http404(_("No such page."))
    status = 200
    if request.method == "POST":
        form = ReportForm(request.POST)
        if form.is_valid():
            kind, code = form.type_parts()
            d = form.cleaned_data
            data = services.ReportInput(
                source=Source.INSPECTOR,
                kind=kind,
                type_code=code,
                description=d["description"],
                lat=d["lat"],
                lon=d["lon"],
                address=d["address"],
                urgency=d["urgency"],
            )
            try:
                case = services.case_report(
                    data=data, photos=request.FILES.getlist("photos"), actor=request.user, now=_now()
                )
            except DomainError as exc:
                messages.error(request, exc.message)
                status = exc.status
            else:
                messages.success(request, _("Reported as case %(number)s.") % {"number": case.number})
                return redirect("cases:detail", number=case.number)
        else:
            status = 400
    else:
        form = ReportForm()
    selected = form["type"].value() or ""
    return render(
        request,
        "cases/report.html",
        {"form": form, "types": _type_options(), "selected": selected},
        status=status,
    )


def role_queue_links(user, role: Role, *, now: datetime) -> list[dict]:
    """The work queues of ``role`` with their counts (the whole-table "all" is linked, not counted)."""
    names = selectors.ROLE_QUEUES.get(role, [])
    counts = selectors.queue_counts_for(user, [n for n in names if n != "all"], now=now)
    return [
        {
            "name": n,
            "label": QUEUE_LABELS[n],
            "count": counts.get(n),
            "url": reverse("cases:queue") + f"?queue={n}",
        }
        for n in names
    ]
