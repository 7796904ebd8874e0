"""Writes of the evaluation app: case facts, daily snapshots and the configurable defaults."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cityops.cases import deadlines
from cityops.cases.choices import Action
from cityops.cases.models import Case, CaseEvent
from cityops.catalog import selectors as catalog
from cityops.core import worktime
from cityops.core.calendar import load_calendar
from cityops.core.db import insert
from cityops.evaluation import formulas, metrics
from cityops.evaluation.models import (
    PEOPLE,
    CaseFact,
    FactCheck,
    GradeThreshold,
    MetricSnapshot,
    ObjectKind,
    ScoreWeight,
    SnapshotDay,
    Target,
)

DEFAULTS_FILE = Path(__file__).resolve().parent / "fixtures" / "defaults.yaml"


# ------------------------------------------------------------------------------------------------
# case facts


def fact_timing(calendar=None):
    """The time functions fact derivation needs, over one calendar (build once, reuse for many cases)."""
    calendar = calendar or load_calendar()

    def step_due(stage: str, start: datetime):
        limit = catalog.step_limit(stage)
        return None if limit is None else deadlines.due(start, limit.limit, limit.unit, calendar)

    def work_seconds(start: datetime, end: datetime, pauses: list) -> float:
        return worktime.elapsed(start, end, worktime.Unit.WORK_HOUR, calendar, pauses).total_seconds()

    return calendar, step_due, work_seconds


def _events_of(case_id: int) -> list[formulas.EventSnap]:
    return [
        formulas.EventSnap(**row)
        for row in CaseEvent.objects.filter(case_id=case_id)
        .order_by("at", "id")
        .values("action", "at", "from_state", "to_state", "actor_id", "department_id")
    ]


def fact_values_with(case: Case, events, timing) -> dict:
    """``CaseFact`` fields of ``case`` from its events (snaps or unsaved ``CaseEvent`` rows in time order)."""
    calendar, step_due, work_seconds = timing

    def handle_due(start: datetime):
        if case.handle_limit is None:
            return None
        return deadlines.due(start, case.handle_limit, case.handle_unit or "work_hour", calendar)

    snaps = [
        e
        if isinstance(e, formulas.EventSnap)
        else formulas.EventSnap(e.action, e.at, e.from_state, e.to_state, e.actor_id, e.department_id)
        for e in events
    ]
    values = formulas.derive_fact(
        formulas.CaseSnap.of(case),
        snaps,
        step_due=step_due,
        handle_due=handle_due,
        work_seconds=work_seconds,
    )
    values["case_updated_at"] = case.updated_at
    values["settles_at"] = metrics.settles_at(values)
    values["last_at"] = metrics.last_anchor(values)
    values["held"] = values["department_id"] is None or values["department_id"] == case.department_id
    return values


def fact_values(case: Case, events: list[formulas.EventSnap]) -> dict:
    return fact_values_with(case, events, fact_timing())


def anchor_days(values) -> set[date]:
    """The local days a fact counts on (its anchors), from a dict of fields or a tuple of ``ANCHORS``."""
    if isinstance(values, dict):
        values = [values.get(f) for f in metrics.ANCHORS]
    return {timezone.localdate(t) for t in values or () if t is not None}


# How long before midnight a write counts its day as ended (``snapshot_days_touch``, ``on_case_event``):
# every new report then updates the day's header, a row each writer waits for, during that minute only.
COMMIT_MARGIN = timedelta(minutes=1)


def snapshot_days_touch(days: set[date]) -> None:
    """Mark the snapshots of ``days`` out of date: the facts they were computed from changed.

    In a day's last minute (``COMMIT_MARGIN``) the day's header is made where there is none yet: the
    write's transaction may commit after midnight, once a reader has made the header to count the day
    as ended, with no change counted, and kept what it counted under it."""
    if not days:
        return
    now = timezone.now()
    today = timezone.localdate(now)
    if today in days and timezone.localdate(now + COMMIT_MARGIN) > today:
        SnapshotDay.objects.bulk_create([SnapshotDay(day=today)], ignore_conflicts=True)
    SnapshotDay.objects.filter(day__in=days).update(changes=F("changes") + 1)


def fact_refresh(*, case: Case) -> CaseFact:
    """Rewrite the facts of ``case`` from its current fields and its events.

    The days of the old and the new anchors are touched: a re-dispatch moves a case out of a day.
    """
    old = CaseFact.objects.filter(pk=case.pk).values_list(*metrics.ANCHORS).first()
    values = fact_values(case, _events_of(case.pk))
    if old is None:
        fact = CaseFact.objects.create(case_id=case.pk, **values)
    else:
        CaseFact.objects.filter(pk=case.pk).update(**values)
        fact = CaseFact(case_id=case.pk, **values)
    snapshot_days_touch(anchor_days(old) | anchor_days(values))
    return fact


def on_case_event(sender, instance: CaseEvent, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of ``CaseEvent``: the case was saved just before its event, in the same transaction."""
    if raw or not created:
        return
    if instance.action == Action.REPORT:
        # The first event of a new case: its facts follow from this one event, no re-read needed.
        snap = formulas.EventSnap(
            instance.action,
            instance.at,
            instance.from_state,
            instance.to_state,
            instance.actor_id,
            instance.department_id,
        )
        values = fact_values(instance.case, [snap])
        insert(CaseFact(case_id=instance.case_id, **values))
        # Today's snapshot is never usable before the day ends; only a report entered with a past
        # time (imports, the demo) changes a finished day, and so may one in the day's last minute,
        # whose transaction can commit after midnight, once a reader has taken the day's header to
        # count the day as ended (and kept what it counted under it).
        finished = timezone.localdate(timezone.now() + COMMIT_MARGIN)
        snapshot_days_touch({d for d in anchor_days(values) if d < finished})
        return
    fact_refresh(case=instance.case)


def stale_facts_cases(*, since: datetime | None = None):
    """The cases whose facts are missing or out of date (``facts_rebuild(stale_only=True)``), among
    the cases changed since ``since`` (None: every case)."""
    # written by a worker that predates evaluation.0006: no settling moment, or one that a later
    # event passed
    unsettled = Q(fact__settles_at__isnull=True) & ~Q(
        **{f"fact__{name}__isnull": True for name in metrics.AS_OF_FIELDS}
    )
    for name in metrics.AS_OF_FIELDS:
        unsettled |= Q(**{f"fact__{name}__gt": F("fact__settles_at")})
    # ... or by one that predates evaluation.0007: ``held`` left as it was (a return, a reopen)
    held_wrong = Q(fact__held=True, fact__department__isnull=False) & (
        Q(department__isnull=True) | ~Q(fact__department=F("department"))
    )
    held_wrong |= Q(fact__held=False) & (
        Q(fact__department__isnull=True) | Q(fact__department=F("department"))
    )
    # ... or by one that predates evaluation.0009: ``last_at`` missing, or left before a later anchor
    last_at_wrong = Q(fact__last_at__isnull=True)
    for name in metrics.ANCHORS:
        last_at_wrong |= Q(**{f"fact__{name}__gt": F("fact__last_at")})
    cases = Case.objects.all() if since is None else Case.objects.filter(updated_at__gte=since)
    return cases.filter(
        Q(fact__isnull=True)
        | Q(fact__version__lt=formulas.FORMULA_VERSION)
        | Q(fact__type_name__isnull=True)  # written by a worker that predates evaluation.0004
        | ~Q(fact__case_updated_at=F("updated_at"))
        | unsettled
        | held_wrong
        | last_at_wrong
    )


def facts_rebuild(*, stale_only: bool = False, since: datetime | None = None, batch: int = 500) -> int:
    """Rebuild the facts of every case (or only of cases whose facts are missing or out of date, of
    those changed since ``since``)."""
    qs = stale_facts_cases(since=since) if stale_only else Case.objects.all()
    # sorted here: in the key's order (or the cases' default one) SQLite walked every case rather than
    # the recent ones through their ``updated_at`` index
    ids = sorted(qs.order_by().values_list("pk", flat=True))
    done = 0
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        events: dict[int, list] = {pk: [] for pk in chunk}
        for row in (
            CaseEvent.objects.filter(case_id__in=chunk)
            .order_by("case_id", "at", "id")
            .values("case_id", "action", "at", "from_state", "to_state", "actor_id", "department_id")
        ):
            events[row.pop("case_id")].append(formulas.EventSnap(**row))
        with transaction.atomic():
            touched: set[date] = set()
            existing = set()
            for pk, *anchors in CaseFact.objects.filter(pk__in=chunk).values_list("pk", *metrics.ANCHORS):
                existing.add(pk)
                touched |= anchor_days(anchors)
            for case in Case.objects.filter(pk__in=chunk):
                values = fact_values(case, events[case.pk])
                touched |= anchor_days(values)
                if case.pk in existing:
                    CaseFact.objects.filter(pk=case.pk).update(**values)
                else:
                    CaseFact.objects.create(case_id=case.pk, **values)
                done += 1
            snapshot_days_touch(touched)
    return done


# ------------------------------------------------------------------------------------------------
# snapshots

SNAPSHOT_KINDS = (ObjectKind.CITY, ObjectKind.DEPARTMENT, ObjectKind.AREA)
# What a day's snapshots hold, stored on its header (``SnapshotDay.shape``): raised when they come to
# hold more, so that days computed before are computed again. 1: each county's townships; 2: people.
SNAPSHOT_SHAPE = 2


# What ``stale_facts_cases`` looks for. Raise it when it learns a new condition (a release whose
# migration adds a column to the facts): the timer's next look then reads every case again.
STALE_RULES = 1
# How far before the previous look the next one starts: a case saved in a transaction still open
# then, or by a machine whose clock runs behind, is read again.
STALE_OVERLAP = timedelta(hours=1)
# How often a look reads every case all the same (below).
STALE_FULL_EVERY = timedelta(days=1)


def facts_rebuild_stale(*, now: datetime) -> tuple[int, bool]:
    """Rebuild the facts that are missing or out of date, for the timer; how many, and whether every
    case was read.

    A fact goes out of date with its case: a case changed without an event (a "me too", a merge) or
    by a process of an earlier release during an upgrade, and such changes set the case's
    ``updated_at``, which is indexed. So a look reads the cases changed since the previous one
    (``FactCheck``) rather than every case with its facts (3M cases: 6.2 s on SQLite, longer with
    each year). One writer of facts leaves ``updated_at`` as it was: the overdue timer's event (the
    case's public "updated" time stays its last public change), so a fact an earlier release's
    overdue timer wrote during an upgrade is found by the look that reads every case: the first, the
    first after the rules or the formulas change (``STALE_RULES``, ``formulas.FORMULA_VERSION``), one
    a day (``STALE_FULL_EVERY``), and one after a look dated ahead of the clock.
    ``evaluation_rebuild_facts --stale`` always reads every case."""
    rules = f"{formulas.FORMULA_VERSION}.{STALE_RULES}"
    mark = FactCheck.objects.filter(pk=1).values_list("started_at", "rules", "full_at").first()
    since = full_at = None
    if mark is not None:
        started, kept_rules, full_at = mark
        if (
            kept_rules == rules
            and started <= now
            and full_at is not None
            and now - full_at < STALE_FULL_EVERY
        ):
            since = started - STALE_OVERLAP
    done = facts_rebuild(stale_only=True, since=since)
    # one row, whichever of two looks at once writes last
    FactCheck.objects.bulk_create(
        [FactCheck(pk=1, started_at=now, rules=rules, full_at=now if since is None else full_at)],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["started_at", "rules", "full_at"],
    )
    return done, since is None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def snapshot_usable(header: SnapshotDay | None) -> bool:
    """Whether the stored snapshots of ``header.day`` may stand in for the facts (see ``SnapshotDay``)."""
    return (
        header is not None
        and header.version == formulas.FORMULA_VERSION
        and header.shape == SNAPSHOT_SHAPE
        and header.shaped_at == header.computed_at
        and header.computed_changes == header.changes
        and header.computed_at is not None
        and header.computed_at >= day_bounds(header.day)[1]
    )


def snapshot_compute(*, day: date, now: datetime) -> int:
    """Replace the snapshots of ``day`` with its figures as of ``now``: city, departments and counties
    (each with its townships), and every person's (the city's row ``PEOPLE``).

    Counters are taken at ``now`` and carry the moments at which time alone will still change them
    (``metrics.flips``), so a usable snapshot equals the live count at any later moment.
    """
    from cityops.evaluation import selectors

    header, _created = SnapshotDay.objects.get_or_create(day=day)
    changes = header.changes  # read before the facts: a write in between makes the result stale
    start, end = day_bounds(day)
    period = metrics.Period(start=start, end=end, as_of=now)
    figures = selectors.day_figures(period, flips=True)
    objects = [(kind, code, c) for kind in SNAPSHOT_KINDS for code, c in figures[kind].items()]
    objects.append((ObjectKind.CITY, PEOPLE, selectors.day_people(period)))
    v = formulas.FORMULA_VERSION
    rows = [
        MetricSnapshot(day=day, object_kind=kind, object_code=code, counters=c, version=v, computed_at=now)
        for kind, code, c in objects
    ]
    city = figures["city"]["city"]  # the city row's counters
    # The stock of overdue cases can only be seen live: taken when the day is today, kept afterwards.
    if start <= now < end:
        city["_stock"] = {"overdue_now": selectors.overdue_now(None, now), "at": now.isoformat()}
    else:
        old = MetricSnapshot.objects.filter(day=day, object_kind=ObjectKind.CITY, object_code="city").first()
        if old and "_stock" in old.counters:
            city["_stock"] = old.counters["_stock"]
    with transaction.atomic():
        SnapshotDay.objects.select_for_update().filter(day=day).first()  # one writer per day at a time
        MetricSnapshot.objects.filter(day=day).delete()
        MetricSnapshot.objects.bulk_create(rows)
        SnapshotDay.objects.filter(day=day).update(
            computed_changes=changes,
            computed_at=now,
            version=formulas.FORMULA_VERSION,
            shape=SNAPSHOT_SHAPE,
            shaped_at=now,
        )
    return len(rows)


def snapshots_ensure(*, first: date, last: date, now: datetime, most: int | None = None) -> list[SnapshotDay]:
    """Make the snapshots of the past days ``first``..``last`` usable (computing those that are not).

    Returns the headers of the days in order; normally one query. Days from today on are left alone.
    With ``most``: where more days than that need computing, none is computed and only the usable
    days' headers are returned.
    """
    last = min(last, timezone.localdate(now) - timedelta(days=1))
    if last < first:
        return []
    headers = {h.day: h for h in SnapshotDay.objects.filter(day__gte=first, day__lte=last)}
    stale = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    stale = [d for d in stale if not snapshot_usable(headers.get(d))]
    if most is not None and len(stale) > most:
        return [headers[d] for d in sorted(headers) if snapshot_usable(headers[d])]
    for d in stale:
        snapshot_compute(day=d, now=now)
    if stale:
        headers.update({h.day: h for h in SnapshotDay.objects.filter(day__in=stale)})
    return [headers[d] for d in sorted(headers)]


# An ended period is read from its days' snapshots when at most this many of them, and a third of its
# days, need computing first; else it is counted over its facts once.
ENDED_STALE_MOST = 31


def period_headers(q, *, now: datetime) -> tuple[list[SnapshotDay], list[SnapshotDay] | None]:
    """What ``selectors.dashboard_figures`` reads a period ``q`` (``selectors.Query``) from: the usable
    snapshots of the past days of the period and of the 30-day trend (computed here where missing;
    for a period that has ended, only where few are), and for a period that has ended the headers
    of its days (made where missing)."""
    today = timezone.localdate(now)
    trend_first, ended = today - timedelta(days=29), q.end < today
    first = trend_first if ended else min(q.start, trend_first)
    if not ended:
        return snapshots_ensure(first=first, last=today - timedelta(days=1), now=now), None
    tracked = snapshot_days_track(first=q.start, last=q.end)  # before the facts are read
    headers = {h.day: h for h in snapshots_ensure(first=first, last=today - timedelta(days=1), now=now)}
    # a day computed costs about 0.17 s, a day of the period counted live about 0.07 s (SQLite, 1M cases)
    most = min(ENDED_STALE_MOST, ((q.end - q.start).days + 1) // 3)
    for h in snapshots_ensure(first=q.start, last=q.end, now=now, most=most):
        headers.setdefault(h.day, h)
    return [headers[d] for d in sorted(headers)], tracked


def snapshot_days_track(*, first: date, last: date) -> list[SnapshotDay]:
    """The headers of ``first``..``last``, created where missing so that fact writes are counted."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    headers = {h.day: h for h in SnapshotDay.objects.filter(day__gte=first, day__lte=last)}
    missing = [SnapshotDay(day=d) for d in days if d not in headers]
    if missing:
        SnapshotDay.objects.bulk_create(missing, ignore_conflicts=True)
        headers = {h.day: h for h in SnapshotDay.objects.filter(day__gte=first, day__lte=last)}
    return [headers[d] for d in days]


def snapshots_update(*, now: datetime, days: int = 60, recompute: bool = False) -> list[date]:
    """Compute the snapshots of the last ``days`` days that are missing, out of date or still moving.

    A past day is skipped while its snapshots are usable (``snapshot_usable``); today is always
    recomputed.
    """
    today = timezone.localdate(now)
    first = today - timedelta(days=days)
    headers = {h.day: h for h in SnapshotDay.objects.filter(day__gte=first)}
    done = []
    day = first
    while day <= today:
        if recompute or day == today or not snapshot_usable(headers.get(day)):
            snapshot_compute(day=day, now=now)
            done.append(day)
        day += timedelta(days=1)
    return done


# ------------------------------------------------------------------------------------------------
# weights, grades and targets


def defaults_data(path: Path = DEFAULTS_FILE) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


@transaction.atomic
def defaults_load(*, path: Path = DEFAULTS_FILE, replace: bool = False) -> dict[str, int]:
    """Load weights, grade thresholds and targets; existing rows keep the city's edits unless ``replace``."""
    data = defaults_data(path)
    counts = {"weights": 0, "grades": 0, "targets": 0}
    for object_kind, weights in data["weights"].items():
        ObjectKind(object_kind)
        for indicator, spec in weights.items():
            formulas.indicator_points(indicator, 0)  # raises for unknown or unscorable indicators
            defaults = {"weight": Decimal(str(spec["weight"])), "note": spec.get("note", "")[:200]}
            if replace:
                ScoreWeight.objects.update_or_create(
                    object_kind=object_kind, indicator=indicator, defaults=defaults
                )
            else:
                ScoreWeight.objects.get_or_create(
                    object_kind=object_kind, indicator=indicator, defaults=defaults
                )
            counts["weights"] += 1
    for name, minimum in data["grades"].items():
        fn = GradeThreshold.objects.update_or_create if replace else GradeThreshold.objects.get_or_create
        fn(grade=name, defaults={"min_score": Decimal(str(minimum))})
        counts["grades"] += 1
    for i, t in enumerate(data.get("targets", [])):
        defaults = {
            "name": t["name"],
            "indicator": t["indicator"],
            "target_value": Decimal(str(t["target"])),
            "unit": t.get("unit", ""),
            "deadline": t.get("deadline"),
            "sort": i,
        }
        fn = Target.objects.update_or_create if replace else Target.objects.get_or_create
        fn(key=t["key"], defaults=defaults)
        counts["targets"] += 1
    return counts
