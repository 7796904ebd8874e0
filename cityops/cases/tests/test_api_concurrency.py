"""Two dispatchers dispatch the same case at the same moment: exactly one succeeds."""

from __future__ import annotations

import sys
import threading
import time
import traceback

import pytest
from django.contrib.auth import get_user_model
from django.core.signals import got_request_exception
from django.db import OperationalError, connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cityops.cases.choices import Action, State
from cityops.cases.models import Case, CaseEvent
from cityops.cases.services import ActionInput, ReportInput, case_act, case_report
from cityops.cases.tests.conftest import LZ_LAT, LZ_LON
from cityops.organization.models import Department
from cityops.organization.services import membership_grant


def _refused_at_begin(exc: OperationalError) -> bool:
    """SQLite refused to start the write transaction (so this request has written nothing)."""
    if connection.vendor != "sqlite" or "locked" not in str(exc):
        return False
    return any(
        f.name == "_start_transaction_under_autocommit" for f in traceback.extract_tb(exc.__traceback__)
    )


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once(loop_world):
    now = timezone.now()
    people = loop_world
    second = get_user_model().objects.create_user(username="dispatcher-02", password="x")
    membership_grant(user=second, department=Department.objects.get(code="CENTRE"), role="dispatcher")
    data = ReportInput(source="inspector", type_code="07001", description="小广告", lat=LZ_LAT, lon=LZ_LON)
    number = case_report(data=data, actor=people["demo-inspector"], now=now).number
    case_act(number=number, data=ActionInput(action="file"), actor=people["demo-chief"], now=now)

    tokens = [Token.objects.create(user=u).key for u in (people["demo-dispatcher"], second)]
    barrier = threading.Barrier(2)
    results: list = [None, None]
    retries = [0, 0]

    errors: dict[int, BaseException] = {}

    def remember_error(**kwargs):
        # The test client's own "re-raise the view's exception" hook is a global signal, so with two
        # clients in two threads each would re-raise the other's error; keep them per thread.
        errors[threading.get_ident()] = sys.exc_info()[1]

    def dispatch(i: int, department: str) -> None:
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[i]}")
        try:
            if connection.vendor == "sqlite":
                # Shared-cache readers would take table locks and fail on the other's write;
                # a database file in WAL mode has no such locks.
                with connection.cursor() as cur:
                    cur.execute("PRAGMA read_uncommitted = 1")
            barrier.wait(timeout=10)
            for _attempt in range(500):
                errors.pop(threading.get_ident(), None)
                r = client.post(
                    f"/api/v1/cases/{number}/actions", {"action": "dispatch", "department": department}
                )
                exc = errors.get(threading.get_ident())
                if r.status_code == 500 and isinstance(exc, OperationalError) and _refused_at_begin(exc):
                    # The in-memory SQLite test database runs in shared-cache mode, where a second
                    # writer is refused at once ("database table is locked") instead of waiting on
                    # the busy timeout as it does on a database file. Nothing was written when that
                    # happens, so trying again stands in for the wait.
                    retries[i] += 1
                    time.sleep(0.01)
                    continue
                results[i] = (r.status_code, r.json() if r.status_code != 500 else repr(exc))
                break
        finally:
            connection.close()  # each thread has its own connection; close it before the flush

    got_request_exception.connect(remember_error, dispatch_uid="test-two-dispatchers")
    threads = [
        threading.Thread(target=dispatch, args=(0, "LZ-CGJ")),
        threading.Thread(target=dispatch, args=(1, "CGJ-HW")),
    ]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join(timeout=60)
    finally:
        got_request_exception.disconnect(dispatch_uid="test-two-dispatchers")
    assert all(r is not None for r in results), (results, retries)
    statuses = sorted(r[0] for r in results)
    assert statuses == [200, 409], results
    loser = next(r[1] for r in results if r[0] == 409)
    assert loser["code"] == "wrong_state" and loser["detail"]
    winner = next(r[1] for r in results if r[0] == 200)
    case = Case.objects.get(number=number)
    assert case.state == State.DISPATCHED
    assert case.department.code == winner["department"]["code"]
    assert CaseEvent.objects.filter(case=case, action=Action.DISPATCH).count() == 1
