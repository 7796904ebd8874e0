"""A report's number: unique under concurrency, and on PostgreSQL its lock does not wait for the intake.

On PostgreSQL the number is drawn and committed before the intake's transaction, so a report that is
still writing its case, event and fact does not hold up the next one. On SQLite the write lock covers
the whole intake anyway and the number is drawn inside it, so a failed intake leaves no gap.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.utils import timezone

from cityops.cases import services
from cityops.cases.models import Case, CaseEvent
from cityops.cases.services import ReportInput, case_report
from cityops.cases.tests.conftest import LZ_LAT, LZ_LON


def _data(description: str) -> ReportInput:
    return ReportInput(source="inspector", type_code="07001", description=description, lat=LZ_LAT, lon=LZ_LON)


@pytest.mark.django_db(transaction=True)
def test_a_slow_intake_does_not_hold_up_the_next_report(loop_world):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes write transactions: one intake waits for the other by design")
    inspector = loop_world["demo-inspector"]
    inside, release = threading.Event(), threading.Event()

    def hold(sender, instance, created, **kwargs):
        if created and instance.note == "" and instance.case.description == "slow":
            inside.set()
            assert release.wait(20)

    post_save.connect(hold, sender=CaseEvent, dispatch_uid="hold-slow-intake")
    numbers: dict[str, str] = {}
    failures: list[BaseException] = []

    def report(description: str) -> None:
        try:
            numbers[description] = case_report(
                data=_data(description), actor=inspector, now=timezone.now()
            ).number
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    slow = threading.Thread(target=report, args=("slow",))
    try:
        slow.start()
        assert inside.wait(20), "the slow intake never reached its event"
        fast = threading.Thread(target=report, args=("fast",))
        fast.start()
        fast.join(15)
        # the slow report holds its transaction open (case and event written, not committed)
        finished_while_held = not fast.is_alive() and "fast" in numbers
    finally:
        release.set()
        slow.join(20)
        post_save.disconnect(dispatch_uid="hold-slow-intake", sender=CaseEvent)
    assert not failures, failures
    assert finished_while_held, "the second report waited for the first one's transaction"
    assert numbers["slow"] != numbers["fast"]
    assert set(Case.objects.values_list("number", flat=True)) == {numbers["slow"], numbers["fast"]}


@pytest.mark.django_db(transaction=True)
def test_a_failed_intake_and_the_numbers_after_it(loop_world, monkeypatch):
    inspector = loop_world["demo-inspector"]
    now = timezone.now()
    first = case_report(data=_data("first"), actor=inspector, now=now).number

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_event", broken)
    with pytest.raises(RuntimeError):
        case_report(data=_data("lost"), actor=inspector, now=now)
    monkeypatch.undo()
    after = case_report(data=_data("after"), actor=inspector, now=now).number

    assert list(Case.objects.order_by("pk").values_list("description", flat=True)) == ["first", "after"]
    step = int(after.rsplit("-", 1)[1]) - int(first.rsplit("-", 1)[1])
    # PostgreSQL committed the failed report's number before its intake; SQLite rolled it back
    assert step == (2 if connection.vendor == "postgresql" else 1)
