"""The transition table, tested without a database."""

import pytest

from cityops.cases import workflow
from cityops.cases.choices import Action, State
from cityops.cases.workflow import TABLE, ActorFacts, CaseFacts
from cityops.core.errors import Conflict, DomainError, NotAllowed
from cityops.organization.choices import Role

ACTIONS = [
    "verify", "file", "reject", "invalidate", "merge", "dispatch", "return", "accept", "request_extension",
    "approve_extension", "deny_extension", "park", "unpark", "report_done", "check_pass", "check_fail",
    "close", "urge", "reopen",
]  # fmt: skip


def actor(*roles, in_dept=False):
    return ActorFacts(roles=frozenset(roles), in_case_department=in_dept)


def test_the_table_covers_every_action_of_the_loop():
    assert {a.value for a in TABLE} == set(ACTIONS)


@pytest.mark.parametrize(
    ("state", "action", "who", "target"),
    [
        (State.TO_VERIFY, "verify", actor(Role.INSPECTOR), State.TO_FILE),
        (State.TO_FILE, "file", actor(Role.DUTY_CHIEF), State.TO_DISPATCH),
        (State.TO_FILE, "reject", actor(Role.DUTY_CHIEF), State.REJECTED),
        (State.TO_VERIFY, "invalidate", actor(Role.OPERATOR), State.INVALID),
        (State.TO_FILE, "merge", actor(Role.OPERATOR), State.MERGED),
        (State.TO_DISPATCH, "dispatch", actor(Role.DISPATCHER), State.DISPATCHED),
        (State.DISPATCHED, "accept", actor(Role.HANDLER, in_dept=True), State.HANDLING),
        (State.HANDLING, "return", actor(Role.HANDLER, in_dept=True), State.TO_DISPATCH),
        (State.HANDLING, "report_done", actor(Role.HANDLER, in_dept=True), State.TO_CHECK),
        (State.TO_CHECK, "check_fail", actor(Role.INSPECTOR), State.HANDLING),
        (State.TO_CHECK, "check_pass", actor(Role.INSPECTOR), State.TO_CLOSE),
        (State.TO_CLOSE, "close", actor(Role.DUTY_CHIEF), State.CLOSED),
        (State.HANDLING, "park", actor(Role.DUTY_CHIEF), State.PARKED),
        (State.PARKED, "unpark", actor(Role.DUTY_CHIEF), State.HANDLING),
        (State.CLOSED, "reopen", actor(Role.DUTY_CHIEF), State.TO_DISPATCH),
    ],
)
def test_allowed_transitions(state, action, who, target):
    assert workflow.check(action, CaseFacts(state=state), who).target == target


def test_a_handler_outside_the_department_may_not_act():
    with pytest.raises(NotAllowed):
        workflow.check("accept", CaseFacts(state=State.DISPATCHED), actor(Role.HANDLER, in_dept=False))


def test_wrong_role_is_403_before_wrong_state_409():
    with pytest.raises(NotAllowed) as exc:
        workflow.check("close", CaseFacts(state=State.TO_FILE), actor(Role.DISPATCHER))
    assert exc.value.status == 403
    with pytest.raises(Conflict) as exc:
        workflow.check("close", CaseFacts(state=State.TO_FILE), actor(Role.DUTY_CHIEF))
    assert exc.value.status == 409


def test_extension_guards():
    handler = actor(Role.HANDLER, in_dept=True)
    chief = actor(Role.DUTY_CHIEF)
    workflow.check("request_extension", CaseFacts(state=State.HANDLING), handler)
    with pytest.raises(Conflict):
        workflow.check("request_extension", CaseFacts(state=State.HANDLING, extension_pending=True), handler)
    with pytest.raises(Conflict):
        workflow.check("approve_extension", CaseFacts(state=State.HANDLING), chief)
    workflow.check("approve_extension", CaseFacts(state=State.HANDLING, extension_pending=True), chief)
    with pytest.raises(Conflict):
        workflow.check("report_done", CaseFacts(state=State.HANDLING, extension_pending=True), handler)


def test_unknown_action_is_a_clear_error():
    with pytest.raises(DomainError, match="Unknown action"):
        workflow.check("explode", CaseFacts(state=State.HANDLING), actor(Role.ADMIN))


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("role", list(Role))
def test_allowed_actions_agree_with_check(state, role):
    """For every state x role, the offered actions are exactly those check() accepts."""
    for in_dept in (False, True):
        who = actor(role, in_dept=in_dept)
        for pending in (False, True):
            facts = CaseFacts(state=state, extension_pending=pending)
            offered = set(workflow.allowed_actions(facts, who))
            for a in Action:
                if a not in TABLE:
                    continue
                try:
                    workflow.check(a, facts, who)
                    ok = True
                except DomainError:
                    ok = False
                assert ok == (a in offered), (state, role, in_dept, pending, a)


def test_ended_states_offer_nothing_but_reopen():
    everyone = actor(*Role, in_dept=True)
    for state in (State.REJECTED, State.INVALID, State.MERGED):
        assert workflow.allowed_actions(CaseFacts(state=state), everyone) == []
    assert workflow.allowed_actions(CaseFacts(state=State.CLOSED), everyone) == [Action.REOPEN]
