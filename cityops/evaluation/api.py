"""``GET /api/v1/evaluation/<object>?from=YYYY-MM-DD&to=YYYY-MM-DD``: indicators, score and grade per object.

``<object>`` is ``departments``, ``areas`` (``level=county|township|grid``) or ``people``. Optional
``kind=component|matter`` restricts to one kind of case. Figures respect the caller's visibility.

- ``within=<area code>``: the townships of one county, or the grid cells of one county or township.
- ``order=code|rank``: by code (departments by their place in the tree; the default) or by rank.
- ``page`` and ``page_size`` (at most 1000): every row by default, but 100 grid cells a page, which
  number in thousands (all of them were 9 MB at a million cases). ``count`` is the number of rows
  of every page; ranks are those of the whole ranking.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cityops.evaluation import formulas, selectors, services
from cityops.geography.selectors import area_record
from cityops.organization.selectors import roles_of

MAX_DAYS = 400
GRID_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
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


def parse_within(params, q: selectors.Query, object_kind: str) -> selectors.Query:
    """``q`` narrowed to the areas inside the area ``within`` names (the API's rankings only)."""
    within = (params.get("within") or "").strip()
    if not within:
        return q
    if object_kind != "areas":
        raise ValidationError({"within": _("Only areas are ranked within an area.")})
    if q.level not in selectors.WITHIN_LEVELS:
        raise ValidationError({"within": _("Only townships and grid cells are ranked within an area.")})
    area = area_record(within)
    if area is None or area.level not in selectors.WITHIN_LEVELS[q.level]:
        raise ValidationError(
            {"within": _("Use the code of a county or of a township that holds this level.")}
        )
    return replace(q, within=within)


def parse_page(params, *, grid: bool) -> tuple[str, int, int | None]:
    """Validated ``order``, ``page`` and ``page_size`` (None: every row)."""
    errors = {}
    order = params.get("order") or "code"
    if order not in selectors.ORDERS:
        errors["order"] = _("Use code or rank.")

    def number(name: str, default: int | None, most: int | None) -> int | None:
        raw = (params.get(name) or "").strip()
        if not raw:
            return default
        # nine digits at most: a longer number is no page, and Python refuses to read 4,300 digits
        if (
            not raw.isascii()
            or not raw.isdigit()
            or len(raw) > 9
            or int(raw) < 1
            or (most and int(raw) > most)
        ):
            errors[name] = (
                _("Use a whole number from 1 to %(most)s.") % {"most": most}
                if most
                else _("Use a whole number from 1.")
            )
            return default
        return int(raw)

    page = number("page", 1, None)
    size = number("page_size", GRID_PAGE_SIZE if grid else None, MAX_PAGE_SIZE)
    if errors:
        raise ValidationError(errors)
    return order, page, size


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
            OpenApiParameter(
                "within", OpenApiTypes.STR, description="Areas only: a county's or a township's code"
            ),
            OpenApiParameter("order", OpenApiTypes.STR, enum=list(selectors.ORDERS)),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter(
                "page_size",
                OpenApiTypes.INT,
                description=f"At most {MAX_PAGE_SIZE}; default every row, {GRID_PAGE_SIZE} grid cells",
            ),
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
        q = parse_within(request.query_params, q, object_kind)
        areas = object_kind == "areas"
        order, page, size = parse_page(request.query_params, grid=areas and q.level == "grid")
        headers = None
        if selectors.reads_city_figures(request.user, object_kind):  # past days from the snapshots
            headers = services.period_headers(q, now=now)
        count, rows = selectors.ranking_page(
            request.user, object_kind, q, now=now, headers=headers, order=order, page=page, size=size
        )
        if page > 1 and not rows:
            raise NotFound(_("No such page."))
        return Response(
            {
                "object": object_kind,
                "from": q.start.isoformat(),
                "to": q.end.isoformat(),
                "level": q.level if areas else None,
                "within": q.within or None,
                "kind": q.kind or None,
                "order": order,
                "count": count,
                "page": page,
                "page_size": size,
                "version": formulas.FORMULA_VERSION,
                "results": rows,
            }
        )
