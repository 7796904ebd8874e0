"""The Open311 list runs a statement compiled once per filter mix (``core.db.Prepared``): its rows are
the ORM's rows for every mix, a new value never reuses an old one, and a value the ORM transforms is
never substituted blindly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityops.cases.models import Case
from cityops.core.db import Prepared
from cityops.open311 import selectors
from cityops.open311.tests.test_endpoints import act, report

pytestmark = pytest.mark.django_db

MIXES = [
    {},
    {"codes": ["07001"]},
    {"codes": ["07001", "06010"], "statuses": ["open"]},
    {"statuses": ["closed"]},
    {"ids": ["X"]},  # replaced below by real numbers
]


def _orm_rows(filters, now):
    values = selectors._list_values(filters, now)
    offset = (filters.page - 1) * filters.page_size
    return [tuple(r) for r in selectors._list_query(offset, filters.page_size, **values)]


def test_every_filter_mix_gives_the_orm_rows(world):
    now = timezone.now()
    made = []
    for i in range(12):
        made.append(report(now - timedelta(days=i * 9, minutes=i), code="07001" if i % 3 else "06010"))
    report(now, public=False)  # never listed
    act(world, made[0], "demo-operator", "verify", now)  # a state change the list must show
    Case.objects.filter(pk=made[1].pk).update(state="closed", updated_at=now - timedelta(days=2))
    numbers = [c.number for c in made[:3]]
    compared = 0
    for mix in MIXES:
        for page, size in ((1, 50), (1, 3), (2, 3)):
            kwargs = dict(mix, page=page, page_size=size)
            if "ids" in kwargs:
                kwargs["ids"] = numbers
            for window in (
                {},
                {"start": now - timedelta(days=40)},
                {"end": now - timedelta(days=20)},
                {"updated_after": now - timedelta(days=3), "updated_before": now + timedelta(days=1)},
            ):
                filters = selectors.RequestFilters(**kwargs, **window)
                with CaptureQueriesContext(connection) as ctx:
                    got = selectors.request_list(filters, now=now)
                assert len(ctx.captured_queries) == 1
                want = _orm_rows(filters, now)
                assert [
                    tuple(
                        {
                            "department__code": r.department.code,
                            "department__name": r.department.name,
                            "merged_into__number": r.merged_into.number,
                        }.get(c, getattr(r, c, None))
                        for c in selectors.LIST_COLUMNS
                    )
                    for r in got
                ] == want, (mix, page, size, window)
                compared += 1
    assert compared == len(MIXES) * 3 * 4
    # the typical mixes were compiled once and substituted, not run through the ORM each time
    plans = [p for p in selectors._LIST._plans.values() if p is not None]
    assert len(plans) >= 10
    # a second call with other values of the same shape gives the other rows
    only_06010 = selectors.request_list(selectors.RequestFilters(codes=["06010"]), now=now)
    only_07001 = selectors.request_list(selectors.RequestFilters(codes=["07001"]), now=now)
    assert only_06010 and {r.type_code for r in only_06010} == {"06010"}
    assert only_07001 and {r.type_code for r in only_07001} == {"07001"}
    # A later page picks its keys first and then reads their records: every page is the same slice of
    # the whole list, notes and photos included.
    Case.objects.filter(pk__in=[c.pk for c in made[:6]]).update(reported_at=now - timedelta(hours=1))  # ties
    for c in made[2:5]:  # public notes on some of the later pages' cases
        act(world, c, "demo-operator", "verify", now, note="已核实，现场确有此问题")
    for mix in ({}, {"statuses": ["open"]}, {"codes": ["07001"]}):
        whole = [
            vars(r) for r in selectors.request_list(selectors.RequestFilters(**mix, page_size=50), now=now)
        ]
        assert len(whole) >= 4, mix
        assert any(r["o311_notes"] for r in whole[1:]), mix
        for size in (1, 2, 3):
            paged = []
            for page in range(1, len(whole) // size + 2):
                filters = selectors.RequestFilters(**mix, page=page, page_size=size)
                paged += [vars(r) for r in selectors.request_list(filters, now=now)]
            assert paged == whole, (mix, size)


def test_a_value_the_orm_transforms_is_not_substituted(world):
    now = timezone.now()
    report(now, text="井盖缺失")
    report(now, text="路灯不亮")

    def build(**values):
        return Case.objects.filter(description__icontains=values["text"]).order_by("pk").values_list("number")

    prepared = Prepared(build)
    assert prepared.rows(text="井盖") == [tuple(r) for r in build(text="井盖")] and prepared.rows(text="井盖")
    assert prepared.rows(text="路灯") == [tuple(r) for r in build(text="路灯")]
    assert list(prepared._plans.values()) == [None]  # icontains wraps the value in %...%: never guessed


def test_statuses_list_the_open_the_closed_or_every_public_request(world):
    """Closed requests (nine in ten) are walked in date order on SQLite rather than gathered through the
    state index; both statuses together are no condition at all."""
    now = timezone.now()
    made = [report(now - timedelta(hours=i)) for i in range(6)]
    Case.objects.filter(pk__in=[made[1].pk, made[3].pk]).update(state="closed")
    Case.objects.filter(pk=made[4].pk).update(state="rejected")
    Case.objects.filter(pk=made[5].pk).update(state="invalid")  # never public

    def listed(*statuses: str) -> list[str]:
        filters = selectors.RequestFilters(statuses=list(statuses))
        with CaptureQueriesContext(connection) as ctx:
            rows = selectors.request_list(filters, now=now)
        listed.sql = ctx.captured_queries[-1]["sql"]
        return [r.number for r in rows]

    assert listed() == listed("open", "closed") == listed("closed", "open") == [c.number for c in made[:5]]
    assert "state" not in listed.sql.partition(" WHERE ")[2].partition("invalid")[2]
    assert listed("closed") == [made[1].number, made[3].number, made[4].number]
    assert ("likelihood" in listed.sql) == (connection.vendor == "sqlite")
    assert listed("open") == [made[0].number, made[2].number]
    assert "likelihood" not in listed.sql
