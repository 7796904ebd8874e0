"""Reads of the public side, built only on ``cases.selectors.public_case_list`` / ``public_case_get``.

Nothing here returns a reporter's contact details: map rows and figures carry public fields only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, Count, ExpressionWrapper, F, IntegerField, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cityops.cases.choices import DEPARTMENT_STATES, Rating, State
from cityops.cases.models import Case
from cityops.cases.selectors import public_case_list
from cityops.core.db import SecondsBetween, one_or_none
from cityops.organization.models import Department
from cityops.public.forms import normalize_phone
from cityops.public.models import FigureSet

MAP_CAP = 2000

STATE_GROUPS: dict[str, frozenset[str]] = {
    "received": frozenset({State.TO_VERIFY, State.TO_FILE, State.TO_DISPATCH}),
    "handling": frozenset({State.DISPATCHED, State.HANDLING, State.PARKED, State.TO_CHECK, State.TO_CLOSE}),
    "closed": frozenset({State.CLOSED}),
}

PUBLIC_STATE_LABELS = {
    "received": _("Received"),
    "handling": _("Being handled"),
    "closed": pgettext_lazy("case state", "Closed"),
    State.REJECTED.value: _("Not filed"),
    State.MERGED.value: _("Merged with another report"),
}


def public_state(state: str) -> tuple[str, str]:
    """(group key, label in plain words) of a case state as citizens see it."""
    for key, states in STATE_GROUPS.items():
        if state in states:
            return key, str(PUBLIC_STATE_LABELS[key])
    return state, str(PUBLIC_STATE_LABELS.get(state, state))


def reporter_token_for(number: str, phone: str) -> str:
    """The tracking token of case ``number`` when ``phone`` is its reporter's, or the reporter's of a
    duplicate merged into it; else "".

    The token then opens the case through ``public_case_get`` like the reporter's private link does,
    with the reporter's rating and reopening. A duplicate's reporter opens a public case only (a case
    its reporter asked not to show publicly stays theirs and the city's). A "me too" is no report: its
    number gets the case's updates, never the reporter's rights (anyone may press it with any number,
    and the first rating of a closing counts).
    """
    digits = normalize_phone(phone)
    if len(digits) < 7:
        return ""
    case = one_or_none(
        Case.objects.filter(number=number).only("pk", "reporter_phone", "tracking_token", "is_public")
    )
    if case is None or not case.tracking_token:
        return ""
    if normalize_phone(case.reporter_phone) == digits:
        return case.tracking_token
    if not case.is_public:
        return ""
    merged, seen = [case.pk], {case.pk}
    while merged:  # duplicates merged into it, and into those (rare, short chains)
        rows = list(
            Case.objects.filter(merged_into_id__in=merged)
            .exclude(pk__in=seen)
            .values_list("pk", "reporter_phone")
        )
        if any(normalize_phone(p) == digits for _pk, p in rows):
            return case.tracking_token
        merged = [pk for pk, _p in rows]
        seen.update(merged)
    return ""


@dataclass(frozen=True)
class MapFilters:
    type_code: str = ""
    area: str = ""
    state: str = ""  # a key of STATE_GROUPS
    days: int = 30


def map_cases(filters: MapFilters, *, now: datetime, limit: int = MAP_CAP) -> list[dict]:
    """Recent public cases as plain rows of public fields (newest first), at most ``limit``."""
    qs = public_case_list().filter(reported_at__gte=now - timedelta(days=filters.days))
    if filters.type_code:
        qs = qs.filter(type_code=filters.type_code)
    if filters.area:
        qs = qs.filter(Q(county_code=filters.area) | Q(township_code=filters.area))
    if filters.state in STATE_GROUPS:
        qs = qs.filter(state__in=STATE_GROUPS[filters.state])
    rows = list(
        qs.order_by("-reported_at", "-id").values(
            "number", "type_code", "type_name", "state", "reported_at", "lat", "lon"
        )[:limit]
    )
    labels: dict[str, tuple[str, str]] = {}  # each state's group and label, looked up once
    for r in rows:
        # About 10 m: enough to find the spot, not a pinpoint of someone's door.
        r["lat"], r["lon"] = round(r["lat"], 4), round(r["lon"], 4)
        state = r["state"]
        if state not in labels:
            labels[state] = public_state(state)
        r["group"], r["state_label"] = labels[state]
    return rows


@dataclass(frozen=True)
class DepartmentFigures:
    code: str
    name: str
    cases: int
    closed: int
    on_time: int
    late_open: int
    rated: int
    satisfied: int
    avg_handling: timedelta | None

    @property
    def on_time_rate(self) -> float | None:
        judged = self.closed + self.late_open
        return self.on_time / judged if judged else None

    @property
    def avg_hours(self) -> float | None:
        return self.avg_handling.total_seconds() / 3600 if self.avg_handling is not None else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


def department_figures(*, since: datetime, until: datetime, now: datetime) -> list[DepartmentFigures]:
    """Per department, over public cases dispatched in [since, until): one aggregate query.

    * cases: public cases dispatched to the department in the period (the department now holding them);
    * on-time closing rate: closed cases whose handling was reported done by the handling due time,
      divided by closed cases plus cases still open in the department past their due time (overdue
      open cases count as late, so leaving a late case open does not help);
    * average handling time: from dispatch to "handled" (the last report of completion);
    * satisfaction: satisfied + basically satisfied, divided by rated cases.
    """
    qs = public_case_list().filter(
        department__isnull=False, dispatched_at__gte=since, dispatched_at__lt=until
    )
    # Grouped by the department's key as an expression (key + 0), so no index can hold the groups:
    # grouped by the department's code, SQLite read every case of each department in turn through the
    # department's index, the whole table by random access (1M cases, 90 days: 1.1 s; a scan of the
    # table 0.55 s). The departments' codes and names are read after, for the few keys found.
    rows = list(
        qs.values(key=ExpressionWrapper(F("department_id") + 0, output_field=IntegerField()))
        .annotate(
            n=Count("id"),
            closed=Count("id", filter=Q(state=State.CLOSED)),
            on_time=Count(
                "id",
                filter=Q(
                    state=State.CLOSED,
                    handled_at__isnull=False,
                    handle_due_at__isnull=False,
                    handled_at__lte=F("handle_due_at"),
                ),
            ),
            late_open=Count(
                "id",
                filter=Q(state__in=DEPARTMENT_STATES, paused_at__isnull=True, handle_due_at__lt=now),
            ),
            rated=Count("id", filter=Q(rating__in=Rating.values)),
            satisfied=Count("id", filter=Q(rating__in=[Rating.SATISFIED, Rating.BASIC])),
            avg_handling=Avg(
                SecondsBetween("handled_at", "dispatched_at"), filter=Q(handled_at__isnull=False)
            ),
        )
        .order_by()
    )
    departments = {
        pk: (code, name)
        for pk, code, name in Department.objects.filter(pk__in=[r["key"] for r in rows])
        .order_by()
        .values_list("pk", "code", "name")
    }
    rows.sort(key=lambda r: departments[r["key"]][0])
    return [
        DepartmentFigures(
            code=departments[r["key"]][0],
            name=departments[r["key"]][1],
            cases=r["n"],
            closed=r["closed"],
            on_time=r["on_time"],
            late_open=r["late_open"],
            rated=r["rated"],
            satisfied=r["satisfied"],
            avg_handling=None if r["avg_handling"] is None else timedelta(seconds=r["avg_handling"]),
        )
        for r in rows
    ]


# The periods of the public figures page, in days.
FIGURE_PERIODS = (30, 90, 365)
# The fields a kept ``FigureSet`` row holds (those of ``DepartmentFigures``): raise it when they change.
FIGURES_SHAPE = 1


def figures_out(figures: list[DepartmentFigures]) -> list[dict]:
    """Figures as the JSON a ``FigureSet`` keeps (the average handling time in seconds)."""
    out = []
    for f in figures:
        row = asdict(f)
        row["avg_handling"] = None if f.avg_handling is None else f.avg_handling.total_seconds()
        out.append(row)
    return out


def figures_in(rows: list[dict]) -> list[DepartmentFigures]:
    """``figures_out`` read back."""
    out = []
    for r in rows:
        seconds = r["avg_handling"]
        out.append(
            DepartmentFigures(
                **{**r, "avg_handling": None if seconds is None else timedelta(seconds=seconds)}
            )
        )
    return out


def stored_figures(days: int) -> tuple[datetime, list[DepartmentFigures]] | None:
    """The figures of the last ``days`` as last kept (``services.figures_store``), and when."""
    stored = (
        FigureSet.objects.filter(days=days, shape=FIGURES_SHAPE).values_list("computed_at", "rows").first()
    )
    return None if stored is None else (stored[0], figures_in(stored[1]))
