"""``GET /api/v1/evaluation/<object>?from=YYYY-MM-DD&to=YYYY-MM-DD``: indicators, score and grade per object.

``<object>`` is ``departments``, ``areas`` (``level=county|township|grid``) or ``people``. Optional
``kind=component|matter`` restricts to one kind of case. Figures respect the caller's visibility.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cityops.evaluation import formulas, selectors, services
from cityops.organization.selectors import roles_of

MAX_DAYS = 400
# The days a period may name: a day at the calendar's ends (year 1, year 9999) overflowed when turned
# into the bounds of the local day, a server error on the dashboard and here.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2099, 12, 31)


def parse_query(params, *, today: date) -> selectors.Query:
    """Validated period, area level and kind from request parameters (defaults: this month to date)."""
    errors = {}

    def day(name: str, default: date) -> date:
        raw = (params.get(name) or "").strip()
        if not raw:
            return default
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            errors[name] = _("Use a date as YYYY-MM-DD.")
            return default
        if not FIRST_DAY <= value <= LAST_DAY:
            errors[name] = _("Use a date from %(first)s to %(last)s.") % {
                "first": FIRST_DAY,
                "last": LAST_DAY,
            }
            return default
        return value

    start = day("from", today.replace(day=1))
    end = day("to", today)
    if not errors and end < start:
        errors["to"] = _("The end of the period is before its start.")
    if not errors and (end - start) > timedelta(days=MAX_DAYS):
        errors["to"] = _("A period may span at most %(days)s days.") % {"days": MAX_DAYS}
    level = params.get("level") or "county"
    if level not in selectors.AREA_FIELDS:
        errors["level"] = _("Use county, township or grid.")
    kind = params.get("kind") or ""
    if kind and kind not in formulas.KIND_SPLIT:
        errors["kind"] = _("Use component or matter.")
    if errors:
        raise ValidationError(errors)
    return selectors.Query(start=start, end=end, level=level, kind=kind)


class EvaluationView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.DATE, description="First day (local), default: 1st of this month"
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, description="Last day (local, inclusive), default: today"
            ),
            OpenApiParameter("level", OpenApiTypes.STR, enum=list(selectors.AREA_FIELDS)),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(formulas.KIND_SPLIT)),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, object_kind: str):
        if object_kind not in selectors.ROWS:
            raise NotFound(_("Unknown object: use departments, areas or people."))
        if not roles_of(request.user):
            raise NotFound(_("No such page."))
        now = timezone.now()
        q = parse_query(request.query_params, today=timezone.localdate(now))
        if selectors.reads_city_figures(request.user, object_kind):  # past days from the snapshots
            headers = services.period_headers(q, now=now)
            rows = selectors.ROWS[object_kind](request.user, q, now=now, headers=headers)
        else:
            rows = selectors.ROWS[object_kind](request.user, q, now=now)
        return Response(
            {
                "object": object_kind,
                "from": q.start.isoformat(),
                "to": q.end.isoformat(),
                "level": q.level if object_kind == "areas" else None,
                "kind": q.kind or None,
                "version": formulas.FORMULA_VERSION,
                "results": rows,
            }
        )
