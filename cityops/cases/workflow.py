"""The one transition table of the case loop, and the pure checks around it.

No ORM here: the service passes in what the rules need (the case's state and flags, the actor's roles
and whether the actor belongs to the case's department) and gets back the transition to apply or a
refusal with a translated reason.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.utils.translation import gettext as _

from cityops.cases.choices import DEPARTMENT_STATES, OPEN_STATES, Action, Stage, State
from cityops.core.errors import Conflict, DomainError, NotAllowed
from cityops.organization.choices import Role


class Clock(enum.Enum):
    """What an action does to the handling clock."""

    NONE = "none"
    START = "start"  # dispatch: the handling limit starts counting
    PAUSE = "pause"  # parking, pending extension
    RESUME = "resume"  # the paused working time is added to the due time
    EXTEND = "extend"  # approved extension: the due time becomes the approved one
    STOP = "stop"  # handled, returned or ended


class Scope(enum.Enum):
    CITY = "city"  # a command-centre role acting anywhere
    DEPARTMENT = "department"  # a handler of the case's responsible department (or above it)
    FIELD = "field"  # an inspector (any inspector; the assigned one is preferred)


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[State]
    target: State | None  # None: the state does not change
    roles: frozenset[Role]
    scope: Scope
    stage: Stage | None = None  # the clocked step the case enters (None: unchanged)
    clock: Clock = Clock.NONE
    note_required: bool = False
    requires: tuple[
        str, ...
    ] = ()  # parameters that must be given: reason, department, original, until, photos
    guard: str = ""  # a named extra condition, see GUARDS


_S = State
_R = Role
CENTRE = frozenset({_R.OPERATOR, _R.DUTY_CHIEF})

TABLE: dict[Action, Transition] = {
    t.action: t
    for t in [
        Transition(Action.VERIFY, frozenset({_S.TO_VERIFY}), _S.TO_FILE, frozenset({_R.INSPECTOR, _R.OPERATOR}),
                   Scope.FIELD, stage=Stage.FILE),
        Transition(Action.FILE, frozenset({_S.TO_FILE}), _S.TO_DISPATCH, frozenset({_R.DUTY_CHIEF}),
                   Scope.CITY, stage=Stage.DISPATCH),
        Transition(Action.REJECT, frozenset({_S.TO_VERIFY, _S.TO_FILE}), _S.REJECTED, frozenset({_R.DUTY_CHIEF}),
                   Scope.CITY, clock=Clock.STOP, requires=("reason",)),
        Transition(Action.INVALIDATE, frozenset({_S.TO_VERIFY, _S.TO_FILE}), _S.INVALID, CENTRE,
                   Scope.CITY, clock=Clock.STOP, requires=("reason",)),
        Transition(Action.MERGE, frozenset({_S.TO_VERIFY, _S.TO_FILE}), _S.MERGED, CENTRE,
                   Scope.CITY, clock=Clock.STOP, requires=("original",)),
        Transition(Action.DISPATCH, frozenset({_S.TO_DISPATCH}), _S.DISPATCHED, frozenset({_R.DISPATCHER}),
                   Scope.CITY, stage=Stage.HANDLE, clock=Clock.START),
        Transition(Action.RETURN, frozenset({_S.DISPATCHED, _S.HANDLING}), _S.TO_DISPATCH,
                   frozenset({_R.HANDLER}), Scope.DEPARTMENT, stage=Stage.DISPATCH, clock=Clock.STOP,
                   requires=("reason",), guard="no_pending_extension"),
        Transition(Action.ACCEPT, frozenset({_S.DISPATCHED}), _S.HANDLING, frozenset({_R.HANDLER}),
                   Scope.DEPARTMENT),
        Transition(Action.REQUEST_EXTENSION, frozenset({_S.HANDLING}), None, frozenset({_R.HANDLER}),
                   Scope.DEPARTMENT, clock=Clock.PAUSE, requires=("until", "reason"),
                   guard="no_pending_extension"),
        Transition(Action.APPROVE_EXTENSION, frozenset({_S.HANDLING}), None, frozenset({_R.DUTY_CHIEF}),
                   Scope.CITY, clock=Clock.EXTEND, guard="pending_extension"),
        Transition(Action.DENY_EXTENSION, frozenset({_S.HANDLING}), None, frozenset({_R.DUTY_CHIEF}),
                   Scope.CITY, clock=Clock.RESUME, requires=("reason",), guard="pending_extension"),
        Transition(Action.PARK, frozenset({_S.DISPATCHED, _S.HANDLING}), _S.PARKED, frozenset({_R.DUTY_CHIEF}),
                   Scope.CITY, clock=Clock.PAUSE, requires=("reason",), guard="no_pending_extension"),
        Transition(Action.UNPARK, frozenset({_S.PARKED}), _S.HANDLING, frozenset({_R.DUTY_CHIEF}),
                   Scope.CITY, clock=Clock.RESUME),
        Transition(Action.REPORT_DONE, frozenset({_S.HANDLING}), _S.TO_CHECK, frozenset({_R.HANDLER}),
                   Scope.DEPARTMENT, stage=Stage.CHECK, clock=Clock.STOP, requires=("photos",),
                   guard="no_pending_extension"),
        Transition(Action.CHECK_PASS, frozenset({_S.TO_CHECK}), _S.TO_CLOSE, frozenset({_R.INSPECTOR}),
                   Scope.FIELD, stage=Stage.CLOSE),
        Transition(Action.CHECK_FAIL, frozenset({_S.TO_CHECK}), _S.HANDLING, frozenset({_R.INSPECTOR}),
                   Scope.FIELD, stage=Stage.HANDLE, clock=Clock.RESUME, note_required=True),
        Transition(Action.CLOSE, frozenset({_S.TO_CLOSE}), _S.CLOSED, frozenset({_R.DUTY_CHIEF}),
                   Scope.CITY, clock=Clock.STOP),
        Transition(Action.URGE, OPEN_STATES - {_S.TO_VERIFY}, None, frozenset({_R.LEADER, _R.DUTY_CHIEF}),
                   Scope.CITY, note_required=True),
        Transition(Action.REOPEN, frozenset({_S.CLOSED}), _S.TO_DISPATCH, frozenset({_R.DUTY_CHIEF}),
                   Scope.CITY, stage=Stage.DISPATCH, requires=("reason",)),
    ]
}  # fmt: skip

# Actions a person takes as a handler of the case's department only make sense while the
# department holds the case.
assert all(t.sources <= DEPARTMENT_STATES for t in TABLE.values() if t.scope is Scope.DEPARTMENT)


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about a case."""

    state: State
    extension_pending: bool = False


@dataclass(frozen=True)
class ActorFacts:
    """What the rules need to know about the person acting on that case."""

    roles: frozenset[Role]  # every role the person holds anywhere
    in_case_department: bool = False  # handler of the case's department or of a department above it


GUARDS = {
    "no_pending_extension": (
        lambda c: not c.extension_pending,
        lambda: _("An extension request is pending."),
    ),
    "pending_extension": (lambda c: c.extension_pending, lambda: _("No extension request is pending.")),
}


def _may_act(t: Transition, actor: ActorFacts) -> bool:
    if not (t.roles & actor.roles):
        return False
    if t.scope is Scope.DEPARTMENT:
        return actor.in_case_department
    return True


def check(action: Action | str, case: CaseFacts, actor: ActorFacts) -> Transition:
    """The transition for ``action``, or a ``DomainError`` saying why it is not allowed now.

    Permission is checked before state, so a person who may never take an action learns that
    (403) rather than the case's state (409).
    """
    try:
        t = TABLE[Action(action)]
    except ValueError as exc:
        raise DomainError(
            _("Unknown action: %(action)s.") % {"action": action}, code="unknown_action"
        ) from exc
    if not _may_act(t, actor):
        raise NotAllowed(
            _("You may not take the action %(action)s on this case.") % {"action": t.action.label},
            code="not_your_role",
        )
    if case.state not in t.sources:
        raise Conflict(
            _("A case that is %(state)s cannot be given the action %(action)s.")
            % {"state": State(case.state).label, "action": t.action.label},
            code="wrong_state",
        )
    if t.guard:
        ok, message = GUARDS[t.guard]
        if not ok(case):
            raise Conflict(message(), code=t.guard)
    return t


def allowed_actions(case: CaseFacts, actor: ActorFacts) -> list[Action]:
    """Actions ``actor`` may take on ``case`` now, in table order."""
    result = []
    for t in TABLE.values():
        if case.state in t.sources and _may_act(t, actor):
            if t.guard and not GUARDS[t.guard][0](case):
                continue
            result.append(t.action)
    return result
