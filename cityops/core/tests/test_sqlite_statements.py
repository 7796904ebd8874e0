"""The SQLite backend rewrites each statement into sqlite3's placeholders once, as Django would."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend's cursor")

STATEMENTS = [
    "SELECT 1",
    'SELECT "a" FROM "t" WHERE "b" = %s AND "c" IN (%s, %s)',
    "SELECT '100%%' || %s",
    'INSERT INTO "t" ("a", "b") VALUES (%s, %s) RETURNING "id"',
]


@pytest.mark.django_db
def test_statements_as_django_writes_them_and_the_cache_stays_bounded(monkeypatch):
    from django.db.backends.sqlite3.base import SQLiteCursorWrapper as DjangoCursor

    from cityops.core.sqlite import base

    monkeypatch.setattr(base, "_QMARK", {})
    monkeypatch.setattr(base, "_QMARK_MAX", 3)
    with connection.cursor() as cur:
        ours = cur.cursor
        assert isinstance(ours, base.SQLiteCursorWrapper)
        django = DjangoCursor(connection.connection)
        for _round in range(2):
            for sql in STATEMENTS:
                assert ours.convert_query(sql) == django.convert_query(sql)
            named = 'SELECT "a" FROM "t" WHERE "b" = %(x)s'
            assert ours.convert_query(named, param_names=["x"]) == django.convert_query(
                named, param_names=["x"]
            )
        assert 0 < len(base._QMARK) <= 3
        cur.execute("SELECT %s || '%%', %s", ["7", 8])
        assert cur.fetchone() == ("7%", 8)
