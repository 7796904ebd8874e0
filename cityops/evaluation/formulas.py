"""The evaluation's arithmetic, as pure functions: no ORM, no settings, no clock (``now`` is passed).

Three parts:

* ``derive_fact``: a case and its events -> the per-step facts stored in ``CaseFact`` (start, due
  time, end, whether the step was completed, who completed it);
* ``indicators``: counters (numbers of cases, summed per object) -> the indicators with their units;
  a rate whose denominator is zero has no value (``None``), never zero;
* ``composite_score`` and ``grade``: weighted indicators -> a score out of 100 -> a grade.

``FORMULA_VERSION`` is bumped whenever a definition changes; stored facts and snapshots carry the
version they were computed with, and the commands recompute whatever is older.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from cityops.cases.choices import DEPARTMENT_STATES, Action, Rating, State

FORMULA_VERSION = 1


# ------------------------------------------------------------------------------------------------
# inputs: what the derivation reads of a case and of its events


@dataclass(frozen=True)
class CaseSnap:
    id: int
    number: str
    kind: str
    type_code: str
    source: str
    county_code: str
    township_code: str
    grid_code: str
    state: str
    reported_at: datetime
    department_id: int | None = None
    inspector_id: int | None = None
    reported_by_id: int | None = None
    closed_at: datetime | None = None
    handle_due_at: datetime | None = None
    due_at: datetime | None = None
    paused_at: datetime | None = None
    rework_count: int = 0
    return_count: int = 0
    rating: str = ""
    type_name: str = ""
    lat: float | None = None
    lon: float | None = None

    @classmethod
    def of(cls, case) -> CaseSnap:
        """From anything with the case's attributes (a model instance or a stand-in)."""
        return cls(**{f: getattr(case, f) for f in cls.__dataclass_fields__})


@dataclass(frozen=True)
class EventSnap:
    action: str
    at: datetime
    from_state: str = ""
    to_state: str = ""
    actor_id: int | None = None
    department_id: int | None = None


StepDue = Callable[[str, datetime], "datetime | None"]  # (stage, start) -> due time (None: no limit)
HandleDue = Callable[[datetime], "datetime | None"]  # dispatch time -> handling due (when not stored)
WorkSeconds = Callable[[datetime, datetime, list], float]  # (start, end, pauses) -> working seconds


def _leaving(events: Sequence[EventSnap], state: str, start: int = 0) -> tuple[int, EventSnap] | None:
    for i in range(start, len(events)):
        e = events[i]
        if e.from_state == state and e.to_state != state:
            return i, e
    return None


def _entering(events: Sequence[EventSnap], state: str) -> tuple[int, EventSnap] | None:
    for i, e in enumerate(events):
        if e.to_state == state and e.from_state != state:
            return i, e
    return None


def derive_fact(
    case: CaseSnap,
    events: Iterable[EventSnap],
    *,
    step_due: StepDue,
    handle_due: HandleDue,
    work_seconds: WorkSeconds,
) -> dict:
    """The ``CaseFact`` fields of ``case`` from its events (in time order). See docs/evaluation.md."""
    evs = list(events)
    f: dict = {
        "number": case.number,
        "kind": case.kind,
        "type_code": case.type_code,
        "source": case.source,
        "county_code": case.county_code,
        "township_code": case.township_code,
        "grid_code": case.grid_code,
        "type_name": case.type_name,
        "lat": case.lat,
        "lon": case.lon,
        "state": case.state,
        "due_at": case.due_at,
        "paused": case.paused_at is not None,
        "reported_at": case.reported_at,
        "reporter_id": case.reported_by_id,
        "rework_count": case.rework_count,
        "returned": case.return_count > 0,
        "rating": case.rating or "",
        "version": FORMULA_VERSION,
    }
    for step in ("verify", "file", "dispatch", "handle", "check", "close"):
        f.update({f"{step}_start": None, f"{step}_due": None, f"{step}_end": None, f"{step}_done": False})
    f.update(
        verifier_id=None, filer_id=None, dispatcher_id=None, checker_id=None, closer_id=None,
        handle_paused=False, parked=False, handle_seconds=None,
    )  # fmt: skip

    # validity of the report: filed at least once, or ended without filing
    if any(e.action == Action.FILE for e in evs):
        f["valid"] = True
    elif case.state in (State.REJECTED, State.INVALID, State.MERGED):
        f["valid"] = False
    else:
        f["valid"] = None

    # verification: public, hotline and video reports start in to_verify
    if evs and evs[0].to_state == State.TO_VERIFY:
        f["verify_start"] = case.reported_at
        f["verify_due"] = step_due("verify", case.reported_at)
        left = _leaving(evs, State.TO_VERIFY)
        if left:
            _i, e = left
            f["verify_end"], f["verify_done"] = e.at, e.action == Action.VERIFY
            f["verifier_id"] = e.actor_id if e.action == Action.VERIFY else None
        else:
            f["verifier_id"] = case.inspector_id  # the assigned inspector answers for an open step

    # filing: the first decision on the report
    entered = _entering(evs, State.TO_FILE)
    if entered:
        i, e = entered
        f["file_start"] = e.at
        f["file_due"] = step_due("file", e.at)
        left = _leaving(evs, State.TO_FILE, i + 1)
        if left:
            _j, x = left
            f["file_end"], f["file_done"] = x.at, x.action == Action.FILE
            f["filer_id"] = x.actor_id if x.action == Action.FILE else None

    # dispatch: from the first filing to the first dispatch
    first_file = next((e for e in evs if e.action == Action.FILE), None)
    if first_file:
        f["dispatch_start"] = first_file.at
        f["dispatch_due"] = step_due("dispatch", first_file.at)
        first_dispatch = next((e for e in evs if e.action == Action.DISPATCH), None)
        if first_dispatch:
            f["dispatch_end"], f["dispatch_done"] = first_dispatch.at, True
            f["dispatcher_id"] = first_dispatch.actor_id

    # handling, check and closing: the last dispatch cycle
    last = max((i for i, e in enumerate(evs) if e.action == Action.DISPATCH), default=None)
    f["department_id"] = case.department_id
    if last is not None:
        d = evs[last]
        f["department_id"] = d.department_id or case.department_id
        f["handle_start"] = d.at
        end = None
        done = current = True
        pauses: list[tuple[datetime, datetime | None]] = []
        pause_from = check_from = None
        report_done = check_pass = None
        for e in evs[last + 1 :]:
            if e.action == Action.REPORT_DONE:
                end, done, check_from, report_done, check_pass = e.at, True, e.at, e, None
            elif e.action == Action.CHECK_FAIL:
                pauses.append((check_from or e.at, e.at))  # waiting for the check does not count
                end, done, check_from = None, False, None
            elif e.action == Action.CHECK_PASS:
                check_pass = e
            elif e.action in (Action.PARK, Action.REQUEST_EXTENSION):
                pause_from = e.at
            elif e.action in (Action.UNPARK, Action.APPROVE_EXTENSION, Action.DENY_EXTENSION):
                if pause_from is not None:
                    pauses.append((pause_from, e.at))
                pause_from = None
            elif e.action == Action.RETURN:
                end, done, current = e.at, False, False
                report_done = check_pass = None
                break
            elif e.action == Action.REOPEN:
                current = False
                check_pass = None  # a reopened case is no longer closed
                break
        f["handle_end"] = end
        f["handle_done"] = bool(end and done)
        due = case.handle_due_at if current and case.handle_due_at else None
        f["handle_due"] = due or handle_due(d.at)
        if current and case.state in DEPARTMENT_STATES:
            f["handle_paused"] = case.paused_at is not None
            f["parked"] = case.state == State.PARKED
        if f["handle_done"]:
            f["handle_seconds"] = round(work_seconds(d.at, end, pauses))
        if report_done is not None:
            f["check_start"] = report_done.at
            f["check_due"] = step_due("check", report_done.at)
            verdict = next(
                (
                    e
                    for e in evs[evs.index(report_done) + 1 :]
                    if e.action in (Action.CHECK_PASS, Action.CHECK_FAIL)
                ),
                None,
            )
            if verdict:
                f["check_end"], f["check_done"], f["checker_id"] = verdict.at, True, verdict.actor_id
            else:
                f["checker_id"] = case.inspector_id
        if check_pass is not None:
            f["close_start"] = check_pass.at
            f["close_due"] = step_due("close", check_pass.at)
            closing = next((e for e in evs[evs.index(check_pass) + 1 :] if e.action == Action.CLOSE), None)
            if closing:
                f["close_end"], f["close_done"], f["closer_id"] = closing.at, True, closing.actor_id
    return f


# ------------------------------------------------------------------------------------------------
# indicators


class Unit:
    COUNT = "cases"
    PERCENT = "%"
    HOURS = "working hours"


UNIT_LABELS = {Unit.COUNT: _("cases"), Unit.PERCENT: "%", Unit.HOURS: _("working hours")}


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str  # translated; the Chinese names are those of GB/T 30428.4 (docs/evaluation.md)
    unit: str
    numerator: str  # counter key
    denominator: str = ""  # counter key (rates and averages)
    higher_is_better: bool = True
    scale: float = 100.0  # rates in percent
    drill: str = ""  # the counter whose cases are listed behind the number (default: the denominator)

    @property
    def is_rate(self) -> bool:
        return bool(self.denominator)

    @property
    def drill_counter(self) -> str:
        return self.drill or self.denominator or self.numerator


N, P = Unit.COUNT, Unit.PERCENT
INDICATORS: tuple[Indicator, ...] = (
    Indicator("reports", _("Reports"), N, "reports"),
    Indicator("valid_report_rate", _("Valid report rate"), P, "reports_valid", "reports_decided"),
    Indicator("verify_ontime_rate", _("On-time verification rate"), P, "verify_ontime", "verify_total"),
    Indicator("check_ontime_rate", _("On-time check rate"), P, "check_ontime", "check_total"),
    Indicator("filed", _("Filed cases"), N, "filed"),
    Indicator("file_ontime_rate", _("On-time filing rate"), P, "file_ontime", "file_total"),
    Indicator("dispatched", _("Dispatched cases"), N, "dispatched"),
    Indicator("dispatch_ontime_rate", _("On-time dispatch rate"), P, "dispatch_ontime", "dispatch_total"),
    Indicator("dispatch_accuracy_rate", _("Accurate dispatch rate"), P, "dispatched_accurate", "dispatched"),
    Indicator("to_handle", _("Cases due for handling"), N, "handle_total"),
    Indicator("handled", _("Handled cases"), N, "handle_done"),
    Indicator("handle_ontime_rate", _("On-time handling rate"), P, "handle_ontime", "handle_total"),
    Indicator("rework", _("Reworked cases"), N, "rework"),
    Indicator("rework_rate", _("Rework rate"), P, "rework", "handle_done", higher_is_better=False),
    Indicator("to_close", _("Cases due for closing"), N, "to_close"),
    Indicator("closed", _("Closed cases"), N, "closed"),
    Indicator("close_rate", _("Closing rate"), P, "closed", "to_close"),
    Indicator("close_ontime_rate", _("On-time closing rate"), P, "closed_ontime", "to_close"),
    Indicator(
        "overdue_open", _("Overdue and not handled"), N, "handle_overdue_open", higher_is_better=False
    ),
    Indicator(
        "avg_handle_hours", _("Average handling time"), Unit.HOURS, "handle_seconds", "handle_done",
        higher_is_better=False, scale=1 / 3600,
    ),
    Indicator("satisfaction_rate", _("Satisfaction rate"), P, "satisfied", "rated"),
)  # fmt: skip
INDICATOR_BY_KEY: Mapping[str, Indicator] = {i.key: i for i in INDICATORS}
KIND_SPLIT = ("component", "matter")


def ratio(numerator: float | None, denominator: float | None, scale: float = 100.0) -> float | None:
    """``numerator / denominator * scale`` rounded to 2 places; no denominator -> no value."""
    if not denominator:
        return None
    return round((numerator or 0) * scale / denominator, 2)


def add_counters(*parts: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in parts:
        for k, v in part.items():
            out[k] = out.get(k, 0) + (v or 0)
    return out


# Each indicator's key, counters and scale, read once: ``indicators`` runs for every row of a ranking,
# thousands of grid cells, and reading them off the dataclass (``is_rate`` a property) was half its time.
_PLAN = tuple((i.key, i.numerator, i.denominator, i.scale) for i in INDICATORS)
# Whether higher is better, of each indicator a score may weigh (the rates in percent)
_SCORED = {i.key: i.higher_is_better for i in INDICATORS if i.is_rate and i.unit == Unit.PERCENT}


def indicators(counters: Mapping[str, float]) -> dict[str, float | int | None]:
    """Every indicator from summed counters; counts are integers, rates percentages, averages hours
    (a rate as ``ratio`` gives it)."""
    get = counters.get
    out: dict[str, float | int | None] = {}
    for key, numerator, denominator, scale in _PLAN:
        if denominator:
            d = get(denominator)
            out[key] = round((get(numerator) or 0) * scale / d, 2) if d else None
        else:
            out[key] = int(get(numerator) or 0)
    return out


# ------------------------------------------------------------------------------------------------
# composite scores and grades

DEFAULT_GRADES: tuple[tuple[str, float], ...] = (("A", 90), ("B", 75), ("C", 60), ("D", 40), ("E", 0))


def indicator_points(key: str, value: float | None) -> float | None:
    """An indicator on a 0-100 scale where higher is better (rates below 0 or above 100 are clamped)."""
    if value is None:
        return None
    better = _SCORED.get(key)
    if better is None:
        INDICATOR_BY_KEY[key]  # an unknown key is a KeyError, as it always was
        raise ValueError(f"{key} is not a rate and cannot be scored")
    v = min(max(float(value), 0.0), 100.0)
    return v if better else 100.0 - v


def composite_score(
    values: Mapping[str, float | None], weights: Mapping[str, float | Decimal]
) -> float | None:
    """The weighted mean of the scored indicators that have a value; none has a value -> no score.

    An indicator without a value (no cases behind it) drops out and the other weights are
    renormalised, so an object is never scored zero for work it was never given.
    """
    total = weight_sum = 0.0
    for key, weight in weights.items():
        w = float(weight)
        points = indicator_points(key, values.get(key))
        if points is None or w <= 0:
            continue
        total += w * points
        weight_sum += w
    if not weight_sum:
        return None
    return round(total / weight_sum, 2)


def grade(score: float | None, thresholds: Sequence[tuple[str, float]] = DEFAULT_GRADES) -> str:
    """The first grade (highest threshold first) whose lowest score ``score`` reaches; no score -> ""."""
    if score is None:
        return ""
    for name, minimum in sorted(thresholds, key=lambda t: -float(t[1])):
        if score >= float(minimum):
            return name
    return ""


def rank(rows: Sequence[dict], key: str = "score") -> None:
    """Set ``rank`` on rows by descending ``key`` (ties share a rank; rows without a value get none)."""
    scored = sorted((r for r in rows if r.get(key) is not None), key=lambda r: -r[key])
    previous, position = None, 0
    for i, r in enumerate(scored, 1):
        if r[key] != previous:
            position, previous = i, r[key]
        r["rank"] = position
    for r in rows:
        r.setdefault("rank", None)


@dataclass
class Change:
    """Today against the same weekday last week."""

    today: int
    last_week: int | None
    delta: int | None = field(init=False)
    percent: float | None = field(init=False)

    def __post_init__(self) -> None:
        self.delta = None if self.last_week is None else self.today - self.last_week
        self.percent = ratio(self.delta, self.last_week) if self.last_week else None


SATISFIED = (Rating.SATISFIED.value, Rating.BASIC.value)
