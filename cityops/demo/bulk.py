"""The bulk writer of the demo generator: a million cases in minutes, on SQLite and PostgreSQL.

Building a case (replaying its transitions, computing its deadlines and deriving its facts) costs
more than writing it, and the machines have two cores. So the parent first settles everything that
needs the database, in plan order: where each place lies, the department, filing condition and
handler of every (type, area), each case's number and id. Then the parent and forked helper
processes turn disjoint chunks of plans into ready-to-write row tuples, and the parent alone writes
the chunks in order (plain INSERTs on SQLite, COPY on PostgreSQL), one transaction per chunk.

Determinism: a case's rows depend only on its plan, its number and id, and the reference data
settled before the fork; event ids are given by the writer in chunk order. The number of processes
and the batch size therefore do not change a single row (the demo tests compare them).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import marshal
import multiprocessing
import os
import queue
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from operator import attrgetter

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cityops.cases.choices import Action, Kind, Source, Stage, State, Urgency
from cityops.demo.generate import (
    PATROL,
    VERIFIED,
    Plan,
    Reference,
    _handle_hours,
    plan_steps,
    rating_for,
)

TERMINAL_NO_CLOCK = {Action.CLOSE, Action.REJECT, Action.INVALIDATE}
PRIVATE_ACTIONS = {Action.URGE, Action.REQUEST_EXTENSION, Action.DENY_EXTENSION, Action.APPROVE_EXTENSION}
# action -> (state after it, step it starts or None), as plain values (rows carry no enum members)
TARGET = {
    a: (state.value, stage.value if stage else None)
    for a, (state, stage) in {
        Action.VERIFY: (State.TO_FILE, Stage.FILE),
        Action.FILE: (State.TO_DISPATCH, Stage.DISPATCH),
        Action.REJECT: (State.REJECTED, None),
        Action.INVALIDATE: (State.INVALID, None),
        Action.DISPATCH: (State.DISPATCHED, Stage.HANDLE),
        Action.ACCEPT: (State.HANDLING, None),
        Action.PARK: (State.PARKED, None),
        Action.REPORT_DONE: (State.TO_CHECK, Stage.CHECK),
        Action.CHECK_PASS: (State.TO_CLOSE, Stage.CLOSE),
        Action.CHECK_FAIL: (State.HANDLING, Stage.HANDLE),
        Action.CLOSE: (State.CLOSED, None),
    }.items()
}
HANDLE = Stage.HANDLE.value

_ACTIONS = {a.value: a for a in Action}

# Where a place lies, as the case row needs it: (county, township, community, grid, area class).
Spot = tuple[str, str, str, str, str]


def default_workers() -> int:
    """Helper processes besides the parent: one per further core, at most one (two busy in all)."""
    return max(0, min(2, os.cpu_count() or 1) - 1)


# ------------------------------------------------------------------------------------------------
# rows: attribute bags with the model's defaults, turned into ready-to-write tuples


class Rows:
    """One model's rows: a class whose attributes default to the field defaults, and ``to_row``.

    Millions of model instances cost more than the writes; a bare class with class-level defaults
    costs one ``__dict__`` per row, and ``attrgetter`` reads the columns in C. ``to_row`` gives plain
    values only (str, int, float, bool, None), so rows travel between processes with ``marshal``.
    """

    def __init__(self, model, convert: dict[str, Callable], *, id_last: bool = False):
        from django.db import models as m

        fields = [f for f in model._meta.concrete_fields if not (id_last and f.primary_key)]
        if id_last:
            fields.append(model._meta.pk)
        defaults = {f.attname: f.get_default() for f in model._meta.concrete_fields if not f.primary_key}
        self.new: Callable = type(f"{model.__name__}Row", (), defaults)
        qn = connection.ops.quote_name
        table, cols = qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        # names quoted by the backend, values bound as parameters
        self.insert_sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608
        self.copy_sql = f"COPY {table} ({cols}) FROM STDIN"
        attnames = [f.attname for f in fields if not (id_last and f.primary_key)]
        self._get = attrgetter(*attnames)
        kinds = (
            (m.DateTimeField, "datetime"),
            (m.JSONField, "json"),
            (m.DecimalField, "decimal"),
        )
        self._convs = [
            (i, next(convert[kind] for cls, kind in kinds if isinstance(f, cls)))
            for i, f in enumerate(fields[: len(attnames)])
            if any(isinstance(f, cls) for cls, _kind in kinds)
        ]

    def make(self, **values):
        row = self.new()
        row.__dict__ = values
        return row

    def to_row(self, obj) -> list:
        v = list(self._get(obj))
        for i, conv in self._convs:
            x = v[i]
            if x is not None:
                v[i] = conv(x)
        return v


# Choices are str subclasses; rows carry their plain values (``marshal`` takes nothing else).
_PLAIN = {m: m.value for e in (Action, Kind, Source, Stage, State, Urgency) for m in e}
_JSON: dict = {}


def _json_text(v) -> str:
    """``json.dumps`` (what the backends store for a JSONField without encoder), flat dicts remembered."""
    if type(v) is dict:
        try:
            key = tuple(v.items())
            found = _JSON.get(key)
        except TypeError:
            return json.dumps(v)
        if found is None:
            found = _JSON[key] = json.dumps(v)
        return found
    return json.dumps(v)


def _converters(vendor: str, texts: dict) -> dict[str, Callable]:
    """Column converters to plain values; datetimes are remembered in ``texts`` (cleared per case)."""

    def sqlite_dt(v: datetime) -> str:  # what the SQLite backend stores: naive UTC in ``str`` format
        t = texts.get(v)
        if t is None:
            t = texts[v] = (v if v.tzinfo is UTC else v.astimezone(UTC)).isoformat(" ")[:-6]
        return t

    def iso_dt(v: datetime) -> str:  # an aware ISO 8601 text: PostgreSQL reads the same instant
        t = texts.get(v)
        if t is None:
            t = texts[v] = v.isoformat()
        return t

    return {
        "datetime": sqlite_dt if vendor == "sqlite" else iso_dt,
        "json": _json_text,
        "decimal": str,
    }


# ------------------------------------------------------------------------------------------------
# settling what needs the database, before any process is forked


def _spot(index, lat: float, lon: float) -> Spot | None:
    from cityops.core.errors import DomainError

    try:
        w = index.locate(lat, lon)
    except DomainError:
        return None
    return (
        w.county.code if w.county else w.city.code,
        w.township.code if w.township else "",
        w.community.code if w.community else "",
        w.grid,
        w.area_class or "",
    )


class Builder:
    """Plans to row tuples, with no database access: everything it reads was settled up front."""

    def __init__(self, *, ref: Reference, now: datetime, plans: list[Plan], spots: list[Spot], vendor: str):
        from cityops.cases import workflow
        from cityops.cases.models import Case, CaseEvent
        from cityops.catalog import selectors as catalog
        from cityops.demo.workclock import WorkClock
        from cityops.evaluation.models import CaseFact

        self.now = now
        self._texts: dict = {}
        convert = _converters(vendor, self._texts)
        self.cases = Rows(Case, convert)
        self.events = Rows(CaseEvent, convert, id_last=True)
        self.facts = Rows(CaseFact, convert)
        self.limits = {str(s.value): catalog.step_limit(s.value) for s in Stage if s is not Stage.HANDLE}
        self.allowed = {(a, s) for a, t in workflow.TABLE.items() for s in t.sources}
        users = ref.users
        self.people = {name: (u.pk, u.display_name or "") for name, u in users.items()}
        self.patrols: dict[tuple[str, str], tuple] = {}  # (county, grid cell): its inspector
        first = min((p.reported_at for p in plans), default=now)
        last = max((p.reported_at for p in plans), default=now)
        ref.staff_patrols([spot[0] for spot in spots], first, last)
        self.types = {}
        self.depts: dict[tuple, tuple | None] = {}
        self.filings: dict[tuple, tuple] = {}
        self.handlers: dict[int, tuple] = {}
        # Handlers are made (when missing) in a fixed order: a sample first, as before, then as met.
        sample = range(0, len(plans), max(1, len(plans) // 500))
        for k in itertools.chain(sample, range(len(plans))):
            plan, spot = plans[k], spots[k]
            info = ref.type_info(plan.type_code)
            self.types[plan.type_code] = (info.code, info.name)
            key = (plan.type_code, spot[0], spot[1])
            if key not in self.depts:
                dept = ref.department(*key)
                if dept is not None and dept.pk not in self.handlers:
                    h = ref.handler(dept)  # may create a demo handler: here, in the parent, in order
                    self.handlers[dept.pk] = (h.pk, h.display_name or "")
                self.depts[key] = (dept.pk, dept.code) if dept is not None else None
            cell = (spot[0], spot[3])
            if cell not in self.patrols:
                inspector = ref.patrol(*cell)  # made when missing, as the handlers
                self.patrols[cell] = (inspector.pk, inspector.display_name or "")
            fkey = (plan.type_code, plan.urgency, spot[4])
            if fkey not in self.filings:
                self.filings[fkey] = ref.filing(*fkey)
        self.clock = WorkClock(
            ref.calendar,
            ref.calendar.local_date(first) - timedelta(days=1),
            ref.calendar.local_date(now) + timedelta(days=120),
        )
        self._dues: dict = {}
        self.timing = (ref.calendar, self.step_due, self.clock.work_seconds)

    def step_due(self, stage, start: datetime):
        """A step's due time, remembered for the case at hand (its facts ask for the same ones)."""
        key = (stage, start)
        found = self._dues.get(key, self)
        if found is self:
            limit = self.limits.get(str(stage))
            found = None if limit is None else self.clock.due(start, limit.limit, limit.unit)
            self._dues[key] = found
        return found

    def build(self, plan: Plan, spot: Spot, number: str, case_id: int) -> tuple[list, list[list], list]:
        """The case row, its event rows (id last, left for the writer) and its fact row."""
        from cityops.cases import deadlines
        from cityops.evaluation.formulas import EventSnap
        from cityops.evaluation.services import fact_values_with

        self._dues.clear()
        self._texts.clear()
        cal = self.clock.calendar
        type_code, type_name = self.types[plan.type_code]
        public = plan.source not in VERIFIED
        patrol = self.patrols[spot[0], spot[3]]
        inspector_id, inspector_name = (None, "") if public else patrol
        state = _PLAIN[State.TO_VERIFY] if public else _PLAIN[State.TO_FILE]
        stage = _PLAIN[Stage.VERIFY] if public else _PLAIN[Stage.FILE]
        at0 = plan.reported_at
        case = self.cases.make(
            id=case_id,
            number=number,
            source=_PLAIN[plan.source],
            kind=_PLAIN[Kind.MATTER],
            type_code=type_code,
            type_name=type_name,
            urgency=_PLAIN[plan.urgency],
            description=plan.description,
            lat=plan.lat,
            lon=plan.lon,
            address=plan.address,
            county_code=spot[0],
            township_code=spot[1],
            community_code=spot[2],
            grid_code=spot[3],
            area_class=spot[4],
            state=state,
            reporter_phone=plan.reporter_phone,
            reported_by_id=inspector_id,
            inspector_id=inspector_id,
            merged_into_id=None,
            department_id=None,
            is_public=True,
            tracking_token=hashlib.sha256(f"{plan.rng_seed}:{number}".encode()).hexdigest()[:24],
            reported_at=at0,
            updated_at=at0,
            stage=stage,
            stage_started_at=at0,
            due_at=self.step_due(stage, at0),
        )
        new_event = self.events.make
        events = [
            new_event(
                case_id=case_id,
                action=_PLAIN[Action.REPORT],
                actor_id=inspector_id,
                actor_name=inspector_name,
                from_state="",
                to_state=state,
                data={"source": _PLAIN[plan.source]},
                at=at0,
            )
        ]
        dept = self.depts[(plan.type_code, spot[0], spot[1])]
        dept_id, dept_code = dept if dept else (None, "")
        cond_ref, limit, unit, milestones = self.filings[(plan.type_code, plan.urgency, spot[4])]
        steps = plan_steps(
            plan, department_code=dept_code, handle_hours=_handle_hours(limit, unit), now=self.now
        )
        for step in steps:
            action = _ACTIONS[step.action]
            if action is Action.DISPATCH and dept is None:
                break
            assert (action, case.state) in self.allowed, (number, case.state, action)
            from_state = case.state
            target, stage = TARGET[action]
            case.state = target
            if stage is not None and stage != HANDLE:
                case.stage, case.stage_started_at, case.due_at = stage, step.at, self.step_due(stage, step.at)
            extra: dict = {}
            if action is Action.FILE:
                case.condition_ref, case.handle_limit, case.handle_unit = cond_ref, limit, unit
                case.milestones = [dict(m) for m in milestones]
                case.filed_at = step.at
                extra = {"condition": cond_ref, "limit": str(limit), "unit": unit}
            elif action is Action.DISPATCH:
                case.department_id = dept_id
                case.dispatched_at = step.at
                case.stage, case.stage_started_at = HANDLE, step.at
                case.handle_due_at = self.clock.due(step.at, case.handle_limit, case.handle_unit)
                if case.milestones:
                    case.milestones = deadlines.milestone_dues(step.at, case.milestones, cal)
                    case.handle_due_at = max(datetime.fromisoformat(m["due"]) for m in case.milestones)
                case.due_at = case.handle_due_at
                case.paused_at = None
                extra = {"department": dept_code, "proposed": dept_code, "override": False}
            elif action is Action.PARK:
                case.paused_at = step.at
            elif action is Action.REPORT_DONE:
                case.handled_at = step.at
            elif action is Action.CHECK_FAIL:
                case.rework_count += 1
                paused_from = case.handled_at
                if case.milestones and paused_from:
                    case.milestones = deadlines.milestones_resumed(case.milestones, paused_from, step.at, cal)
                if case.handle_due_at and paused_from:
                    case.handle_due_at = deadlines.resumed_due(
                        case.handle_due_at, paused_from, step.at, case.handle_unit, cal
                    )
                case.paused_at = None
                case.stage, case.stage_started_at, case.due_at = HANDLE, step.at, case.handle_due_at
            elif action in TERMINAL_NO_CLOCK:
                case.stage, case.stage_started_at, case.due_at = "", None, None
                if action is Action.CLOSE:
                    case.closed_at = step.at
            if step.who == "handler":
                actor_id, actor_name = self.handlers[dept_id]
            else:
                actor_id, actor_name = patrol if step.who == PATROL else self.people[step.who]
            case.updated_at = step.at
            events.append(
                new_event(
                    case_id=case_id,
                    action=_PLAIN[action],
                    actor_id=actor_id,
                    actor_name=actor_name,
                    from_state=from_state,
                    to_state=case.state,
                    department_id=case.department_id,
                    note=step.reason,
                    data=extra,
                    is_public=action not in PRIVATE_ACTIONS,
                    at=step.at,
                )
            )
        if case.state == State.CLOSED and dept is not None:
            rating = rating_for(plan, dept_code)
            if rating:
                at = case.closed_at + timedelta(hours=3)
                case.rating, case.rated_at, case.updated_at = rating, at, at
                events.append(
                    new_event(
                        case_id=case_id,
                        action=_PLAIN[Action.RATE],
                        actor_id=None,
                        actor_name="",
                        from_state=case.state,
                        to_state=case.state,
                        department_id=case.department_id,
                        data={"rating": rating},
                        is_public=False,
                        at=at,
                    )
                )
        snaps = [
            EventSnap(e.action, e.at, e.from_state, e.to_state, e.actor_id, e.department_id) for e in events
        ]
        fact = self.facts.make(case_id=case_id, **fact_values_with(case, snaps, self.timing))
        return self.cases.to_row(case), [self.events.to_row(e) for e in events], self.facts.to_row(fact)


# ------------------------------------------------------------------------------------------------
# processes: the parent and its helpers compute chunks, the parent consumes them in order


class _Failed:
    def __init__(self, text: str):
        self.text = text


def _helper(task, encode, count: int, claim, slots, out) -> None:
    """A forked helper: claim the next chunk while the window has room, compute it, send it."""
    from django.db import connections

    def refuse(*args, **kwargs):
        raise RuntimeError("demo bulk helpers must not use the database (settle it in the parent)")

    for conn in connections.all(initialized_only=True):
        conn.execute_wrappers.append(refuse)
    while True:
        slots.acquire()
        with claim.get_lock():
            i = claim.value
            claim.value = min(count, i + 1)
        if i >= count:
            slots.release()
            return
        try:
            out.put((i, encode(task(i))))
        except Exception:  # handed to the parent, which raises it
            out.put((i, _Failed(traceback.format_exc())))
            return


def ordered_map(
    task: Callable[[int], object],
    count: int,
    consume,
    *,
    workers: int,
    window: int = 0,
    encode: Callable = marshal.dumps,
    decode: Callable = marshal.loads,
) -> None:
    """``consume(i, task(i))`` for i in ``range(count)`` in order; ``task`` runs in the parent and in
    ``workers`` forked helpers (whoever is free takes the next chunk), at most ``window`` chunks ahead.

    Results of helpers travel as ``encode``/``decode`` bytes (``marshal`` by default: plain values
    only, and several times faster than pickle).
    """
    if workers <= 0 or count <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for i in range(count):
            consume(i, task(i))
        return
    ctx = multiprocessing.get_context("fork")
    window = window or 2 * (workers + 1)
    claim, slots, out = ctx.Value("q", 0), ctx.Semaphore(window), ctx.Queue()
    helpers = [
        ctx.Process(target=_helper, args=(task, encode, count, claim, slots, out), daemon=True)
        for _ in range(workers)
    ]
    for p in helpers:
        p.start()
    ready: dict[int, object] = {}
    try:
        done = 0
        while done < count:
            if done in ready:
                result = ready.pop(done)
                if isinstance(result, _Failed):
                    raise RuntimeError(f"a demo bulk helper failed:\n{result.text}")
                consume(done, result)
                slots.release()
                done += 1
                continue
            try:
                i, result = out.get_nowait()
                ready[i] = result if isinstance(result, _Failed) else decode(result)
                continue
            except queue.Empty:
                pass
            if slots.acquire(block=False):
                with claim.get_lock():
                    i = claim.value
                    claim.value = min(count, i + 1)
                if i < count:
                    ready[i] = task(i)
                    continue
                slots.release()
            try:
                i, result = out.get(timeout=5)
                ready[i] = result if isinstance(result, _Failed) else decode(result)
            except queue.Empty:
                if not any(p.is_alive() for p in helpers) and done not in ready:
                    raise RuntimeError("the demo bulk helpers stopped before their work was done") from None
    finally:
        for p in helpers:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join()
        out.close()


# ------------------------------------------------------------------------------------------------
# writing


class Writer:
    """The single writer: each chunk's cases, events and facts in one transaction."""

    def __init__(self, builder: Builder):
        from cityops.cases.models import Case, CaseEvent

        self.builder = builder
        self.vendor = connection.vendor
        self.event_id = _next_id(CaseEvent)
        self.first_case_id = _next_id(Case)

    def write(self, cases: list, events: list, facts: list) -> None:
        b = self.builder
        eid = self.event_id
        for row in events:
            row.append(eid)
            eid += 1
        with connection.cursor() as cur:
            for rows, spec in ((cases, b.cases), (events, b.events), (facts, b.facts)):
                if self.vendor == "postgresql":
                    with cur.cursor.copy(spec.copy_sql) as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    cur.executemany(spec.insert_sql, rows)
        self.event_id = eid


def _next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def _reset_sequences(models) -> None:
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cur.execute(sql)


# ------------------------------------------------------------------------------------------------
# the whole run


def run_bulk(
    *,
    plans: list[Plan],
    now: datetime,
    batch: int = 2000,
    ref: Reference | None = None,
    progress=None,
    workers: int | None = None,
) -> int:
    """Write every plan as rows built in memory, in chunks of ``batch`` cases, one transaction each.

    Rows are what the services would have written (less photos, follows and notifications): the
    transition table replayed in memory, deadlines as ``deadlines.due`` computes them, facts by the
    evaluation app's pure derivation. ``workers`` helper processes build rows besides the parent
    (default: one per further core, at most one); the result does not depend on it.
    """
    from cityops.cases.models import Case, CaseCounter, CaseEvent
    from cityops.geography.selectors import area_index

    ref = ref or Reference(now)
    workers = default_workers() if workers is None else workers
    batch = max(1, batch)

    # 1. where each distinct place lies (the slowest look-up; the helpers share it)
    keys = list(dict.fromkeys((round(p.lat, 4), round(p.lon, 4)) for p in plans))
    index = area_index(at=now)
    found: dict = {}
    step = 2000

    def locate(i: int) -> list:
        return [_spot(index, lat, lon) for lat, lon in keys[i * step : (i + 1) * step]]

    def located(i: int, spots: list) -> None:
        found.update(zip(keys[i * step : (i + 1) * step], spots, strict=True))

    ordered_map(locate, -(-len(keys) // step), located, workers=workers)

    # 2. the plans that can be written, their numbers and the reference data they need
    kept, spots = [], []
    for p in plans:
        spot = found[(round(p.lat, 4), round(p.lon, 4))]
        if spot is not None and ref.type_info(p.type_code):
            kept.append(p)
            spots.append(spot)
    tz = timezone.get_current_timezone()
    months = [f"{d.year:04d}-{d.month:02d}" for d in (p.reported_at.astimezone(tz) for p in kept)]
    last = dict(CaseCounter.objects.filter(month__in=set(months)).values_list("month", "last"))
    numbers = []
    for month in months:
        last[month] = last.get(month, 0) + 1
        numbers.append(f"{month}-{last[month]:06d}")
    builder = Builder(ref=ref, now=now, plans=kept, spots=spots, vendor=connection.vendor)
    writer = Writer(builder)
    first_id = writer.first_case_id

    # 3. rows by chunk, written in order
    def build(i: int) -> tuple[list, list, list]:
        cases, events, facts = [], [], []
        for k in range(i * batch, min(len(kept), (i + 1) * batch)):
            c, evs, f = builder.build(kept[k], spots[k], numbers[k], first_id + k)
            cases.append(c)
            events.extend(evs)
            facts.append(f)
        return cases, events, facts

    made = 0

    def write(i: int, rows: tuple[list, list, list]) -> None:
        nonlocal made
        chunk = range(i * batch, min(len(kept), (i + 1) * batch))
        with transaction.atomic():
            writer.write(*rows)
            upto: dict[str, str] = {}
            for k in chunk:
                upto[months[k]] = numbers[k]
            for month, number in upto.items():
                CaseCounter.objects.update_or_create(month=month, defaults={"last": int(number[8:])})
        made += len(chunk)
        if progress:
            progress(made, len(kept))

    with _bulk_session():
        ordered_map(build, -(-len(kept) // batch), write, workers=workers)
    _reset_sequences([Case, CaseEvent])
    from cityops.evaluation.models import CaseFact
    from cityops.evaluation.services import snapshot_days_touch

    _analyze([Case, CaseEvent, CaseFact])
    # The rows bypass the fact signal: mark every day they may count on, so daily snapshots taken
    # before (demo_setup's) are recomputed rather than read.
    if kept:
        first, last = timezone.localdate(min(p.reported_at for p in kept)), timezone.localdate(now)
        snapshot_days_touch({first + timedelta(days=i) for i in range((last - first).days + 1)})
    return made


def _analyze(models) -> None:
    """PostgreSQL plans from table statistics; after a bulk load they describe empty tables until
    autovacuum gets round to them (seen: never analysed, case page 3x slower at 1M). SQLite keeps
    none unless asked and its plans are tuned without them (``cityops.core.db.Rare``)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        for model in models:
            cur.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


class _bulk_session:
    """Session settings for the duration of the load only: no waiting for the disk at each commit,
    more cache, no per-row foreign-key checks (the rows are consistent by construction)."""

    def __enter__(self):
        self.saved = None
        # PRAGMAs can only change outside a transaction (a caller's atomic block keeps its settings).
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            with connection.cursor() as cur:
                cur.execute("PRAGMA synchronous")
                sync = cur.fetchone()[0]
                cur.execute("PRAGMA cache_size")
                cache = cur.fetchone()[0]
                self.saved = (sync, cache)
                cur.execute("PRAGMA foreign_keys")
                self.saved += (cur.fetchone()[0],)
                cur.execute("PRAGMA synchronous=OFF")
                cur.execute("PRAGMA cache_size=-524288")
                # The rows reference users and departments settled up front and cases written in the
                # same chunk; checking every key costs a fifth of the writing.
                cur.execute("PRAGMA foreign_keys=OFF")
        elif connection.vendor == "postgresql" and not connection.in_atomic_block:
            with connection.cursor() as cur:
                # Commits need not wait for the WAL flush (a crash loses the last chunks, nothing else).
                cur.execute("SET synchronous_commit = off")
                self.saved = ("synchronous_commit",)
                # The foreign-key triggers run one query per key per row and are most of the server's
                # work; as "replica" the session skips them (superusers only: otherwise they stay).
                try:
                    cur.execute("SET session_replication_role = replica")
                    self.saved += ("session_replication_role",)
                except DatabaseError:
                    pass
        return self

    def __exit__(self, *exc):
        if connection.vendor == "postgresql" and self.saved is not None:
            with connection.cursor() as cur:
                for name in self.saved:
                    cur.execute(f"RESET {name}")
        elif self.saved is not None:
            with connection.cursor() as cur:
                cur.execute(f"PRAGMA synchronous={int(self.saved[0])}")
                cur.execute(f"PRAGMA cache_size={int(self.saved[1])}")
                cur.execute(f"PRAGMA foreign_keys={int(self.saved[2])}")
        return False
