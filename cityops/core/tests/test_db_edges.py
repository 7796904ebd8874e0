"""Edges of ``core.db``'s compiled reads and pipelines: parameter shapes a cached statement must not
take blindly, and what Django reads of a statement run inside a pipeline (PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cityops.cases.models import Case
from cityops.core.db import Prepared, insert, pipelined, plain_rows
from cityops.core.tests.test_db_insert import _case

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_cases():
    now = timezone.now()
    return [insert(_case(f"2026-11-00000{i}", now)) for i in (1, 2)]


def _numbers(rows):
    return sorted(r[0] for r in rows)


def test_a_value_of_another_type_is_not_put_into_a_statement_compiled_for_text(two_cases):
    """The plan is keyed by each value's type: an integer for a text column is converted by the ORM
    (PostgreSQL refused ``varchar = integer`` when the text's plan took it), and None is refused as it
    is when it comes first (it was sent as the text 'None')."""

    def build(code):
        return Case.objects.filter(county_code=code).values_list("number")

    prepared = Prepared(build)
    assert _numbers(prepared.rows(code="140403")) == ["2026-11-000001", "2026-11-000002"]
    assert _numbers(prepared.rows(code=140403)) == _numbers(build(140403)) == _numbers(build("140403"))
    with pytest.raises(TypeError):
        prepared.rows(code=None)
    with pytest.raises(TypeError):
        Prepared(build).rows(code=None)


def test_a_value_the_orm_transforms_in_one_place_only_runs_through_the_orm(two_cases):
    """The value lands as it is for ``number`` and as ``value%`` for ``startswith``: substituting the
    first left the stand-in in the second (SQLite: no rows; PostgreSQL: a NUL byte refused)."""

    def build(text):
        return Case.objects.filter(Q(number=text) | Q(number__startswith=text)).values_list("number")

    prepared = Prepared(build)
    for text in ("2026-11", "2026-11-000002", "2026-12"):
        assert _numbers(prepared.rows(text=text)) == _numbers(build(text)), text
    assert list(prepared._plans.values()) == [None]


def test_a_naive_moment_is_read_in_the_default_time_zone_as_the_orm_reads_it(settings, two_cases):
    """The ORM reads a naive datetime in ``TIME_ZONE`` (with a warning); the compiled statement read it
    as UTC (SQLite's stored text, PostgreSQL's session zone): eight hours apart in Asia/Shanghai."""
    settings.TIME_ZONE = "Asia/Shanghai"
    since = timezone.make_naive(two_cases[0].reported_at - timedelta(minutes=1))

    def build(since):
        return Case.objects.filter(reported_at__gte=since).values_list("number")

    with pytest.warns(RuntimeWarning, match="naive datetime"):
        want = _numbers(build(since))
    assert want == ["2026-11-000001", "2026-11-000002"]
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        assert _numbers(Prepared(build).rows(since=since)) == want


def test_an_integer_for_a_narrow_integer_column_runs_through_the_orm(two_cases):
    """The integer stand-in lies beyond PostgreSQL's ``integer``: Django drops the lookup as matching
    nothing, and compiling raised ``EmptyResultSet`` (SQLite's integers are 64-bit)."""

    def build(n):
        return Case.objects.filter(rework_count=n).values_list("number")

    assert _numbers(Prepared(build).rows(n=0)) == _numbers(build(0)) == ["2026-11-000001", "2026-11-000002"]


def test_stand_ins_alike_never_exchange_their_values(two_cases):
    """The float stand-ins of a list are numbered by 1/1024: item 1024 of the first name's list stood for
    the second name too, and took its value."""

    def build(lats, lon):
        return Case.objects.filter(lat__in=lats, lon__lt=lon).values_list("number")

    lats = [0.5 + i for i in range(1024)] + [two_cases[0].lat]
    want = _numbers(build(lats, 200.0))
    assert want == ["2026-11-000001", "2026-11-000002"]
    assert _numbers(Prepared(build).rows(lats=lats, lon=200.0)) == want


class _SwitchAfterFirstRead(dict):
    """The plans, with a thread switch right after a call's first read: another thread's call runs."""

    other = None

    def _switch(self):
        other, self.other = self.other, None
        if other is not None:
            other()

    def __contains__(self, key):
        found = super().__contains__(key)
        self._switch()
        return found

    def __getitem__(self, key):
        value = super().__getitem__(key)
        self._switch()
        return value

    def get(self, key, default=None):
        value = super().get(key, default)
        self._switch()
        return value


def test_a_plan_evicted_by_another_thread_after_it_was_found_still_runs(two_cases):
    """With the cache full, another thread's new shape evicts the oldest plan: found by one read and
    taken by a second, it was gone in between (KeyError)."""

    def build(n, number):
        return Case.objects.filter(number=number).values_list("number")[:n]

    prepared = Prepared(build)
    prepared.MAX_SHAPES = 1
    assert prepared.rows(shape=(1,), number="2026-11-000001") == [("2026-11-000001",)]
    prepared._plans = _SwitchAfterFirstRead(prepared._plans)
    prepared._plans.other = lambda: prepared.rows(shape=(2,), number="2026-11-000002")
    assert prepared.rows(shape=(1,), number="2026-11-000002") == [("2026-11-000002",)]
    assert len(prepared._plans) == 1


def test_rows_written_inside_a_pipeline_are_counted_as_outside(two_cases):
    """PostgreSQL's pipeline said -1 rows until the answer came: ``save()`` of a stored case inserted it
    again (a duplicate key), ``save(update_fields=...)`` raised and ``update()`` returned -1."""
    case = two_cases[0]
    with transaction.atomic(), pipelined():
        case.description = "changed"
        case.save()
        case.address = "moved"
        case.save(update_fields=["address"])
        assert Case.objects.filter(pk=case.pk).update(urgency="urgent") == 1
        assert Case.objects.filter(number="none such").update(urgency="urgent") == 0
    got = Case.objects.get(pk=case.pk)
    assert (got.description, got.address, got.urgency) == ("changed", "moved", "urgent")
    assert Case.objects.count() == 2


def test_plain_rows_are_the_drivers_values_in_the_select_order():
    """``plain_rows``: the rows of a grouped ``values()`` query, group columns first, then the
    annotations in their order, as ``values_list`` gives them once converted."""
    from django.contrib.auth.models import Group
    from django.db.models import Count, Sum

    for name in ("a", "b", "b2"):
        Group.objects.create(name=name)
    qs = (
        Group.objects.values("name")
        .annotate(n=Count("pk"), total=Sum("pk"), none=Sum("pk", filter=Q(name="zz")))
        .order_by()
    )
    rows = plain_rows(qs)
    assert [r[:2] for r in sorted(rows)] == [("a", 1), ("b", 1), ("b2", 1)]
    assert [(r[0], int(r[2]), r[3]) for r in sorted(rows)] == sorted(qs.values_list("name", "total", "none"))
