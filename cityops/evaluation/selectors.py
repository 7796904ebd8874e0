"""Reads of the evaluation: indicators per object, drill-down lists, weights, snapshots, targets.

Visibility: every figure is computed over ``fact_list_for(user)``, which is the case visibility rule
(``cases.selectors.case_list_for``) applied to the fact table. Counts and drill-down lists are built
from the same counter filters (``metrics.COUNTERS``), so a number and the list behind it agree.
"""

from __future__ import annotations

import hashlib
import heapq
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import orjson
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connections
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum, TextField, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from cityops.cases.selectors import case_list_for, case_reach_of
from cityops.core.db import Common, Unindexed, at_least, plain_rows
from cityops.evaluation import formulas, metrics
from cityops.evaluation.formulas import KIND_SPLIT
from cityops.evaluation.metrics import COUNTERS, PERSON_COUNTERS, PERSON_FIELD, SUMS, Period
from cityops.evaluation.models import (
    PEOPLE,
    CaseFact,
    GradeThreshold,
    MetricSnapshot,
    ObjectKind,
    ScoreWeight,
    SnapshotDay,
)
from cityops.geography.choices import AreaLevel
from cityops.geography.selectors import area_list, area_record
from cityops.organization.choices import Role
from cityops.organization.models import Department, Membership
from cityops.organization.selectors import department_list_for, people_list_for, sees_whole_city

# Counters of a period (the stock ``overdue_now`` is read on its own).
PERIOD_COUNTERS = tuple(k for k in COUNTERS if k != "overdue_now")
AREA_FIELDS = {
    AreaLevel.COUNTY.value: "county_code",
    AreaLevel.TOWNSHIP.value: "township_code",
    AreaLevel.GRID.value: "grid_code",
}
PEOPLE_ROLES = (Role.INSPECTOR, Role.OPERATOR, Role.DUTY_CHIEF, Role.DISPATCHER)
# The areas a ranking of one level may be narrowed to (``Query.within``): a county's townships, a county's
# or a township's grid cells.
WITHIN_LEVELS = {
    AreaLevel.TOWNSHIP.value: (AreaLevel.COUNTY.value,),
    AreaLevel.GRID.value: (AreaLevel.COUNTY.value, AreaLevel.TOWNSHIP.value),
}
OBJECT_KINDS = ("departments", "areas", "people")


# ------------------------------------------------------------------------------------------------
# periods


def day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def period(start: date, end: date, now: datetime) -> Period:
    """The period of the local days ``start`` to ``end`` inclusive, as known at ``now``."""
    a, b = day_start(start), day_start(end + timedelta(days=1))
    return Period(start=a, end=b, as_of=min(b, now))


def month_bounds(month: str) -> tuple[date, date]:
    year, mon = (int(x) for x in month.split("-"))
    first = date(year, mon, 1)
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


# ------------------------------------------------------------------------------------------------
# the fact table as a person may see it


# From this many visible cases on, SQLite checks each fact's case on its own (see ``fact_list_for``).
EXISTS_FROM = 100_000


def fact_list_for(user) -> QuerySet[CaseFact]:
    """Facts of the cases ``user`` may see (``user=None``: the system, everything).

    SQLite gathers an ``IN`` list of the visible cases first: for a district bureau's handler, half
    the city (1M cases: a month's ranking 1.1 s). Where the list holds ``EXISTS_FROM`` cases or more
    (counted through the rule's indexes up to that many), each of the period's facts is checked
    against its case instead (0.4 s); a short list (an inspector's own reports) stays the faster
    ``IN``. PostgreSQL plans both alike."""
    qs = CaseFact.objects.all()
    if user is None or sees_whole_city(user):
        return qs
    cases = case_list_for(user)
    if connections[qs.db].vendor == "sqlite" and at_least(cases, EXISTS_FROM):
        return qs.filter(Exists(cases.filter(pk=OuterRef("case_id"))))
    return qs.filter(case_id__in=cases.values("pk"))


# Aggregates are named with a prefix: several counters share their name with a fact field.
_P = "n__"


def _annotations(p: Period, keys: Iterable[str]) -> dict:
    keys = list(keys)
    ann = {_P + k: Count("pk", filter=COUNTERS[k](p)) for k in keys}
    for name, (field, counter) in SUMS.items():
        if counter in keys:
            ann[_P + name] = Sum(field, filter=COUNTERS[counter](p))
    return ann


def _unprefixed(row: dict) -> dict:
    return {k[len(_P) :]: v or 0 for k, v in row.items() if k.startswith(_P)}


def _group(qs, group: str | None, p: Period, keys: Iterable[str]) -> dict[str, dict[str, dict]]:
    """``{object code: {kind: counters}}`` in one GROUP BY query."""
    return _groups(qs, (group,), p, keys)[0]


def _groups(
    qs, groups: tuple[str | None, ...], p: Period, keys: Iterable[str], *, scope=None
) -> tuple[dict, ...]:
    """``_group`` for each grouping of ``groups`` (``None``: the city) from one GROUP BY query of them
    all: the counters are sums, so each grouping adds up the rows of its codes. ``scope``: the filter
    of the rows that may count, ``metrics.relevant(p)`` unless said otherwise."""
    fields = [g for g in groups if g] + ["kind"]
    outs: tuple[dict[str, dict[str, dict]], ...] = tuple({} for _ in groups)
    scope = metrics.relevant(p) if scope is None else scope
    ann = _annotations(p, keys)
    # Rows as the driver gives them (``plain_rows``), the counts zipped with their names: building a
    # dict per row and unprefixing its names one by one took another tenth of a grid ranking. A count
    # is an integer; a sum may be null, or a ``Decimal`` on PostgreSQL.
    names = [k[len(_P) :] for k in ann]
    sums = [name for name in names if name in SUMS]
    at = {g: i for i, g in enumerate(fields)}
    n = len(fields)
    for row in plain_rows(qs.filter(scope).values(*fields).annotate(**ann).order_by()):
        codes = [row[at[g]] if g else "city" for g in groups]
        kind = row[n - 1]
        counters = dict(zip(names, row[n:], strict=True))
        for name in sums:
            counters[name] = int(counters[name] or 0)
        for out, code in zip(outs, codes, strict=True):
            if code is None:
                continue
            kinds = out.setdefault(str(code), {})
            kinds[kind] = formulas.add_counters(kinds[kind], counters) if kind in kinds else dict(counters)
    return outs


def counters_by_object(
    user,
    object_kind: str,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    level: str = "county",
    where=None,
) -> dict[str, dict[str, dict]]:
    """Counters per object code and kind of case: city, departments (code) or areas of one level;
    ``where`` narrows the facts (the areas inside one area)."""
    p = Period(start=start, end=end, as_of=min(end, now))
    qs = fact_list_for(user)
    if where is not None:
        qs = qs.filter(where)
    if object_kind == ObjectKind.CITY:
        return _group(qs, None, p, PERIOD_COUNTERS)
    if object_kind == ObjectKind.DEPARTMENT:
        return _group(qs, "department__code", p, PERIOD_COUNTERS)
    if object_kind == ObjectKind.AREA:
        return _group(qs, AREA_FIELDS[level], p, PERIOD_COUNTERS)
    raise ValueError(object_kind)


def counters_by_department_and_area(
    user,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    level: str = "county",
    tracked: list[SnapshotDay] | None = None,
) -> tuple[dict[str, dict[str, dict]], dict[str, dict[str, dict]]]:
    """``counters_by_object`` of the departments and of the areas of one level, from one pass over the
    period's facts: the monthly report shows both, and each GROUP BY read and aggregated every fact of
    the month (1M cases: 0.4 + 0.8 s on SQLite). The counters are sums, so the (department, area) groups
    add up to each.

    A period that has ended counts as of its end, so its counters change only when a fact of its days
    does: with ``tracked`` (the headers of its days, ``services.snapshot_days_track``) they are kept
    per visibility until then, as the dashboard keeps an ended period's (the month's GROUP BY still
    takes about a second on SQLite at 1M cases, 0.4 s on PostgreSQL)."""
    p = Period(start=start, end=end, as_of=min(end, now))

    def compute() -> tuple[dict, dict]:
        return _groups(fact_list_for(user), ("department__code", AREA_FIELDS[level]), p, PERIOD_COUNTERS)

    if tracked is None or p.as_of < p.end:
        return compute()
    token = [(h.day, h.changes) for h in tracked]
    return _kept(("report", formulas.FORMULA_VERSION, start, end, level, _visibility(user)), token, compute)


def _visibility(user) -> tuple:
    """What decides which facts ``user`` sees (``fact_list_for``), as a cache key: the whole city, or
    the case rule's reach (``case_reach_of``: their departments as a handler, with the person when
    the inspector's branch applies, since it goes by the person)."""
    reach = None if user is None else case_reach_of(user)
    if reach is None:
        return ("city",)
    inspector, departments = reach
    return ("reach", user.pk if inspector else None, departments)


def counters_by_person(
    user, p: Period, *, facts: QuerySet | None = None, scope=None
) -> dict[int, dict[str, dict]]:
    """Counters per person id and kind: each counter attributed to whoever took its step (over
    ``facts`` when given rather than all ``user`` sees; ``scope`` as ``_groups``).

    One pass over the period's facts grouped by every step's person at once (``_groups``), each
    person's share keeping the counters of their step: a pass per step read the month's facts five
    times (1M cases: 1.2 s on SQLite)."""
    fields = list(PERSON_COUNTERS)
    keys = [k for field in fields for k in PERSON_COUNTERS[field]]
    facts = fact_list_for(user) if facts is None else facts
    grouped = _groups(facts, tuple(f"{field}_id" for field in fields), p, keys, scope=scope)
    out: dict[int, dict[str, dict]] = {}
    for field, by_person in zip(fields, grouped, strict=True):
        mine = set(PERSON_COUNTERS[field])
        mine |= {name for name, (_f, counter) in SUMS.items() if counter in mine}
        for pk, by_kind in by_person.items():
            for kind, counters in by_kind.items():
                taken = {k: v for k, v in counters.items() if k in mine}
                out.setdefault(int(pk), {}).setdefault(kind, {}).update(taken)
    return out


# ------------------------------------------------------------------------------------------------
# weights and grades


def weights_for(object_kind: str) -> dict[str, float]:
    """The configured weights of one kind of object; the shipped defaults when none are configured."""
    rows = {r.indicator: float(r.weight) for r in ScoreWeight.objects.filter(object_kind=object_kind)}
    if rows or ScoreWeight.objects.exists():
        return rows
    from cityops.evaluation.services import defaults_data

    return {k: float(v["weight"]) for k, v in defaults_data()["weights"].get(object_kind, {}).items()}


def grade_thresholds() -> list[tuple[str, float]]:
    rows = [(g.grade, float(g.min_score)) for g in GradeThreshold.objects.all()]
    return rows or list(formulas.DEFAULT_GRADES)


# ------------------------------------------------------------------------------------------------
# indicator rows: what the API, the report and the ranking show


def _row(
    code: str, name: str, by_kind: dict[str, dict], weights, thresholds, *, split: bool = True, **extra
) -> dict:
    """One object's indicators, score and grade; ``split=False`` leaves out the indicators per kind of
    case and keeps their counters under ``_counters`` instead (``ranking_page`` works them out), which
    only the rows shown need: a ranking of thousands of grid cells spent two thirds of its formula time
    on them."""
    total = formulas.add_counters(*by_kind.values())
    values = formulas.indicators(total)
    score = formulas.composite_score(values, weights)
    row = {
        "code": code,
        "name": name,
        "indicators": values,
        "by_kind": _split(by_kind) if split else None,
        "score": score,
        "grade": formulas.grade(score, thresholds),
        **extra,
    }
    if not split:
        row["_counters"] = by_kind
    return row


def _split(by_kind: dict[str, dict]) -> dict[str, dict]:
    return {k: formulas.indicators(by_kind.get(k, {})) for k in KIND_SPLIT}


def _kind_filter(by_kind: dict[str, dict], kind: str) -> dict[str, dict]:
    return {kind: by_kind.get(kind, {})} if kind else by_kind


@dataclass(frozen=True)
class Query:
    start: date
    end: date
    level: str = AreaLevel.COUNTY.value
    kind: str = ""  # "" both, or component / matter
    within: str = ""  # an area's code: only the areas of ``level`` inside it (``WITHIN_LEVELS``)

    def period(self, now: datetime) -> Period:
        return period(self.start, self.end, now)


def department_rows(user, q: Query, *, now: datetime, headers=None) -> list[dict]:
    """Ranked departments for the period ``q``. For someone who sees the whole city, with ``headers``
    (``services.period_headers``), from the dashboard's figures: the snapshots of past days merged
    and brought forward to now, today live, and a period that has ended counted once per change of its
    facts. Counted live over the facts, a long period took seconds (1M cases, since 1 January: 9 s on
    SQLite); both give the same counters (``test_snapshots``).

    A handler (who does not also inspect) gets the same figures less the cases they no longer see: a
    department's figures count the cases of its last dispatch, and a case returned or reopened leaves
    the handler's sight (no department holds it until the next dispatch) while it stays in the
    department's figures (``_unseen_by``). Anyone else is counted live over the facts they may see."""
    reach = None if user is None else case_reach_of(user)
    if headers is not None and _reads_city_figures(reach, "departments"):
        data = city_figures(q, now=now, headers=headers)["departments"]
        if reach is not None:
            unseen = _groups(_unseen_by(reach[1]), ("department__code",), q.period(now), PERIOD_COUNTERS)[0]
            data = {code: dict(by_kind) for code, by_kind in data.items()}
            for code, by_kind in unseen.items():
                _add_kinds(data, code, by_kind, -1)
    else:
        p = q.period(now)
        data = counters_by_object(user, ObjectKind.DEPARTMENT, start=p.start, end=p.end, now=now)
    return department_rows_of(user, data, kind=q.kind)


def reads_city_figures(user, object_kind: str) -> bool:
    """Whether ``ROWS[object_kind]`` reads the whole city's figures for ``user`` (and so wants the
    ``headers`` of ``services.period_headers``): a whole-city viewer's rows, and a handler's
    departments (``department_rows``)."""
    return _reads_city_figures(case_reach_of(user), object_kind)


def _reads_city_figures(reach, object_kind: str) -> bool:
    return reach is None or (object_kind == "departments" and not reach[0] and bool(reach[1]))


def _unseen_by(departments: tuple[int, ...]) -> QuerySet[CaseFact]:
    """Facts of the ``departments`` (keys) whose case none of them holds now: the few not ``held``
    (index ``fact_unheld``), and of those the ones held by no department of theirs."""
    return CaseFact.objects.filter(held=False, department_id__in=departments).exclude(
        case__department_id__in=departments
    )


def department_rows_of(user, data: dict[str, dict[str, dict]], *, kind: str = "") -> list[dict]:
    """Ranked rows of the departments ``user`` sees, from counters per department code and kind."""
    weights, thresholds = weights_for(ObjectKind.DEPARTMENT), grade_thresholds()
    rows = []
    departments = Department.objects.filter(is_active=True) if user is None else department_list_for(user)
    for d in departments.exclude(kind="centre").order_by("path"):
        rows.append(_row(d.code, d.name, _kind_filter(data.get(d.code, {}), kind), weights, thresholds))
    formulas.rank(rows)
    return rows


def area_rows(user, q: Query, *, now: datetime, headers=None, split: bool = True) -> list[dict]:
    """Ranked areas of one level for the period ``q``; the counties and the townships for a whole-city
    viewer, with ``headers``, from the dashboard's figures as ``department_rows`` (a month's township
    ranking counted live: 0.6 s on SQLite at 1M cases), a county's townships (``q.within``) among them.
    Grid cells, thousands of them, are counted over the period's facts: their snapshots would hold more
    than the facts of the day; inside one area (``q.within``), over that area's facts only. For a
    period that has ended (``headers`` then holds the headers of its days), those counters are kept
    until a fact of its days changes, as the monthly report's (last month's grid cells at 1M cases:
    0.9 s on SQLite on every look). ``split``: as ``_row``."""
    level = q.level if q.level in AREA_FIELDS else AreaLevel.COUNTY.value
    stored = {AreaLevel.COUNTY.value: "area_counters", AreaLevel.TOWNSHIP.value: "township_counters"}
    within = area_record(q.within) if q.within else None
    if within is not None and within.level not in WITHIN_LEVELS.get(level, ()):
        raise ValueError(f"{level} within {within.level}")
    if headers is not None and level in stored and (user is None or sees_whole_city(user)):
        data = city_figures(q, now=now, headers=headers)[stored[level]]
        if within is not None:  # a county's townships: the codes whose parent it is
            data = {code: v for code, v in data.items() if _parent_of(code) == within.code}
    else:
        p = q.period(now)
        # checked on each fact of the period: through its own index SQLite read the area's facts of
        # every year (1M cases, a county's cells in a month: 0.9 s, against 0.7 s for the whole city)
        where = Unindexed(Q(**{AREA_FIELDS[within.level]: within.code})) if within is not None else None

        def count() -> dict[str, dict[str, dict]]:
            return counters_by_object(
                user, ObjectKind.AREA, start=p.start, end=p.end, now=now, level=level, where=where
            )

        tracked = headers[1] if headers is not None else None
        if tracked is None or p.as_of < p.end:
            data = count()
        else:  # an ended period: counted again only once a fact of its days changes (as the report)
            token = [(h.day, h.changes) for h in tracked]
            inside = within.code if within is not None else ""
            key = ("areas", formulas.FORMULA_VERSION, p.start, p.end, level, inside, _visibility(user))
            data = _kept(key, token, count)
    return area_rows_of(data, level=level, kind=q.kind, within=within.code if within else "", split=split)


def _parent_of(code: str) -> str | None:
    area = area_record(code)
    return area.parent_code if area is not None else None


def area_rows_of(
    data: dict[str, dict[str, dict]], *, level: str, kind: str = "", within: str = "", split: bool = True
) -> list[dict]:
    """Ranked rows of the areas of ``level`` (inside the area ``within``), from counters per area code
    and kind."""
    weights, thresholds = weights_for(ObjectKind.AREA), grade_thresholds()
    if level == AreaLevel.GRID.value:
        names = {code: code for code in data}
    else:
        names = {a.code: a.name for a in area_list(level=level, parent_code=within or None)}
        names.update({code: code for code in data if code not in names})
    rows = [
        _row(
            code, name, _kind_filter(data.get(code, {}), kind), weights, thresholds, split=split, level=level
        )
        for code, name in sorted(names.items())
        if code
    ]
    formulas.rank(rows)
    return rows


ORDERS = ("code", "rank")


def ranking_page(
    user, object_kind: str, q: Query, *, now: datetime, headers=None, order: str, page: int, size: int | None
) -> tuple[int, list[dict]]:
    """One page of a ranking: the number of rows and the rows of page ``page`` (from 1) of ``size``
    (None: all), in the order of ``ORDERS``: by code (departments by their place in the tree) or by
    rank, the unranked last. Ranks are those of the whole ranking. The indicators per kind of case of
    an area ranking are worked out for the page's rows only (``_row``)."""
    if object_kind == "areas":
        rows = area_rows(user, q, now=now, headers=headers, split=False)
    else:
        rows = ROWS[object_kind](user, q, now=now, headers=headers)
    if order == "rank":
        rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))
    # without a size, one page holds every row: any later page is past the last
    size = size or max(len(rows), 1)
    shown = rows[(page - 1) * size : page * size]
    for r in shown:
        if "_counters" in r:
            r["by_kind"] = _split(r.pop("_counters"))
    return len(rows), shown


def people_rows(user, q: Query, *, now: datetime, headers=None) -> list[dict]:
    """Ranked people for the period ``q``: each counter attributed to whoever took its step. For a
    whole-city viewer, with ``headers`` (``services.period_headers``), past days from their snapshots
    as ``department_rows`` (``people_figures``; a month counted live: 0.5 s on SQLite at 1M cases)."""
    if headers is not None and (user is None or sees_whole_city(user)):
        data = people_figures(q, now=now, headers=headers)
    else:
        data = counters_by_person(user, q.period(now))
    visible = get_user_model().objects.filter(is_active=True) if user is None else people_list_for(user)
    roles: dict[int, list[str]] = {}
    for m in (
        Membership.objects.filter(role__in=PEOPLE_ROLES, is_active=True, user__in=visible)
        .order_by("user_id", "role")
        .values("user_id", "role")
    ):
        roles.setdefault(m["user_id"], [])
        if m["role"] not in roles[m["user_id"]]:
            roles[m["user_id"]].append(m["role"])
    thresholds = grade_thresholds()
    weights = {r.value: weights_for(r.value) for r in PEOPLE_ROLES}
    users = get_user_model().objects.filter(pk__in=roles).order_by("username")
    rows = []
    for u in users:
        held = sorted(roles[u.pk], key=[r.value for r in PEOPLE_ROLES].index)
        rows.append(
            _row(
                u.username,
                u.display_name,
                _kind_filter(data.get(u.pk, {}), q.kind),
                weights[held[0]],
                thresholds,
                roles=held,
            )
        )
    formulas.rank(rows)
    return rows


ROWS = {"departments": department_rows, "areas": area_rows, "people": people_rows}


# ------------------------------------------------------------------------------------------------
# drill-down: the cases behind a number


def _object_q(object_kind: str, code: str, key: str) -> Q | None:
    if object_kind in ("", "city"):
        return Q()
    if object_kind == "departments":
        return Q(department__code=code)
    if object_kind == "areas":
        return Q(county_code=code) | Q(township_code=code) | Q(grid_code=code)
    if object_kind == "people":
        counter = key
        ind = formulas.INDICATOR_BY_KEY.get(key)
        if ind is not None:
            counter = ind.drill_counter
        field = PERSON_FIELD.get(counter)
        if field is None:
            return None
        return Q(**{f"{field}__username": code})
    if object_kind == "types":
        return Q(type_code=code)
    return None


def drilldown(
    user, *, key: str, object_kind: str = "", code: str = "", p: Period, kind: str = ""
) -> QuerySet[CaseFact]:
    """The facts counted in indicator or counter ``key`` for one object; ``.count()`` is the number.

    For a rate the list is its denominator and each row carries ``counted`` (True when the case is in
    the numerator too: on time, valid, accurate...).
    """
    qs = fact_list_for(user)
    obj = _object_q(object_kind, code, key)
    if obj is None:
        return qs.none()
    # SQLite (no statistics) started from the object's index and read all of a busy department's facts
    # for one month's counter: the counter's period (its anchor's index) is the narrower start
    cond = metrics.counter_q(key, p) & (Common(obj) if obj else obj)
    if kind in KIND_SPLIT:
        cond &= Q(kind=kind)
    qs = qs.filter(cond)
    num = metrics.numerator_q(key, p)
    if num is not None:
        from django.db.models import BooleanField, Case, Value, When

        qs = qs.annotate(
            counted=Case(When(num, then=Value(True)), default=Value(False), output_field=BooleanField())
        )
    return qs


# ------------------------------------------------------------------------------------------------
# the dashboard's reads


def period_counts(user, keys: Iterable[str], p: Period) -> dict[str, int]:
    """Counters of one period for everything ``user`` sees, in one query."""
    qs = fact_list_for(user).filter(metrics.relevant(p))
    return _unprefixed(qs.aggregate(**{_P + k: Count("pk", filter=COUNTERS[k](p)) for k in keys}))


def overdue_now(user, now: datetime) -> int:
    return fact_list_for(user).filter(COUNTERS["overdue_now"](Period(now, now, now))).count()


TREND_COUNTERS = ("reports", "filed", "dispatched", "closed_flow")
TREND_ANCHOR = {
    "reports": ("reported_at", Q()),
    "filed": ("file_end", Q(file_done=True)),
    "dispatched": ("dispatch_end", Q(dispatch_done=True)),
    "closed_flow": ("close_end", Q(close_done=True)),
}


def trend(user, *, now: datetime, days: int = 30) -> dict:
    """Daily flows of the last ``days`` days: snapshots for the past, live counts for today and gaps."""
    from django.db.models.functions import TruncDate

    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    series = {k: {} for k in TREND_COUNTERS}
    if user is None or sees_whole_city(user):
        from cityops.evaluation.services import snapshot_usable

        headers = SnapshotDay.objects.filter(day__gte=first, day__lt=today)
        usable = [h.day for h in headers if snapshot_usable(h)]
        for snap in MetricSnapshot.objects.filter(
            object_kind=ObjectKind.CITY, object_code="city", day__in=usable
        ).only("day", "counters"):  # fmt: skip
            total = formulas.add_counters(*(v for k, v in snap.counters.items() if k in KIND_SPLIT))
            for k in TREND_COUNTERS:
                series[k][snap.day] = int(total.get(k, 0))
    missing = [
        first + timedelta(days=i) for i in range(days) if (first + timedelta(days=i)) not in series["reports"]
    ]
    if missing:
        lo, hi = day_start(min(missing)), day_start(max(missing) + timedelta(days=1))
        hi = min(hi, now)
        tz = timezone.get_current_timezone()
        for k, (field, cond) in TREND_ANCHOR.items():
            rows = (
                fact_list_for(user)
                .filter(cond, **{f"{field}__gte": lo, f"{field}__lt": hi})
                .annotate(d=TruncDate(field, tzinfo=tz))
                .values("d")
                .annotate(n=Count("pk"))
                .order_by()
            )
            found = {r["d"]: r["n"] for r in rows}
            for d in missing:
                series[k][d] = found.get(d, 0)
    labels = [first + timedelta(days=i) for i in range(days)]
    return {
        "days": [d.isoformat() for d in labels],
        **{k: [series[k].get(d, 0) for d in labels] for k in TREND_COUNTERS},
    }


# a fact written before it carried its type's name (see ``day_figures``) names it as empty text
_TYPE_NAME = Coalesce(Max("type_name"), Value(""))


def top_types(user, p: Period, limit: int = 10) -> list[dict]:
    return list(
        fact_list_for(user)
        .filter(COUNTERS["reports"](p))
        .values("type_code", "kind")
        .annotate(n=Count("pk"), name=_TYPE_NAME)
        .order_by("-n", "type_code")[:limit]
    )


def area_counts(user, p: Period, level: str = "county") -> dict[str, int]:
    field = AREA_FIELDS[level]
    return {
        r[field]: r["n"]
        for r in fact_list_for(user)
        .filter(COUNTERS["reports"](p))
        .values(field)
        .annotate(n=Count("pk"))
        .order_by()
    }


def hotspots(user, p: Period, limit: int = 30) -> list[dict]:
    """The grid cells with most reports, with their position (the mean of their cases' positions)."""
    from django.db.models import Avg

    return list(
        fact_list_for(user)
        .filter(COUNTERS["reports"](p))
        .exclude(grid_code="")
        .exclude(lat__isnull=True)
        .exclude(lon__isnull=True)
        .values("grid_code")
        .annotate(n=Count("pk"), lat=Avg("lat"), lon=Avg("lon"))
        .order_by("-n", "grid_code")[:limit]
    )


def snapshot_series(object_kind: str, code: str, start: date, end: date) -> list[MetricSnapshot]:
    return list(
        MetricSnapshot.objects.filter(
            object_kind=object_kind, object_code=code, day__gte=start, day__lte=end
        ).order_by("day")
    )


def snapshot_value(object_kind: str, code: str, day: date, key: str) -> int | None:
    snap = MetricSnapshot.objects.filter(object_kind=object_kind, object_code=code, day=day).first()
    if snap is None:
        return None
    value = snap.counters.get("_stock", {}).get(key)
    return None if value is None else int(value)


# ------------------------------------------------------------------------------------------------
# whole-city figures of a period at once: what a day's snapshot holds, and the dashboard's reads

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def day_people(p: Period) -> dict[str, dict]:
    """Every person's counters of ``p`` (``counters_by_person``), keyed by the person's key as text,
    each with the moments at which time alone still moves them (``_flips``, as ``day_figures``): an
    open step answered for by the assigned inspector turns overdue. The city's second snapshot row of
    the day, ``PEOPLE``."""
    out: dict[str, dict] = {str(pk): by_kind for pk, by_kind in counters_by_person(None, p).items()}
    future = Q()
    for field in FLIP_TIMES:
        future |= Q(**{f"{field}__gte": p.as_of})
    people = [f"{field}_id" for field in PERSON_COUNTERS]
    rows = CaseFact.objects.filter(metrics.relevant(p)).filter(future).values(*people, *metrics.FLIP_FIELDS)
    for row in rows:
        for counter, moment in metrics.flips(row, p):
            field = PERSON_FIELD.get(counter)
            pk = row[f"{field}_id"] if field else None
            if pk is None:
                continue
            by_kind = out.setdefault(str(pk), {}).setdefault("_flips", {}).setdefault(row["kind"], {})
            by_kind.setdefault(counter, []).append(micros(moment))
    for obj in out.values():
        if "_flips" in obj:
            obj["_flips"] = _sorted_flips(obj["_flips"])
    return out


def _people_from_snapshots(days: tuple[date, date]) -> tuple[dict, dict]:
    """Every person's counters and flips of the snapshots of ``days``, merged (keys as text)."""
    counters: dict[str, dict] = {}
    flips: dict[str, dict] = {}
    rows = MetricSnapshot.objects.filter(
        object_kind=ObjectKind.CITY, object_code=PEOPLE, day__gte=days[0], day__lte=days[1]
    )
    for (by_person,) in _with_counters(rows):
        for pk, obj in by_person.items():
            _add_kinds(counters, pk, obj)
            _add_flips(flips.setdefault(pk, {}), obj.get("_flips", {}))
    return counters, {pk: _sorted_flips(f) for pk, f in flips.items()}


def _people_merged(days: tuple[date, date], headers: list[SnapshotDay]) -> tuple[dict, dict]:
    """``_people_from_snapshots(days)``, a month at a time (``_month_spans``)."""
    counters: dict[str, dict] = {}
    flips: dict[str, dict] = {}
    for part_counters, part_flips in _by_month("people", days, headers, _people_from_snapshots):
        for pk, obj in part_counters.items():
            _add_kinds(counters, pk, obj)
        for pk, f in part_flips.items():
            _add_flips(flips.setdefault(pk, {}), f)
    return counters, {pk: _sorted_flips(f) for pk, f in flips.items()}


def _people_brought_to(counters: dict, flips: dict, moment: datetime) -> dict[int, dict[str, dict]]:
    """Every person's merged counters (keys as text) brought forward to ``moment``, by person key."""
    at = micros(moment)
    return {
        int(pk): _brought_to(counters.get(pk, {}), flips.get(pk, {}), at)
        for pk in counters.keys() | flips.keys()
    }


def _people_ended_from_snapshots(
    q: Query, now: datetime, headers: list[SnapshotDay]
) -> dict[int, dict[str, dict]]:
    """``counters_by_person(None, ...)`` of an ended period from its days' snapshots, brought forward
    to now and corrected for the facts that moved after its end (as ``_ended_from_snapshots``)."""
    p = q.period(now)
    out = _people_brought_to(*_people_merged((q.start, q.end), headers), _BEYOND)
    for sign, facts, at_moment, scope in _moved(p):
        for pk, by_kind in counters_by_person(None, at_moment, facts=facts, scope=scope).items():
            _add_kinds(out, pk, by_kind, sign)
    return out


def people_figures(q: Query, *, now: datetime, headers: tuple) -> dict[int, dict[str, dict]]:
    """Every person's counters of the period ``q`` for a whole-city viewer (``headers``: the pair
    ``services.period_headers`` gives), equal to ``counters_by_person(None, ...)``: past days from
    their snapshots, merged once per change of any of them and brought forward to now, today live; a
    period that has ended counted once per change of its facts, as the dashboard's figures are."""
    days, tracked = headers
    today = timezone.localdate(now)
    yesterday = today - timedelta(days=1)
    if q.end < today:
        token = [(h.day, h.changes) for h in tracked or []]
        key = ("people", _SHAPE, formulas.FORMULA_VERSION, q.start, q.end)
        if _covered(days, q):
            return _kept(key, token, lambda: _people_ended_from_snapshots(q, now, days))
        return _kept(key, token, lambda: counters_by_person(None, q.period(now)))
    out: dict[int, dict[str, dict]] = {}
    if q.start <= yesterday:
        past = (q.start, yesterday)
        stamp = [(h.day, h.computed_at, h.computed_changes) for h in days if past[0] <= h.day <= past[1]]
        key = ("people-snapshots", _SHAPE, formulas.FORMULA_VERSION, past)
        out = _people_brought_to(*_kept(key, stamp, lambda: _people_merged(past, days)), now)
    if q.start <= today:
        live = counters_by_person(
            None, Period(start=day_start(today), end=day_start(today + timedelta(days=1)), as_of=now)
        )
        for pk, by_kind in live.items():
            _add_kinds(out, pk, by_kind)
    return out


# Due times that may still lie ahead; only rows with one of them can change with time alone.
FLIP_TIMES = ("verify_due", "file_due", "dispatch_due", "handle_due", "check_due", "file_end")


def micros(t: datetime) -> int:
    """``t`` as exact integer microseconds since the epoch (how snapshots store moments)."""
    return (t - EPOCH) // timedelta(microseconds=1)


GROUPS = ("department__code", "county_code", "township_code", "kind")
# Periods that stand for "any period" when the grouped query is compiled once per database.
_SENTINEL = Period(
    start=datetime(1901, 2, 3, 4, 5, 6, 7, tzinfo=UTC),
    end=datetime(1902, 3, 4, 5, 6, 7, 8, tzinfo=UTC),
    as_of=datetime(1903, 4, 5, 6, 7, 8, 9, tzinfo=UTC),
)
_COMPILED: dict[str, tuple[str, list, dict[int, str]]] = {}


def _grouped(p: Period) -> list[dict]:
    """Every period counter of ``p`` per department, county and kind, in one query.

    The ORM needs ~30 ms to build this query of some 40 conditional counts, more than the database
    needs to answer it for a day; it is built once per database with sentinel datetimes, and only
    the three moments of the period are substituted on later calls.
    """
    conn = connections[CaseFact.objects.db]
    compiled = _COMPILED.get(conn.alias)
    if compiled is None:
        qs = (
            CaseFact.objects.filter(metrics.relevant(_SENTINEL))
            .values(*GROUPS)
            .annotate(**_annotations(_SENTINEL, PERIOD_COUNTERS))
            .order_by()
        )
        sql, params = qs.query.get_compiler(connection=conn).as_sql()
        field = CaseFact._meta.get_field("reported_at")
        moments = {
            name: field.get_db_prep_value(getattr(_SENTINEL, name), conn)
            for name in ("start", "end", "as_of")
        }
        slots = {i: name for i, v in enumerate(params) for name, m in moments.items() if v == m}
        compiled = _COMPILED[conn.alias] = (sql, list(params), slots)
    sql, params, slots = compiled
    field = CaseFact._meta.get_field("reported_at")
    values = {name: field.get_db_prep_value(getattr(p, name), conn) for name in ("start", "end", "as_of")}
    params = [values[slots[i]] if i in slots else v for i, v in enumerate(params)]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    # PostgreSQL sums integers as numeric: counters and summed seconds are whole numbers
    return [
        {n: int(v) if isinstance(v, Decimal) else v for n, v in zip(names, row, strict=True)} for row in rows
    ]


def day_figures(p: Period, *, flips: bool = False) -> dict[str, dict[str, dict]]:
    """Whole-city counters of ``p`` for the city, every department, every county and every township
    (one GROUP BY).

    ``{"city": {"city": ...}, "department": {code: ...}, "area": {county: ...}}``, each object
    ``{kind: counters}``; a county also carries its townships' (``_townships``: ``{code: {kind:
    counters}}``, a fact's township under the fact's county), so that the rankings of either level
    read the past from snapshots. The city also carries the period's reports per problem type (``_types``:
    ``[code, kind, n, name]``) and per grid cell (``_grids``: ``{cell: [n, lat sum, lon sum]}``);
    with ``flips``, every object carries ``_flips`` (``{kind: {counter: [moment, ...]}}``, see
    ``metrics.flips``).
    """
    city: dict = {}
    objects: dict[str, dict[str, dict]] = {"city": {"city": city}, "department": {}, "area": {}}
    qs = CaseFact.objects.filter(metrics.relevant(p))

    def targets_of(dept, county, township) -> list[dict]:
        area = objects["area"].setdefault(county, {})
        targets = [city, area]
        if township:
            targets.append(area.setdefault("_townships", {}).setdefault(township, {}))
        if dept is not None:
            targets.append(objects["department"].setdefault(dept, {}))
        return targets

    for row in _grouped(p):
        dept, county, township, kind = (row.pop(g) for g in GROUPS)
        counters = _unprefixed(row)
        for target in targets_of(dept, county, township):
            target[kind] = formulas.add_counters(target.get(kind, {}), counters)
    if flips:
        future = Q()
        for field in FLIP_TIMES:
            future |= Q(**{f"{field}__gte": p.as_of})
        fields = ("department__code", "county_code", "township_code", *metrics.FLIP_FIELDS)
        for row in qs.filter(future).values(*fields):
            targets = targets_of(row["department__code"], row["county_code"], row["township_code"])
            for counter, moment in metrics.flips(row, p):
                for target in targets:
                    by_kind = target.setdefault("_flips", {}).setdefault(row["kind"], {})
                    by_kind.setdefault(counter, []).append(micros(moment))
        for by_object in objects.values():
            for target in by_object.values():
                for obj in (target, *target.get("_townships", {}).values()):
                    for by_counter in obj.get("_flips", {}).values():
                        for moments in by_counter.values():
                            moments.sort()
    reports = CaseFact.objects.filter(COUNTERS["reports"](p))
    # a fact written before its type name and position were copied to it (migration evaluation.0004,
    # by a worker of the old code during an upgrade) has none: no name, and no place among the hotspots
    city["_types"] = [
        [r["type_code"], r["kind"], r["n"], r["name"]]
        for r in reports.values("type_code", "kind").annotate(n=Count("pk"), name=_TYPE_NAME).order_by()
    ]
    city["_grids"] = {
        r["grid_code"]: [r["n"], r["lat"], r["lon"]]
        for r in reports.exclude(grid_code="")
        .exclude(lat__isnull=True)
        .exclude(lon__isnull=True)
        .values("grid_code")
        .annotate(n=Count("pk"), lat=Sum("lat"), lon=Sum("lon"))
        .order_by()
    }
    return objects


def flow_counts(p: Period) -> dict[str, int]:
    """The dashboard's flows (intake, filed, dispatched, closed) of ``p``: one query on their anchors."""
    keys = ("reports", "filed", "dispatched", "closed_flow")
    anchors = Q()
    for field, _cond in TREND_ANCHOR.values():
        anchors |= Q(**{f"{field}__gte": p.start, f"{field}__lt": p.end})
    qs = CaseFact.objects.filter(anchors)
    return _unprefixed(qs.aggregate(**{_P + k: Count("pk", filter=COUNTERS[k](p)) for k in keys}))


def _kinds(obj: dict) -> dict[str, dict]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _add_kinds(into: dict, key, obj: dict, sign: int = 1) -> None:
    """Add the counters per kind of ``obj`` (a snapshot's or a live object) to ``into[key]`` (``sign``
    -1: take them away)."""
    merged = into.setdefault(key, {})
    for kind, c in _kinds(obj).items():
        if sign < 0:
            c = {k: -(v or 0) for k, v in c.items()}
        merged[kind] = formulas.add_counters(merged.get(kind, {}), c)


def _add_flips(into: dict, flips: dict) -> None:
    for kind, by_counter in flips.items():
        for counter, moments in by_counter.items():
            into.setdefault(kind, {}).setdefault(counter, []).extend(moments)


def _brought_to(counters: dict[str, dict], flips: dict, at: int) -> dict[str, dict]:
    """Counters per kind plus the flips that happened before ``at`` (microseconds)."""
    out = {kind: dict(c) for kind, c in counters.items()}
    for kind, by_counter in flips.items():
        target = out.setdefault(kind, {})
        for counter, moments in by_counter.items():
            target[counter] = target.get(counter, 0) + bisect_left(moments, at)
    return out


def _sorted_flips(flips: dict) -> dict:
    return {kind: {c: sorted(m) for c, m in by_counter.items()} for kind, by_counter in flips.items()}


def _add_type(types: dict, key: tuple[str, str], n: int, name: str) -> None:
    """Add ``n`` reports of the type ``key`` (code, kind) to ``types`` (``{key: (n, name)}``)."""
    n0, name0 = types.get(key, (0, name))
    types[key] = (n0 + n, max(name0, name))


def _add_grid(grids: dict, code: str, n: int, lat: float, lon: float) -> None:
    """Add ``n`` reports of a grid cell and their positions' sums to ``grids``."""
    n0, lat0, lon0 = grids.get(code, (0, 0.0, 0.0))
    grids[code] = (n0 + n, lat0 + lat, lon0 + lon)


# What merged snapshots hold: the counters and the flips of each kind of object, the reports per
# county, type and grid cell, and the trend's days.
_FLIPS_OF = {
    "departments": "department_flips",
    "area_counters": "area_flips",
    "township_counters": "township_flips",
}


def _empty_past() -> dict:
    out: dict = {
        "city": {},
        "city_flips": {},
        "areas": {},
        "types": {},
        "grids": {},
        "trend": {},
        "stock": {},
    }
    for name, flips in _FLIPS_OF.items():
        out[name], out[flips] = {}, {}
    return out


def _sort_flips(out: dict) -> dict:
    """``out`` (``_empty_past``'s shape) with every list of flips sorted, as ``_brought_to`` reads them."""
    out["city_flips"] = _sorted_flips(out["city_flips"])
    for flips in _FLIPS_OF.values():
        out[flips] = {c: _sorted_flips(f) for c, f in out[flips].items()}
    return out


def _with_counters(qs, *fields: str):
    """``(*fields, counters)`` of snapshot rows, their counters decoded by orjson from the column's
    text: a year of the city's rows is 25 MB of JSON (each day's grid cells for the hotspots), which
    Django's decoder (``json``) took 0.8 s to read at 1M cases and orjson 0.4 s."""
    for *values, raw in qs.annotate(_counters=Cast("counters", TextField())).values_list(
        *fields, "_counters"
    ):
        yield (*values, orjson.loads(raw))


def _month_spans(days: tuple[date, date]) -> list[tuple[date, date]]:
    """``days`` cut at the ends of calendar months."""
    spans, lo = [], days[0]
    while lo <= days[1]:
        after = (lo.replace(day=1) + timedelta(days=32)).replace(day=1)
        hi = min(days[1], after - timedelta(days=1))
        spans.append((lo, hi))
        lo = hi + timedelta(days=1)
    return spans


def _by_month(what: str, days: tuple[date, date], headers: list[SnapshotDay], merge) -> list:
    """``merge(span)`` of each month of ``days`` (``_month_spans``), each kept in the cache under its
    days' stamps (``headers``: usable). A period's merge is kept whole until one of its days changes,
    and in a working city one of them changes all day (a case of March acted on today); merged whole
    again, a year took 0.5 s on SQLite and 0.9 s on PostgreSQL at 1M cases, of which now only the
    changed day's month is read again and the months are added up."""
    stamps = {h.day: (h.computed_at, h.computed_changes) for h in headers}
    parts = []
    for lo, hi in _month_spans(days):
        stamp = [(d, stamps.get(d)) for d in (lo + timedelta(days=i) for i in range((hi - lo).days + 1))]
        key = ("snapshot-month", what, _SHAPE, formulas.FORMULA_VERSION, lo, hi)
        parts.append(_kept(key, stamp, lambda span=(lo, hi): merge(span)))
    return parts


def _merged(days: tuple[date, date], headers: list[SnapshotDay]) -> dict:
    """The snapshots of ``days`` merged as ``_past_from_snapshots`` merges them (no trend), a month
    at a time (``_by_month``)."""
    out = _empty_past()
    for part in _by_month("figures", days, headers, lambda span: _past_from_snapshots(span, None)):
        _add_kinds(out, "city", part["city"])
        _add_flips(out["city_flips"], part["city_flips"])
        for name, flips in _FLIPS_OF.items():
            for code, obj in part[name].items():
                _add_kinds(out[name], code, obj)
            for code, f in part[flips].items():
                _add_flips(out[flips].setdefault(code, {}), f)
        for code, n in part["areas"].items():
            out["areas"][code] = out["areas"].get(code, 0) + n
        for key, (n, name) in part["types"].items():
            _add_type(out["types"], key, n, name)
        for code, (n, lat, lon) in part["grids"].items():
            _add_grid(out["grids"], code, n, lat, lon)
    return _sort_flips(out)


def _past_from_snapshots(days: tuple[date, date] | None, trend_days: tuple[date, date] | None) -> dict:
    """The stored snapshots of the period's past days and of the trend's past days, merged."""
    out = _empty_past()
    spans = [s for s in (days, trend_days) if s]
    lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
    city_rows = MetricSnapshot.objects.filter(
        object_kind=ObjectKind.CITY, object_code="city", day__gte=lo, day__lte=hi
    )
    for day, counters in _with_counters(city_rows, "day"):
        kinds = _kinds(counters)
        if trend_days and trend_days[0] <= day <= trend_days[1]:
            total = formulas.add_counters(*kinds.values())
            out["trend"][day] = {k: int(total.get(k, 0)) for k in TREND_COUNTERS}
            out["stock"][day] = counters.get("_stock", {}).get("overdue_now")
        if not days or not days[0] <= day <= days[1]:
            continue
        _add_kinds(out, "city", counters)
        _add_flips(out["city_flips"], counters.get("_flips", {}))
        for code, kind, n, name in counters.get("_types", []):
            _add_type(out["types"], (code, kind), n, name)
        for code, (n, lat, lon) in counters.get("_grids", {}).items():
            _add_grid(out["grids"], code, n, lat, lon)
    if days:
        # on the day range (the unique index leads with the day), not on the kind: see EXPLAIN
        rows = MetricSnapshot.objects.filter(day__gte=days[0], day__lte=days[1]).exclude(
            object_kind=ObjectKind.CITY
        )
        for object_kind, code, counters in _with_counters(rows, "object_kind", "object_code"):
            if object_kind == ObjectKind.AREA:
                n = sum(c.get("reports", 0) for c in _kinds(counters).values())
                out["areas"][code] = out["areas"].get(code, 0) + n
                for township, obj in counters.get("_townships", {}).items():
                    _add_kinds(out["township_counters"], township, obj)
                    _add_flips(out["township_flips"].setdefault(township, {}), obj.get("_flips", {}))
                into, flips = out["area_counters"], out["area_flips"]
            else:
                into, flips = out["departments"], out["department_flips"]
            _add_kinds(into, code, counters)
            _add_flips(flips.setdefault(code, {}), counters.get("_flips", {}))
    return _sort_flips(out)


# What the cached figures hold, as part of their keys: a process of an older release sharing the cache
# must not read figures of another shape (2: the counties' full counters; 3: the townships'; 4: people).
_SHAPE = 4


def _kept(key_parts: tuple, token, compute):
    """``compute()``, kept in the Django cache under one key per ``key_parts`` with the ``token`` it
    was computed for (the change counters or stamps of the days it read), and computed again when the
    token differs. A change replaces the entry: with the token in the key, every change left the old
    entry behind for a day, and an ended month changes whenever one of its cases is acted on (a grid
    ranking's counters are 1-2 MB)."""
    key = "evaluation:kept:" + hashlib.sha256(repr(key_parts).encode()).hexdigest()
    found = cache.get(key)
    if found is not None and found[0] == token:
        return found[1]
    value = compute()
    cache.set(key, (token, value), 24 * 3600)
    return value


def _top(types: dict, limit: int = 10) -> list[dict]:
    top = heapq.nsmallest(limit, ((-n, c, k, name) for (c, k), (n, name) in types.items() if n))
    return [{"type_code": c, "kind": k, "n": -n, "name": name} for n, c, k, name in top]


def _hot(grids: dict, limit: int = 30) -> list[dict]:
    """The ``limit`` busiest cells: a month holds thousands, and sorting them all cost 10 ms a page."""
    top = heapq.nsmallest(limit, ((-n, g) for g, (n, _lat, _lon) in grids.items() if n))
    return [{"grid_code": g, "n": -n, "lat": grids[g][1] / -n, "lon": grids[g][2] / -n} for n, g in top]


# the city, the departments, the counties and the townships, as the figures hold them
_FIGURE_GROUPS = (None, "department__code", AREA_FIELDS["county"], AREA_FIELDS["township"])


def _ended_live(q: Query, now: datetime) -> dict:
    """An ended period's whole-city figures counted over its facts (one pass for the counters)."""
    p = q.period(now)
    city, departments, counties, townships = _groups(fact_list_for(None), _FIGURE_GROUPS, p, PERIOD_COUNTERS)
    townships.pop("", None)  # a fact in no township counts in none, as in the snapshots
    return {
        "city": city.get("city", {}),
        "departments": departments,
        "area_counters": counties,
        "township_counters": townships,
        "areas": {k: n for k, n in area_counts(None, p).items() if n},
        "types": top_types(None, p),
        "hotspots": hotspots(None, p),
    }


def settled_after(p: Period) -> list[int]:
    """Keys of the facts that may count differently at the end of ``p`` and later
    (``metrics.moving_after``) and may count in ``p``.

    A case's steps all follow its report, so a fact that counts in the period was reported before its
    end. The index ``fact_settles`` answers both ranges alone (a half year at 1M cases: 5,000 of its
    480,000 facts, 12 ms on PostgreSQL, 50 ms on SQLite); the period's own filter is left to the
    query that counts them."""
    qs = CaseFact.objects.filter(metrics.moving_after(p.end), reported_at__lt=p.end)
    return list(qs.values_list("pk", flat=True))


# keys per query of the facts counted by their keys
_KEYS_AT_ONCE = 5000


# The moment an ended period's snapshots are brought forward to, and its moved facts counted at: later
# than any snapshot's computation, whichever clock took it (a snapshot taken after the request's own
# ``now``, by the timer or another worker, brought forward only to that ``now`` counted a fact as of
# its own time while the correction took it away as of ``now``; a wrong figure, and cached).
_BEYOND = datetime(9000, 1, 1, tzinfo=UTC)


def _moved(p: Period):
    """``(sign, facts, period, scope)`` to count the facts of ``settled_after(p)`` by: as of
    ``_BEYOND`` (sign -1, taken away from snapshots brought forward to it) and as of the period's end
    (+1), a few thousand keys per query; ``scope`` for ``_groups``."""
    moved, scope = settled_after(p), Unindexed(metrics.relevant(p))
    for i in range(0, len(moved), _KEYS_AT_ONCE):
        facts = CaseFact.objects.filter(pk__in=moved[i : i + _KEYS_AT_ONCE])
        for sign, moment in ((-1, _BEYOND), (1, p.as_of)):
            yield sign, facts, Period(p.start, p.end, moment), scope


def _covered(headers: list[SnapshotDay], q: Query) -> bool:
    """Whether ``headers`` (the usable ones) hold every day of ``q``."""
    usable = {h.day for h in headers}
    return all(q.start + timedelta(days=i) in usable for i in range((q.end - q.start).days + 1))


def _ended_from_snapshots(q: Query, now: datetime, headers: list[SnapshotDay]) -> dict:
    """An ended period's whole-city figures from the snapshots of its days, as ``_ended_live`` counts
    them.

    The snapshots brought forward to a moment later than any of them was taken (``_BEYOND``) count
    every fact as of that moment. A fact whose compared moments all lie before the period's end
    counts the same at its end and then; the others (``settled_after``) are taken away as counted then
    and added as counted at the end. Reports per type, area and grid cell do not depend on the moment
    and are the snapshots' own."""
    p = q.period(now)
    snap = _merged((q.start, q.end), headers)
    at = micros(_BEYOND)
    city = {"city": _brought_to(snap["city"], snap["city_flips"], at)}
    departments, counties, townships = (
        {code: _brought_to(c, snap[flips].get(code, {}), at) for code, c in snap[name].items()}
        for name, flips in _FLIPS_OF.items()
    )
    for sign, facts, at_moment, scope in _moved(p):
        counted = _groups(facts, _FIGURE_GROUPS, at_moment, PERIOD_COUNTERS, scope=scope)
        for into, part in zip((city, departments, counties, townships), counted, strict=True):
            for code, by_kind in part.items():
                _add_kinds(into, code, by_kind, sign)
    townships.pop("", None)  # a fact in no township counts in none, as in the snapshots
    return {
        "city": city["city"],
        "departments": departments,
        "area_counters": counties,
        "township_counters": townships,
        "areas": {k: n for k, n in snap["areas"].items() if n},
        "types": _top(snap["types"]),
        "hotspots": _hot(snap["grids"]),
    }


def _period_ended(q: Query, now: datetime, headers: list[SnapshotDay], tracked: list[SnapshotDay]) -> dict:
    """A period that has ended: its figures as of its end, cached until a fact of its days changes.

    Read from the snapshots of its days when all of them are usable (``headers``, see
    ``services.period_headers``), else counted over its facts: a half year at 1M cases took 7 s on
    SQLite and 1.4 s on PostgreSQL that way, from the snapshots well under a second."""
    token = [(h.day, h.changes) for h in tracked]
    return _kept(
        ("period", _SHAPE, formulas.FORMULA_VERSION, q.start, q.end),
        token,
        (lambda: _ended_from_snapshots(q, now, headers))
        if _covered(headers, q)
        else (lambda: _ended_live(q, now)),
    )


def _ongoing_past(past: tuple[date, date] | None, trend_days: tuple[date, date], headers) -> dict:
    """The past days of a running period merged a month at a time, and the trend's days."""
    out = _merged(past, headers) if past else _empty_past()
    trend = _past_from_snapshots(None, trend_days)
    return {**out, "trend": trend["trend"], "stock": trend["stock"]}


def city_figures(q: Query, *, now: datetime, headers: tuple) -> dict:
    """The whole city's figures of the period ``q`` with every county's and township's counters, for
    the rankings and the monthly report (``headers``: the pair ``services.period_headers`` gives)."""
    return dashboard_figures(q, now=now, headers=headers[0], period_headers=headers[1], counties=True)


def dashboard_figures(
    q: Query,
    *,
    now: datetime,
    headers: list[SnapshotDay],
    period_headers: list[SnapshotDay] | None = None,
    counties: bool = False,
) -> dict:
    """Whole-city figures of the dashboard: the period's counters, the trend and today's flows.
    ``counties``: also every county's and township's counters (``area_counters``,
    ``township_counters``; the dashboard shows only the counties' reports, the rankings and the
    monthly report all of them).

    Past days come from snapshots (``headers``: usable, from ``services.snapshots_ensure``), merged
    once per change of any of them and cached; counters that time alone still moves are brought
    forward to ``now`` (``_flips``). Today is counted live, in one GROUP BY and two narrow queries.
    A period that has already ended is evaluated as of its end, from its days' snapshots where all
    are usable (``_period_ended``), and cached on the change counters of its days (``period_headers``
    from ``services.snapshot_days_track``).
    """
    today = timezone.localdate(now)
    yesterday = today - timedelta(days=1)
    trend_days = (today - timedelta(days=29), yesterday)
    ongoing = q.end >= today
    past = (q.start, min(q.end, yesterday)) if ongoing and q.start <= yesterday else None
    # the headers of the days read here (an ended period's own are read by ``_period_ended``)
    stamp = [
        (h.day, h.computed_at, h.computed_changes)
        for h in headers
        if trend_days[0] <= h.day <= trend_days[1] or (past and past[0] <= h.day <= past[1])
    ]
    snap = _kept(
        ("snapshots", _SHAPE, formulas.FORMULA_VERSION, past, trend_days),
        stamp,
        lambda: _ongoing_past(past, trend_days, headers),
    )
    live = day_figures(Period(start=day_start(today), end=day_start(today + timedelta(days=1)), as_of=now))
    live_city = live["city"]["city"]
    at = micros(now)
    if ongoing:
        in_period = q.start <= today
        parts = [live] if in_period else []
        city = _brought_to(snap["city"], snap["city_flips"], at)
        departments = {
            code: _brought_to(c, snap["department_flips"].get(code, {}), at)
            for code, c in snap["departments"].items()
        }
        area_counters = {
            code: _brought_to(c, snap["area_flips"].get(code, {}), at)
            for code, c in (snap["area_counters"] if counties else {}).items()
        }
        township_counters = {
            code: _brought_to(c, snap["township_flips"].get(code, {}), at)
            for code, c in (snap["township_counters"] if counties else {}).items()
        }
        areas = dict(snap["areas"])
        types = dict(snap["types"])
        grids = dict(snap["grids"])
        for part in parts:
            for kind, c in _kinds(part["city"]["city"]).items():
                city[kind] = formulas.add_counters(city.get(kind, {}), c)
            for code, obj in part["department"].items():
                _add_kinds(departments, code, obj)
            for code, obj in part["area"].items():
                n = sum(c.get("reports", 0) for c in _kinds(obj).values())
                if n:
                    areas[code] = areas.get(code, 0) + n
                if counties:
                    _add_kinds(area_counters, code, obj)
                    for township, town in obj.get("_townships", {}).items():
                        _add_kinds(township_counters, township, town)
            for code, kind, n, name in part["city"]["city"]["_types"]:
                _add_type(types, (code, kind), n, name)
            for code, (n, lat, lon) in part["city"]["city"]["_grids"].items():
                _add_grid(grids, code, n, lat, lon)
        period_part = {
            "city": city, "departments": departments, "areas": areas, "area_counters": area_counters,
            "township_counters": township_counters, "types": _top(types), "hotspots": _hot(grids),
        }  # fmt: skip
    else:
        period_part = _period_ended(q, now, headers, period_headers or [])
    today_total = formulas.add_counters(*_kinds(live_city).values())
    trend_labels = [trend_days[0] + timedelta(days=i) for i in range(30)]
    series = {**snap["trend"], today: {k: int(today_total.get(k, 0)) for k in TREND_COUNTERS}}
    week_ago = today - timedelta(days=7)
    return {
        **period_part,
        "today": {k: int(today_total.get(k, 0)) for k in TREND_COUNTERS},
        "week_ago_stock": snap["stock"].get(week_ago),
        "trend": {
            "days": [d.isoformat() for d in trend_labels],
            **{k: [series.get(d, {}).get(k, 0) for d in trend_labels] for k in TREND_COUNTERS},
        },
    }
