"""The metric registry: every counter as one filter over ``CaseFact``.

A counter is "the cases that count" for a period ``[start, end)`` evaluated at ``as_of``. The same
filter gives the number (``Count(filter=...)`` in one GROUP BY) and the list behind it (the drill-down),
so the two cannot disagree. Indicators (``formulas.INDICATORS``) are built from these counters.

Step counters follow one rule (docs/evaluation.md, "Steps"): a step belongs to the period in which it
started; it is *due* when it was completed by ``as_of`` or it is still open with its due time passed
(clock not paused); it is *on time* when it was completed no later than its due time. A step that is
overdue and still open is therefore counted as late in every on-time rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q

from cityops.cases.choices import CLOCK_STATES, OPEN_STATES, State
from cityops.core.db import Unindexed
from cityops.evaluation.formulas import INDICATOR_BY_KEY, SATISFIED


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive
    as_of: datetime  # min(end, now): what is known when the figures are taken


def _in(field: str, p: Period) -> Q:
    return Q(**{f"{field}__gte": p.start, f"{field}__lt": p.end, f"{field}__lte": p.as_of})


def _done_by(step: str, t: datetime) -> Q:
    return Q(**{f"{step}_done": True, f"{step}_end__lte": t})


def _open_at(step: str, t: datetime) -> Q:
    return Q(**{f"{step}_end__isnull": True}) | Q(**{f"{step}_end__gt": t})


def _overdue_open(step: str, t: datetime, pausable: bool) -> Q:
    q = _open_at(step, t) & Q(**{f"{step}_due__lt": t})
    if pausable:
        q &= Q(handle_paused=False)
    return q


def _on_time(step: str) -> Q:
    return Q(**{f"{step}_due__isnull": True}) | Q(**{f"{step}_end__lte": F(f"{step}_due")})


def _step(step: str, pausable: bool = False) -> dict[str, Callable[[Period], Q]]:
    def cohort(p: Period) -> Q:
        return _in(f"{step}_start", p)

    return {
        f"{step}_total": lambda p: (
            cohort(p) & (_done_by(step, p.as_of) | _overdue_open(step, p.as_of, pausable))
        ),
        f"{step}_ontime": lambda p: cohort(p) & _done_by(step, p.as_of) & _on_time(step),
        f"{step}_done": lambda p: cohort(p) & _done_by(step, p.as_of),
        f"{step}_overdue_open": lambda p: cohort(p) & _overdue_open(step, p.as_of, pausable),
    }


def _filed(p: Period) -> Q:
    return Q(file_done=True) & _in("file_end", p)


def _closed_by(t: datetime) -> Q:
    return Q(close_done=True, close_end__lte=t)


def _to_close(p: Period) -> Q:
    t = p.as_of
    should = (
        _closed_by(t)
        | Q(handle_due__lt=t)
        | Q(handle_start__isnull=True, dispatch_due__lt=t)
        | Q(handle_start__isnull=True, dispatch_due__isnull=True, file_end__lt=t)
    )
    return _filed(p) & ~Q(parked=True) & should


def _closed(p: Period) -> Q:
    return _filed(p) & ~Q(parked=True) & _closed_by(p.as_of)


COUNTERS: dict[str, Callable[[Period], Q]] = {
    "reports": lambda p: _in("reported_at", p),
    "reports_decided": lambda p: _in("reported_at", p) & Q(valid__isnull=False),
    "reports_valid": lambda p: _in("reported_at", p) & Q(valid=True),
    **_step("verify"),
    **_step("file"),
    **_step("dispatch"),
    **_step("handle", pausable=True),
    **_step("check"),
    "filed": _filed,
    "dispatched": lambda p: Q(dispatch_done=True) & _in("dispatch_end", p),
    "dispatched_accurate": lambda p: Q(dispatch_done=True, returned=False) & _in("dispatch_end", p),
    "rework": lambda p: _in("handle_start", p) & _done_by("handle", p.as_of) & Q(rework_count__gt=0),
    "to_close": _to_close,
    "closed": _closed,
    "closed_ontime": lambda p: _closed(p) & _on_time("handle") & _on_time("close"),
    "rated": lambda p: Q(close_done=True) & _in("close_end", p) & ~Q(rating=""),
    "satisfied": lambda p: Q(close_done=True) & _in("close_end", p) & Q(rating__in=SATISFIED),
    # flows of the day, for the dashboard and the daily snapshots
    "handled_flow": lambda p: Q(handle_done=True) & _in("handle_end", p),
    "closed_flow": lambda p: Q(close_done=True) & _in("close_end", p),
    # a stock: open cases past the due time of their current step, clock running (the staff
    # "overdue" queue); the period only supplies the moment
    "overdue_now": lambda p: Q(state__in=CLOCK_STATES, due_at__lt=p.as_of, paused=False),
}
# Steps with on-time counters; handling is the only one whose clock pauses.
STEPS = ("verify", "file", "dispatch", "handle", "check")
PAUSABLE = frozenset({"handle"})
# The columns ``flips`` reads of a fact.
FLIP_FIELDS = (
    "kind",
    "parked",
    "handle_paused",
    "file_done",
    "close_done",
    "close_end",
    *(f"{s}_{x}" for s in STEPS for x in ("start", "due", "end")),
)


def flips(row: dict, p: Period) -> list[tuple[str, datetime]]:
    """The counters ``row`` joins after ``p.as_of`` with no new event, and when: ``(counter, moment)``.

    Time alone changes only comparisons with due times: an open step whose due time passes turns
    overdue (``<step>_total``, ``<step>_overdue_open``), and a filed case whose handling (or dispatch)
    due time passes becomes due for closing (``to_close``). The counter counts the row for every
    ``as_of`` after ``moment``. ``p.as_of`` must not precede any recorded event (a snapshot is taken
    at the time it is computed). Mirrors ``COUNTERS``; a test holds the two together.
    """
    out: list[tuple[str, datetime]] = []

    def cohort(t: datetime | None) -> bool:
        return t is not None and p.start <= t < p.end and t <= p.as_of

    for step in STEPS:
        due = row[f"{step}_due"]
        if not cohort(row[f"{step}_start"]) or due is None or due < p.as_of:
            continue
        if row[f"{step}_end"] is not None or (step in PAUSABLE and row["handle_paused"]):
            continue
        out += [(f"{step}_total", due), (f"{step}_overdue_open", due)]
    if row["file_done"] and cohort(row["file_end"]) and not row["parked"]:
        closed = row["close_done"] and row["close_end"] is not None and row["close_end"] <= p.as_of
        moments = [row["handle_due"]]
        if row["handle_start"] is None:
            moments.append(row["dispatch_due"] if row["dispatch_due"] is not None else row["file_end"])
        moments = [m for m in moments if m is not None]
        if not closed and moments and min(moments) >= p.as_of:
            out.append(("to_close", min(moments)))
    return out


# Sums rather than counts: (field, counter whose cases are summed).
SUMS: dict[str, tuple[str, str]] = {"handle_seconds": ("handle_seconds", "handle_done")}

# Where each counter's cases are attributed when people are evaluated (the person who took the step).
PERSON_FIELD: dict[str, str] = {
    **{k: "reporter" for k in ("reports", "reports_decided", "reports_valid")},
    **{k: "verifier" for k in COUNTERS if k.startswith("verify_")},
    **{k: "filer" for k in COUNTERS if k.startswith("file_")},
    "filed": "filer",
    **{k: "dispatcher" for k in COUNTERS if k.startswith("dispatch_")},
    "dispatched": "dispatcher",
    "dispatched_accurate": "dispatcher",
    **{k: "checker" for k in COUNTERS if k.startswith("check_")},
    "closed_flow": "closer",
}
PERSON_COUNTERS: dict[str, list[str]] = {}
for _counter, _field in PERSON_FIELD.items():
    PERSON_COUNTERS.setdefault(_field, []).append(_counter)

# The anchors any counter filters on: a row outside all of them in the period counts nowhere.
ANCHORS = (
    "reported_at",
    "verify_start",
    "file_start",
    "file_end",
    "dispatch_start",
    "dispatch_end",
    "handle_start",
    "handle_end",
    "check_start",
    "close_end",
)


# Every field a counter compares with ``as_of`` (``_done_by``, ``_open_at``, the due times, ``_to_close``,
# ``_closed_by``, ``overdue_now``); an anchor is compared with it only inside its period. A row whose
# fields here all lie before the end of a period counts in that period the same at every ``as_of``
# from its end on.
AS_OF_FIELDS = (
    *(f"{s}_{x}" for s in STEPS for x in ("end", "due")),
    "close_end",
    "due_at",
)


def _latest(row: dict, fields) -> datetime | None:
    moments = [t for t in (row.get(f) for f in fields) if t is not None]
    return max(moments) if moments else None


def settles_at(row: dict) -> datetime | None:
    """The latest of ``row``'s ``AS_OF_FIELDS`` (``CaseFact.settles_at``): from then on, until the row
    is written again, each counter counts it the same at every ``as_of``."""
    return _latest(row, AS_OF_FIELDS)


def moving_after(t: datetime) -> Q:
    """Rows that may count differently at ``t`` and at a later moment (``settles_at`` not before ``t``)."""
    return Q(settles_at__gte=t)


def last_anchor(row: dict) -> datetime | None:
    """The latest of ``row``'s ``ANCHORS`` (``CaseFact.last_at``): a row counts in no period that
    starts after it."""
    return _latest(row, ANCHORS)


def relevant(p: Period) -> Q:
    """Rows that may count in some period counter (lets the database use the anchor indexes).

    Also those whose latest anchor (``last_at``) is not before the period, a condition each of them
    meets, for PostgreSQL: it took a month's rows by the anchors alone for 7% of all rows (2% in
    fact) and read the whole table, longer every year (3M cases: 0.5 s of a grid ranking, 1 s of a
    handler's report); it reads the recent rows from ``fact_last`` instead. SQLite checks it row by row,
    keeping its plan (the anchor indexes): facts written before the column have none."""
    q = Q()
    for field in ANCHORS:
        q |= Q(**{f"{field}__gte": p.start, f"{field}__lt": p.end})
    return q & Unindexed(Q(last_at__gte=p.start) | Q(last_at__isnull=True))


def counter_q(key: str, p: Period) -> Q:
    """The filter of a counter, or of the counter behind an indicator (its drill-down)."""
    if key in COUNTERS:
        return COUNTERS[key](p)
    if key in SUMS:
        return COUNTERS[SUMS[key][1]](p)
    ind = INDICATOR_BY_KEY.get(key)
    if ind is None:
        raise KeyError(key)
    return counter_q(ind.drill_counter, p)


def numerator_q(key: str, p: Period) -> Q | None:
    """For a rate: the filter of its numerator (marks the rows of the drill-down that count above)."""
    ind = INDICATOR_BY_KEY.get(key)
    if ind is None or not ind.is_rate or ind.numerator in SUMS:
        return None
    return COUNTERS[ind.numerator](p)


DRILL_KEYS = frozenset(COUNTERS) | frozenset(INDICATOR_BY_KEY)
STATE_OPEN = [s.value for s in OPEN_STATES]
PARKED = State.PARKED
