"""The operations dashboard for leaders and the duty chief, and the drill-down list behind every number.

Adapters over ``cityops.evaluation``: past days come from the daily snapshots (a past day without a
usable snapshot is computed and stored once, ``services.snapshots_ensure``), today from live aggregate
queries over the fact table; nothing is computed per case row.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from rest_framework.exceptions import ValidationError

from cityops.cases import selectors as case_selectors
from cityops.core.db import KeysFirst
from cityops.evaluation import formulas, metrics, selectors, services, targets
from cityops.evaluation.api import parse_query
from cityops.evaluation.models import Target
from cityops.geography.selectors import area_list
from cityops.organization.choices import Role
from cityops.organization.selectors import roles_of, sees_whole_city

KPI_KEYS = ("reports", "filed", "dispatched", "overdue_now", "closed_flow")
# Drill-down objects: ``object=<kind>:<code>`` (or ``city``).
OBJECT_KINDS = {"department": "departments", "area": "areas", "person": "people", "type": "types"}
URGE_ROLES = {Role.LEADER, Role.DUTY_CHIEF}


def _labels() -> dict[str, str]:
    names = {i.key: i.name for i in formulas.INDICATORS}
    names.update(
        {
            "reports": _("Intake"),
            "filed": _("Filed"),
            "dispatched": _("Dispatched"),
            "overdue_now": _("Overdue now"),
            "closed_flow": _("Closed"),
            "handled_flow": _("Handled"),
        }
    )
    return names


@lru_cache(maxsize=8)
def _cases_url(prefix: str) -> str:
    return reverse("dashboards:cases")


def drill_url(key: str, obj: str, start: date, end: date, kind: str = "") -> str:
    params = {"indicator": key, "object": obj, "from": start.isoformat(), "to": end.isoformat()}
    if kind:
        params["kind"] = kind
    return _cases_url(get_script_prefix()) + "?" + urlencode(params)


def _dashboard_user(request: HttpRequest) -> None:
    if not sees_whole_city(request.user):
        raise Http404(_("No such page."))


def _kpis(figures: dict, now: datetime) -> list[dict]:
    """Today's flows and overdue stock against the same weekday last week (flows up to the same time)."""
    today = timezone.localdate(now)
    week_ago = today - timedelta(days=7)
    current = dict(figures["today"])
    before = selectors.flow_counts(selectors.period(week_ago, week_ago, now - timedelta(days=7)))
    current["overdue_now"] = selectors.overdue_now(None, now)
    before["overdue_now"] = figures["week_ago_stock"]
    labels = _labels()
    out = []
    for key in KPI_KEYS:
        change = formulas.Change(today=current[key], last_week=before[key])
        out.append(
            {
                "key": key,
                "label": labels[key],
                "value": current[key],
                "change": change,
                "url": drill_url(key, "city", today, today),
            }
        )
    return out


def _targets(now: datetime) -> list[dict]:
    rows = []
    for t in Target.objects.filter(is_active=True):
        reading = targets.read(t.indicator, now)
        value = None if reading is None else reading.value
        progress = formulas.ratio(value, float(t.target_value)) if value is not None else None
        rows.append(
            {
                "target": t,
                "reading": reading,
                "progress": None if progress is None else min(progress, 100.0),
                "met": value is not None and value >= float(t.target_value),
                "days_left": (t.deadline - timezone.localdate(now)).days if t.deadline else None,
            }
        )
    return rows


def _query(request: HttpRequest, today: date) -> tuple[selectors.Query, int]:
    """The period, area level and kind asked for. A bad one (a mistyped date, an end before its start,
    too long a span) is named above the page, which shows this month to date instead, answered as 400:
    the period form is typed into, and a slip must not end on an error page."""
    try:
        return parse_query(request.GET, today=today), 200
    except ValidationError as exc:
        for error in exc.detail.values():  # one message per parameter
            messages.error(request, str(error))
        return selectors.Query(start=today.replace(day=1), end=today), 400


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    _dashboard_user(request)
    user, now = request.user, timezone.now()
    today = timezone.localdate(now)
    q, status = (
        _query(request, today)
        if request.GET.get("from")
        else (selectors.Query(start=today.replace(day=1), end=today), 200)
    )
    labels = _labels()
    # Past days come from snapshots (computed here once if a day has none usable yet), today is live.
    # A period that has ended is evaluated as of its end: live and cached, not from snapshots.
    headers, tracked = services.period_headers(q, now=now)
    figures = selectors.dashboard_figures(q, now=now, headers=headers, period_headers=tracked)

    city = figures["city"]
    total = formulas.indicators(formulas.add_counters(*city.values()))
    by_kind = {k: formulas.indicators(city.get(k, {})) for k in formulas.KIND_SPLIT}
    indicator_rows = [
        {
            "key": ind.key,
            "name": ind.name,
            "unit": ind.unit,
            "unit_label": formulas.UNIT_LABELS[ind.unit],
            "cells": [
                {"value": total[ind.key], "url": drill_url(ind.key, "city", q.start, q.end)},
                *(
                    {
                        "value": by_kind[k][ind.key],
                        "url": drill_url(ind.key, "city", q.start, q.end, k),
                        "kind": k,
                    }
                    for k in formulas.KIND_SPLIT
                ),
            ],
        }
        for ind in formulas.INDICATORS
    ]

    ranking = [
        r
        for r in selectors.department_rows_of(user, figures["departments"], kind=q.kind)
        if r["indicators"]["to_handle"]
    ]
    ranking.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))
    for r in ranking:
        obj = f"department:{r['code']}"
        r["urls"] = {
            k: drill_url(k, obj, q.start, q.end)
            for k in ("to_handle", "handle_ontime_rate", "overdue_open", "close_rate")
        }

    county_names = {a.code: a.name for a in area_list(level="county")}
    area_counts = figures["areas"]
    types = [dict(t) for t in figures["types"]]
    for t in types:
        t["url"] = drill_url("reports", f"type:{t['type_code']}", q.start, q.end)
    hotspots = figures["hotspots"]

    overdue = list(
        case_selectors.case_queue_for(user, case_selectors.CaseFilters(queue="overdue", sort="due"), now=now)
        .select_related("department")
        .only("number", "type_name", "address", "due_at", "state", "stage", "department__name", "urge_count")[
            :20
        ]
    )
    trend = figures["trend"]
    chart = {
        "trend": trend,
        "trend_labels": {k: labels[k] for k in selectors.TREND_COUNTERS},
        "trend_url": reverse("dashboards:cases") + "?object=city&indicator=",
        "types": [{"name": f"{t['type_code']} {t['name']}", "value": t["n"], "url": t["url"]} for t in types],
        "areas": {
            code: {
                "n": n,
                "name": county_names.get(code, code),
                "url": drill_url("reports", f"area:{code}", q.start, q.end),
            }
            for code, n in area_counts.items()
        },
        "hotspots": [
            {
                "grid": h["grid_code"],
                "n": h["n"],
                "lat": h["lat"],
                "lon": h["lon"],
                "url": drill_url("reports", f"area:{h['grid_code']}", q.start, q.end),
            }
            for h in hotspots
            if h["lat"] is not None
        ],
        "ranking": [
            {"name": r["name"], "score": r["score"], "url": r["urls"]["handle_ontime_rate"]}
            for r in ranking[:15]
        ],
        "geojson": reverse("geography:areas_geojson") + "?level=county",
    }
    return render(
        request,
        "dashboards/dashboard.html",
        {
            "kpis": _kpis(figures, now),
            "query": q,
            "indicator_rows": indicator_rows,
            "ranking": ranking,
            "types": types,
            "overdue": overdue,
            "overdue_url": reverse("cases:queue") + "?queue=overdue",
            "may_urge": bool(roles_of(user) & URGE_ROLES),
            "targets": _targets(now),
            "chart": chart,
            "now": now,
            "report_month": q.start.strftime("%Y-%m"),
        },
        status=status,
    )


def _parse_object(raw: str) -> tuple[str, str]:
    if raw in ("", "city"):
        return "city", ""
    kind, _sep, code = raw.partition(":")
    # a NUL in the code reached PostgreSQL, which refuses it in text: a server error
    if kind not in OBJECT_KINDS or not code or len(code) > 40 or "\x00" in code:
        raise Http404(_("Unknown object."))
    return OBJECT_KINDS[kind], code


@login_required
@require_GET
def drilldown(request: HttpRequest) -> HttpResponse:
    """The cases behind one number: the same counter filter as the count, so the two agree."""
    if not roles_of(request.user):
        raise Http404(_("No such page."))
    key = request.GET.get("indicator", "")
    if key not in metrics.DRILL_KEYS:
        raise Http404(_("Unknown indicator."))
    object_kind, code = _parse_object(request.GET.get("object", "city"))
    now = timezone.now()
    q, status = _query(request, timezone.localdate(now))
    p = q.period(now)
    qs = selectors.drilldown(request.user, key=key, object_kind=object_kind, code=code, p=p, kind=q.kind)
    total = qs.count()
    rows = KeysFirst(qs.order_by("-reported_at", "-pk"), related=("case", "department"), count=total)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    ind = formulas.INDICATOR_BY_KEY.get(key)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "dashboards/drilldown.html",
        {
            "key": key,
            "label": _labels().get(key, key),
            "indicator": ind,
            "is_rate": bool(ind and ind.is_rate and ind.numerator not in metrics.SUMS),
            "object_kind": object_kind,
            "code": code,
            "query": q,
            "total": total,
            "page": page,
            "base_query": params.urlencode(),
        },
        status=status,
    )
