"""Reads of the evaluation: indicators per object, drill-down lists, weights, snapshots, targets.

Visibility: every figure is computed over ``fact_list_for(user)``, which is the case visibility rule
(``cases.selectors.case_list_for``) applied to the fact table. Counts and drill-down lists are built
from the same counter filters (``metrics.COUNTERS``), so a number and the list behind it agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from cityops.cases.selectors import case_list_for
from cityops.evaluation import formulas, metrics
from cityops.evaluation.formulas import KIND_SPLIT
from cityops.evaluation.metrics import COUNTERS, PERSON_COUNTERS, PERSON_FIELD, SUMS, Period
from cityops.evaluation.models import CaseFact, GradeThreshold, MetricSnapshot, ObjectKind, ScoreWeight
from cityops.geography.choices import AreaLevel
from cityops.geography.selectors import area_list
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


def fact_list_for(user) -> QuerySet[CaseFact]:
    """Facts of the cases ``user`` may see (``user=None``: the system, everything)."""
    qs = CaseFact.objects.all()
    if user is None or sees_whole_city(user):
        return qs
    return qs.filter(case_id__in=case_list_for(user).values("pk"))


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
    keys = list(keys)
    fields = [group, "kind"] if group else ["kind"]
    out: dict[str, dict[str, dict]] = {}
    for row in qs.filter(metrics.relevant(p)).values(*fields).annotate(**_annotations(p, keys)).order_by():
        code = row.pop(group) if group else "city"
        kind = row.pop("kind")
        if code is None:
            continue
        out.setdefault(str(code), {})[kind] = _unprefixed(row)
    return out


def counters_by_object(
    user, object_kind: str, *, start: datetime, end: datetime, now: datetime, level: str = "county"
) -> dict[str, dict[str, dict]]:
    """Counters per object code and kind of case: city, departments (code) or areas of one level."""
    p = Period(start=start, end=end, as_of=min(end, now))
    qs = fact_list_for(user)
    if object_kind == ObjectKind.CITY:
        return _group(qs, None, p, PERIOD_COUNTERS)
    if object_kind == ObjectKind.DEPARTMENT:
        return _group(qs, "department__code", p, PERIOD_COUNTERS)
    if object_kind == ObjectKind.AREA:
        return _group(qs, AREA_FIELDS[level], p, PERIOD_COUNTERS)
    raise ValueError(object_kind)


def counters_by_person(user, p: Period) -> dict[int, dict[str, dict]]:
    """Counters per person id and kind: each counter attributed to whoever took its step."""
    qs = fact_list_for(user)
    out: dict[int, dict[str, dict]] = {}
    for field, keys in PERSON_COUNTERS.items():
        for pk, by_kind in _group(qs, f"{field}_id", p, keys).items():
            for kind, counters in by_kind.items():
                out.setdefault(int(pk), {}).setdefault(kind, {}).update(counters)
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


def _row(code: str, name: str, by_kind: dict[str, dict], weights, thresholds, **extra) -> dict:
    total = formulas.add_counters(*by_kind.values())
    values = formulas.indicators(total)
    score = formulas.composite_score(values, weights)
    return {
        "code": code,
        "name": name,
        "indicators": values,
        "by_kind": {k: formulas.indicators(by_kind.get(k, {})) for k in KIND_SPLIT},
        "score": score,
        "grade": formulas.grade(score, thresholds),
        **extra,
    }


def _kind_filter(by_kind: dict[str, dict], kind: str) -> dict[str, dict]:
    return {kind: by_kind.get(kind, {})} if kind else by_kind


@dataclass(frozen=True)
class Query:
    start: date
    end: date
    level: str = AreaLevel.COUNTY.value
    kind: str = ""  # "" both, or component / matter

    def period(self, now: datetime) -> Period:
        return period(self.start, self.end, now)


def department_rows(user, q: Query, *, now: datetime) -> list[dict]:
    p = q.period(now)
    data = counters_by_object(user, ObjectKind.DEPARTMENT, start=p.start, end=p.end, now=now)
    weights, thresholds = weights_for(ObjectKind.DEPARTMENT), grade_thresholds()
    rows = []
    departments = Department.objects.filter(is_active=True) if user is None else department_list_for(user)
    for d in departments.exclude(kind="centre").order_by("path"):
        rows.append(_row(d.code, d.name, _kind_filter(data.get(d.code, {}), q.kind), weights, thresholds))
    formulas.rank(rows)
    return rows


def area_rows(user, q: Query, *, now: datetime) -> list[dict]:
    p = q.period(now)
    level = q.level if q.level in AREA_FIELDS else AreaLevel.COUNTY.value
    data = counters_by_object(user, ObjectKind.AREA, start=p.start, end=p.end, now=now, level=level)
    weights, thresholds = weights_for(ObjectKind.AREA), grade_thresholds()
    if level == AreaLevel.GRID.value:
        names = {code: code for code in data}
    else:
        names = {a.code: a.name for a in area_list(level=level)}
        names.update({code: code for code in data if code not in names})
    rows = [
        _row(code, name, _kind_filter(data.get(code, {}), q.kind), weights, thresholds, level=level)
        for code, name in sorted(names.items())
        if code
    ]
    formulas.rank(rows)
    return rows


def people_rows(user, q: Query, *, now: datetime) -> list[dict]:
    p = q.period(now)
    data = counters_by_person(user, p)
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
    cond = metrics.counter_q(key, p) & obj
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
        for snap in MetricSnapshot.objects.filter(
            object_kind=ObjectKind.CITY, object_code="city", day__gte=first, day__lt=today,
            version=formulas.FORMULA_VERSION,
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


def top_types(user, p: Period, limit: int = 10) -> list[dict]:
    return list(
        fact_list_for(user)
        .filter(COUNTERS["reports"](p))
        .values("type_code", "kind")
        .annotate(n=Count("pk"), name=Max("case__type_name"))
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
        .values("grid_code")
        .annotate(n=Count("pk"), lat=Avg("case__lat"), lon=Avg("case__lon"))
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
