"""Kept plans: only statements marked stable are prepared on PostgreSQL, and they answer as before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from cityops.cases import selectors
from cityops.cases.models import Case
from cityops.core.db import STABLE_PLANS, stable, stable_plans
from cityops.core.tests.test_db_insert import _case
from cityops.organization.models import Department

ROOT = Path(__file__).resolve().parents[3]
pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")


@pytest.fixture
def cases(db):
    now = timezone.now()
    dept = Department.objects.create(code="D1", name="市政", path="D1/")
    made = []
    for i, type_code in enumerate(["07001", "07001", "01002"]):
        c = _case(f"2026-11-{i:06d}", now)
        c.type_code, c.department, c.state = type_code, dept, "handling"
        c.save()
        made.append(c)
    return made


def _recording():
    """A query wrapper noting, per statement, whether it ran under ``stable_plans``."""
    seen: list[tuple[bool, str]] = []

    def wrapper(execute, sql, params, many, context):
        seen.append((STABLE_PLANS.get(), sql))
        return execute(sql, params, many, context)

    return seen, wrapper


def test_stable_queryset_fetches_under_stable_plans_with_its_prefetches(cases):
    seen, wrapper = _recording()
    qs = stable(Case.objects.filter(type_code="07001").prefetch_related("attachments").order_by("id"))
    with connection.execute_wrapper(wrapper):
        found = list(qs.filter(state="handling"))  # chained: still stable
        plain = list(Case.objects.filter(type_code="07001").order_by("id"))
    assert [c.number for c in found] == [c.number for c in plain] == [cases[0].number, cases[1].number]
    assert [flag for flag, _sql in seen] == [True, True, False]  # cases, their attachments; the plain one
    assert STABLE_PLANS.get() is False


def test_stable_plans_is_reset_after_an_error():
    with pytest.raises(RuntimeError), stable_plans():
        assert STABLE_PLANS.get() is True
        raise RuntimeError
    assert STABLE_PLANS.get() is False


def _prepared() -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cur.fetchall()]


@pg_only
def test_only_marked_statements_are_prepared_and_answer_for_every_value(cases, django_user_model):
    """A case by number is prepared once and serves every number; a queue filter is never prepared,
    however often it runs (a kept generic plan walked the whole date index for a rare type)."""
    chief = django_user_model.objects.create_user("chief", password="x")
    from cityops.organization.models import Membership

    Membership.objects.create(user=chief, department=cases[0].department, role="duty_chief")
    before = len(_prepared())
    for c in cases * 3:
        assert selectors.case_get_for(chief, c.number).pk == c.pk
    assert selectors.case_get_for(chief, "2026-11-999999") is None
    for _ in range(10):
        queue = Case.objects.filter(type_code="07001", state__in=["dispatched", "handling"])
        list(queue.order_by("-reported_at"))
    statements = _prepared()
    assert len(statements) == before + 1
    assert '"cases_case"."number" = $1' in statements[-1]
    assert not [s for s in statements if '"cases_case"."type_code" = $1' in s]


def _database_settings(**env) -> dict:
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'], default=str))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_postgresql_prepares_on_request_unless_turned_off_for_a_pooler():
    url = "postgres://cityops@db.example:5432/cityops"
    on = _database_settings(DATABASE_URL=url)
    assert on["ENGINE"] == "cityops.core.postgresql"
    assert on["OPTIONS"]["server_side_binding"] is True
    assert on["OPTIONS"]["prepare_threshold"] == 2**62
    off = _database_settings(DATABASE_URL=url, CITYOPS_DB_PREPARE="false")
    assert off["OPTIONS"]["prepare_threshold"] is None


@pg_only
def test_wide_hot_statements_are_converted_once(db):
    """psycopg keeps the placeholder conversion of statements up to ``HOT_STATEMENT_PARAMS`` parameters:
    the case's and its fact's INSERT (the widest of a report) are no longer parsed on every report."""
    from psycopg import _queries

    from cityops.core.postgresql.base import HOT_STATEMENT_PARAMS
    from cityops.evaluation.models import CaseFact

    widest = max(len(model._meta.concrete_fields) for model in (Case, CaseFact))
    assert 50 < widest <= HOT_STATEMENT_PARAMS
    sql = "SELECT " + ", ".join(["%s::int"] * widest)
    with connection.cursor() as cur:
        cur.execute(sql, list(range(widest)))
        before = _queries._query2pg.cache_info().hits
        cur.execute(sql, list(range(1, widest + 1)))
        assert cur.fetchone() == tuple(range(1, widest + 1))
    assert _queries._query2pg.cache_info().hits == before + 1
