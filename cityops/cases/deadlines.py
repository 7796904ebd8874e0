"""Due times of the case loop: pure functions over ``core.worktime`` with ``now`` passed in.

A step limit (verification, filing, dispatch, check, closing) runs from the moment the case enters
that step. The handling limit comes from the case standard and runs from dispatch; parking and a
pending extension pause it, and on resumption the due time moves by exactly the time that counted
while it was paused (working time for working units, wall-clock time for natural units).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cityops.core import worktime
from cityops.core.worktime import Unit, WorkCalendar


def due(
    start: datetime, amount: Decimal | int | None, unit: Unit | str, calendar: WorkCalendar
) -> datetime | None:
    """When a step that starts at ``start`` with a limit of ``amount`` ``unit`` is due (None: no limit)."""
    if amount is None:
        return None
    return worktime.add(start, amount, unit, calendar)


def resumed_due(
    due_at: datetime, paused_at: datetime, now: datetime, unit: Unit | str, calendar: WorkCalendar
) -> datetime:
    """The due time after a pause from ``paused_at`` to ``now``: moved by the time that would have counted."""
    unit = Unit(unit)
    lost = worktime.elapsed(paused_at, now, unit, calendar)
    if not lost:
        return due_at
    step_unit = Unit.WORK_HOUR if unit in worktime.WORKING_UNITS else Unit.HOUR
    return worktime.add(due_at, lost, step_unit, calendar)


def is_overdue(due_at: datetime | None, now: datetime, paused: bool = False) -> bool:
    return due_at is not None and not paused and now > due_at


def time_left(due_at: datetime, now: datetime, unit: Unit | str, calendar: WorkCalendar):
    """Time left until ``due_at`` in the limit's own terms (negative when overdue)."""
    if now <= due_at:
        return worktime.elapsed(now, due_at, unit, calendar)
    return -worktime.elapsed(due_at, now, unit, calendar)


@dataclass(frozen=True)
class FilingOption:
    """One way to file a case: a single condition, or the milestones of a staged standard together."""

    ref: str
    conditions: tuple  # catalogue Conditions, milestones in order

    @property
    def final(self):
        return self.conditions[-1]

    @property
    def staged(self) -> bool:
        return len(self.conditions) > 1 or bool(self.conditions[0].stage)


def filing_options(conditions) -> list[FilingOption]:
    """Group conditions: staged ones of one standard and urgency become one option with milestones."""
    options: list[FilingOption] = []
    groups: dict[tuple, list] = {}
    for c in conditions:
        if c.stage:
            key = (c.standard_key, c.urgency)
            if key not in groups:
                groups[key] = []
                options.append(FilingOption(ref=c.ref, conditions=()))
            groups[key].append(c)
        else:
            options.append(FilingOption(ref=c.ref, conditions=(c,)))
    return [
        FilingOption(ref=o.ref, conditions=o.conditions or tuple(groups[(_key_of(o.ref, conditions))]))
        for o in options
    ]


def _key_of(ref: str, conditions) -> tuple:
    c = next(c for c in conditions if c.ref == ref)
    return (c.standard_key, c.urgency)


def milestone_dues(start: datetime, milestones: list[dict], calendar: WorkCalendar) -> list[dict]:
    """Each milestone's due time, every one counted from ``start`` (the dispatch)."""
    return [
        {**m, "due": due(start, Decimal(m["limit"]), m["unit"], calendar).isoformat()} for m in milestones
    ]


def milestones_resumed(milestones: list[dict], paused_at: datetime, now: datetime, calendar: WorkCalendar):
    """Milestone due times after a pause, each moved as ``resumed_due`` moves the handling due time."""
    out = []
    for m in milestones:
        if m.get("due"):
            moved = resumed_due(datetime.fromisoformat(m["due"]), paused_at, now, m["unit"], calendar)
            m = {**m, "due": moved.isoformat()}
        out.append(m)
    return out
