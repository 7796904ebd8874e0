"""The queue's text search through the substring indexes finds exactly what ``icontains`` finds."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cityops.cases import search
from cityops.cases.models import Case
from cityops.cases.tests.test_views import clone, login, report

pytestmark = pytest.mark.django_db

TEXTS = [
    ("井盖缺失，行人易跌落", "英雄中路17号"),
    ("Manhole COVER missing near the school", "太行东街3号"),
    ('引号"测试"与星号*和减号-的描述', "府前街 AND 西街"),
    ("路面坑洼积水", "Yingxiong Rd. 217"),
    ("Ａ座１楼门口École旁", "Привет街"),  # letters whose case only the index folds
]
TERMS = [
    "井盖",  # two characters: no trigram, matched as before
    "井盖缺失",
    "英雄中路",
    "cover",  # ASCII in any case
    "MANHOLE cover",
    "yingXIONG",
    '"测试"',  # query syntax characters are text
    "星号*和",
    "AND 西街",
    "减号-的",
    "17号",
    "不存在的词语",
    "a",
    "ａ座１",  # full-width: LIKE folds ASCII only, so this finds nothing, through the index too
    "Ａ座１",
    "école",
    "привет",
    "Привет",
]
if connection.vendor == "sqlite":  # PostgreSQL refuses NUL in any text (forms and API refuse it first)
    TERMS.append("坑洼\x00积水")


def _icontains(term: str) -> set[str]:
    """What the search meant before the indexes: the plain ORM lookups."""
    text = Q(number=term) | Q(number__startswith=term) | Q(description__icontains=term)
    return set(Case.objects.filter(text | Q(address__icontains=term)).values_list("number", flat=True))


def _searched(term: str) -> set[str]:
    return set(Case.objects.filter(search.text_filter(term)).values_list("number", flat=True))


@pytest.fixture
def cases(loop_world):
    made = [report(loop_world, description=d, address=a) for d, a in TEXTS]
    return loop_world, made


def test_every_term_finds_what_icontains_finds(cases):
    _people, made = cases
    for term in [*TERMS, made[0].number, made[0].number[:9], made[1].number[-4:]]:
        assert _searched(term) == _icontains(term), term
    assert _searched("英雄中路") == {made[0].number}
    assert _searched("cover") == {made[1].number}


def test_the_index_follows_new_edited_and_deleted_cases(cases):
    people, made = cases
    Case.objects.filter(pk=made[3].pk).update(description="护栏损坏倒伏", address="紫金西街")
    assert _searched("护栏损坏") == {made[3].number} == _icontains("护栏损坏")
    assert _searched("坑洼积水") == set() == _icontains("坑洼积水")
    extra = report(people, description="树木倒伏压住护栏损坏处", address="紫金西街")
    assert _searched("护栏损坏") == {made[3].number, extra.number}
    clone(extra, 1)  # a case with no events, which may be deleted
    copy = Case.objects.filter(description=extra.description).exclude(pk=extra.pk).get()
    assert _searched("树木倒伏") == {extra.number, copy.number}
    copy.delete()
    assert _searched("树木倒伏") == {extra.number} == _icontains("树木倒伏")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 table is SQLite's index")
def test_sqlite_asks_the_index_for_rare_terms_and_walks_the_queue_for_dense_ones(cases, monkeypatch):
    _people, made = cases
    with CaptureQueriesContext(connection) as queries:
        assert _searched("英雄中路") == {made[0].number}
    assert any("cases_case_text MATCH" in q["sql"] and "IN (" in q["sql"] for q in queries)
    monkeypatch.setattr(search, "DENSE", 0)  # every term now counts as dense: the plain scan
    with CaptureQueriesContext(connection) as queries:
        assert _searched("英雄中路") == {made[0].number}
    assert not any("IN (SELECT rowid" in q["sql"] for q in queries)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 table is SQLite's index")
@pytest.mark.django_db(transaction=True)
def test_a_repair_stopped_half_way_leaves_nothing_half_made(cases, monkeypatch):
    people, _made = cases
    with connection.cursor() as cur:
        for name in search._SQLITE_TRIGGERS:
            cur.execute(f"DROP TRIGGER {name}")
    late = report(people, description="消防栓漏水严重", address="城东路")

    class Busy(Exception):
        pass

    real = connection.cursor

    def cursor():  # the rebuild fails, as when the database is busy or the process is killed
        cur = real()
        execute = cur.execute

        def failing(sql, params=None):
            if "'rebuild'" in sql:
                raise Busy
            return execute(sql, params)

        cur.execute = failing
        return cur

    monkeypatch.setattr(connection, "cursor", cursor)
    with pytest.raises(Busy):
        search.ensure_text_index()
    monkeypatch.undo()
    with connection.cursor() as cur:  # the triggers made before the failure were rolled back with it
        cur.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases_case'")
        assert cur.fetchone()[0] == 0
    assert search.ensure_text_index() is True  # so the next run makes the whole index again
    assert _searched("消防栓漏水") == {late.number}
    with connection.cursor() as cur:
        cur.execute("INSERT INTO cases_case_text(cases_case_text, rank) VALUES ('integrity-check', 1)")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers go with a rebuilt table")
@pytest.mark.django_db(transaction=True)  # migrate runs as it does on a server, outside a test's transaction
def test_triggers_lost_with_a_rebuilt_table_are_put_back_after_migrate(cases):
    people, made = cases
    with connection.cursor() as cur:
        for name in search._SQLITE_TRIGGERS:
            cur.execute(f"DROP TRIGGER {name}")
    late = report(people, description="消防栓漏水严重", address="城东路")
    assert _searched("消防栓漏水") == set()  # the index fell behind
    call_command("migrate", verbosity=0)  # post_migrate puts the triggers back and rebuilds
    assert _searched("消防栓漏水") == {late.number}
    assert _searched("英雄中路") == {made[0].number}
    assert search.ensure_text_index() is False  # complete: nothing to do


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram indexes are PostgreSQL's")
def test_postgresql_can_answer_the_search_from_the_trigram_indexes(cases):
    qs = Case.objects.filter(search.text_filter("英雄中路")).values_list("pk")
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        # a few rows: the planner would rather read them all, or in date order; left with bitmap scans
        # only, it shows whether the indexes match the expressions Django compares
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_indexscan = off")
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cur.fetchall())
    for index in ("case_description_trgm", "case_address_trgm"):
        assert index in plan, plan
    assert "Seq Scan" not in plan  # the number's prefix from the unique key's pattern index


def test_the_queue_page_searches_through_the_index(client, cases):
    people, made = cases
    clone(made[2], 30)  # more cases with the same texts: a page of them
    login(client, people, "demo-chief")
    r = client.get(reverse("cases:queue"), {"queue": "all", "q": "星号*和"})
    assert r.status_code == 200
    assert len(r.context["rows"]) == 31
    r = client.get(reverse("cases:queue"), {"queue": "all", "q": "英雄中路"})
    assert [row.number for row in r.context["rows"]] == [made[0].number]
