"""Keys drawn ahead and pipelined inserts (PostgreSQL): a report's transaction in one round trip, with
the rows, keys and failures of the plain path."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityops.cases.models import Case, CaseCounter, CaseEvent
from cityops.core.db import count_up, insert, pipelined
from cityops.core.tests.test_db_insert import _case, _row

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="sequences and pipelines")


@postgres_only
def test_keys_drawn_with_the_count_are_the_sequences_next_ones():
    now = timezone.now()
    first = insert(_case("2026-11-000001", now))
    count, case_key, event_key = count_up(CaseCounter, "last", month="2026-11", draw=(Case, CaseEvent))
    assert count == 1 and case_key > first.pk and event_key > 0
    assert count_up(CaseCounter, "last", month="2026-11", draw=(Case,))[:1] == (2,)
    later = insert(_case("2026-11-000009", now))  # the ORM's next key comes after the drawn ones
    assert later.pk > case_key + 1


def test_keys_are_drawn_from_postgresql_only():
    if connection.vendor == "postgresql":
        assert count_up(CaseCounter, "last", month="2026-12") == 1
        return
    with pytest.raises(ValueError):
        count_up(CaseCounter, "last", month="2026-12", draw=(Case,))
    assert count_up(CaseCounter, "last", month="2026-12") == 1


def test_a_row_with_its_key_given_is_written_with_it_and_nothing_returned():
    now = timezone.now()
    plain = insert(_case("2026-11-000001", now))
    given = _case("2026-11-000002", now)
    given.pk = plain.pk + 100
    with CaptureQueriesContext(connection) as ctx:
        insert(given)
    (sql,) = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    assert "RETURNING" not in sql
    assert given.pk == plain.pk + 100 and not given._state.adding
    assert _row(Case, given.pk, "id", "number", "tracking_token") == _row(
        Case, plain.pk, "id", "number", "tracking_token"
    )


def test_pipelined_transaction_writes_all_or_nothing():
    now = timezone.now()
    with transaction.atomic(), pipelined():
        case = insert(_case("2026-11-000001", now))
        insert(CaseEvent(id=case.pk + 5, case=case, action="report", to_state="to_file", at=now))
    assert CaseEvent.objects.get(pk=case.pk + 5).case_id == case.pk
    # the failing statement's error surfaces when the pipeline ends (it reads answers late), inside the
    # transaction, which then rolls back as after any failed statement
    with pytest.raises(IntegrityError), transaction.atomic(), pipelined():
        insert(_case("2026-11-000002", now))
        insert(_case("2026-11-000001", now))  # the number is taken
    assert not Case.objects.filter(number="2026-11-000002").exists()
    assert Case.objects.count() == 1  # and the connection works on


@pytest.mark.django_db(transaction=True)
def test_outside_any_transaction_a_failure_rolls_back_and_the_connection_works_on():
    now = timezone.now()
    with transaction.atomic(), pipelined():
        insert(_case("2026-11-000001", now))
    with pytest.raises(IntegrityError), transaction.atomic(), pipelined():
        insert(_case("2026-11-000002", now))
        insert(_case("2026-11-000001", now))
    assert list(Case.objects.values_list("number", flat=True)) == ["2026-11-000001"]
    with transaction.atomic(), pipelined():
        insert(_case("2026-11-000003", now))
    assert Case.objects.count() == 2
