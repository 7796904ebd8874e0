"""``core.db.insert`` writes the row ``save()`` writes, sends the same signals, and fails the same way."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import signals
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityops.cases.models import Case, CaseEvent
from cityops.core.db import insert
from cityops.evaluation.models import CaseFact

pytestmark = pytest.mark.django_db


def _case(number: str, now) -> Case:
    return Case(
        number=number,
        source="inspector",
        kind="matter",
        type_code="07001",
        type_name="小广告",
        urgency="normal",
        description="电线杆上的小广告",
        lat=36.195,
        lon=113.117,
        address="英雄中路",
        county_code="140403",
        state="to_file",
        reporter_phone="13800000000",
        tracking_token=f"t-{number}",
        reported_at=now,
        updated_at=now,
        due_at=now,
    )


def _row(model, pk, *skip):
    row = model.objects.filter(pk=pk).values().get()
    for k in ("id", *skip):
        row.pop(k, None)
    return row


def test_insert_writes_what_save_writes_with_the_same_signals():
    now = timezone.now()
    seen = []

    def record(sender, instance, created, **kwargs):
        seen.append((sender.__name__, created, instance.pk))

    signals.post_save.connect(record, sender=Case, dispatch_uid="test-insert")
    try:
        by_orm = _case("2026-11-900001", now)
        by_orm.save()
        fast = _case("2026-11-900002", now)
        with CaptureQueriesContext(connection) as ctx:
            insert(fast)
        assert len(ctx.captured_queries) == 1
    finally:
        signals.post_save.disconnect(dispatch_uid="test-insert")
    assert fast.pk and fast.pk != by_orm.pk and not fast._state.adding and fast._state.db == "default"
    assert _row(Case, fast.pk, "number", "tracking_token") == _row(
        Case, by_orm.pk, "number", "tracking_token"
    )
    assert seen == [("Case", True, by_orm.pk), ("Case", True, fast.pk)]

    # an event through insert runs the receivers of save: the case's facts are written
    event = insert(
        CaseEvent(case=fast, action="report", to_state="to_file", data={"source": "inspector"}, at=now)
    )
    ref = CaseEvent(case=by_orm, action="report", to_state="to_file", data={"source": "inspector"}, at=now)
    ref.save()
    assert _row(CaseEvent, event.pk, "case_id") == _row(CaseEvent, ref.pk, "case_id")
    assert CaseEvent.objects.get(pk=event.pk).data == {"source": "inspector"}
    assert _row(CaseFact, fast.pk, "case_id", "number") == _row(CaseFact, by_orm.pk, "case_id", "number")


def test_a_failed_insert_raises_and_leaves_nothing():
    now = timezone.now()
    insert(_case("2026-11-900010", now))
    before = Case.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(_case("2026-11-900011", now))
        insert(_case("2026-11-900010", now))  # the number is unique
    assert Case.objects.count() == before
    unsaved = Case(number="2026-11-900012")
    with pytest.raises(ValueError, match="unsaved related object"):
        insert(CaseEvent(case=unsaved, action="report", to_state="to_file", at=now))


def test_values_passed_as_they_are_equal_what_the_fields_prepare():
    """The fast path of the insert's parameters gives each field's ``get_db_prep_save`` value and type
    (on PostgreSQL integers too: psycopg's Int4 and friends, as the fields adapt them)."""
    from cityops.cases.choices import State
    from cityops.core.db import _insert_plan, _prepared

    now = timezone.now()
    case = _case("2026-11-900020", now)
    case.state = State.TO_FILE  # a choices member (a str subclass)
    case.rework_count = True  # a bool in an integer field: prepared to 1
    case.lat = 36  # an int in a float field: prepared to 36.0
    case.save()
    event = CaseEvent(case=case, action="report", to_state="to_file", data={"a": 1}, at=now)
    for obj in (case, event, CaseFact(case=case, number=case.number, reported_at=now)):
        plan = _insert_plan(type(obj), connection)
        pairs = zip(plan.fields, plan.plain, strict=True)
        fast = [_prepared(f, plain, obj, connection) for f, plain in pairs]
        full = [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in plan.fields]
        for f, a, b in zip(plan.fields, fast, full, strict=True):
            assert type(a) is type(b), f.name
            # JSON is wrapped in a new adapter object per call: compare what it holds
            assert a == b or repr(a) == repr(b), f.name
        assert any(plan.plain), "no field takes the fast path"
    rework = _prepared(Case._meta.get_field("rework_count"), (int,), case, connection)
    assert rework == 1 and type(rework) is not bool


def test_a_field_with_a_database_default_is_written_with_its_python_value():
    """``CaseFact.held`` has a default in the database (for an earlier release's inserts during an
    upgrade) and in Python: the fact of every report still takes the one prepared statement, and
    writes the value the object holds; an object holding the database's default itself is saved by
    the ORM, which leaves the column to the database."""
    from django.db.models import Value
    from django.db.models.expressions import DatabaseDefault

    from cityops.core.db import _insert_plan

    now = timezone.now()
    plan = _insert_plan(CaseFact, connection)
    assert plan is not None and [f.name for f in plan.db_defaults] == ["held"]
    for number, held in (("2026-11-900031", False), ("2026-11-900032", True)):
        case = _case(number, now)
        case.save()
        with CaptureQueriesContext(connection) as queries:
            insert(CaseFact(case=case, number=number, reported_at=now, held=held))
        assert len(queries) == 1 and queries[0]["sql"].startswith("INSERT")
        assert CaseFact.objects.get(pk=case.pk).held is held
    case = _case("2026-11-900033", now)
    case.save()
    field = CaseFact._meta.get_field("held")
    default = DatabaseDefault(Value(field.db_default), output_field=field)
    insert(CaseFact(case=case, number=case.number, reported_at=now, held=default))
    assert CaseFact.objects.get(pk=case.pk).held is True
