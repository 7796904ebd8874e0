"""On PostgreSQL moments are read by psycopg's compiled loader: the same values Django's loader gives."""

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
from psycopg.pq import Format

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's timestamptz loader"),
]

MOMENTS = [
    "2026-11-29 06:30:00+00",
    "2026-11-29 14:30:00.123456+08",
    "2027-02-10 23:59:59.999999-05",
    "1970-01-01 00:00:00+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]


def _read(cursor) -> list:
    cursor.execute(
        "SELECT v::timestamptz FROM unnest(%s::text[]) AS v UNION ALL SELECT NULL::timestamptz",
        [MOMENTS],
    )
    return [row[0] for row in cursor.fetchall()]


def test_moments_equal_what_djangos_loader_reads():
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    from cityops.core.postgresql.base import UTCTimestamptzLoader

    with connection.cursor() as cur:
        # the platform's loader, kept by Django's cursors (they register their own when it disagrees)
        assert connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT) is UTCTimestamptzLoader
        assert cur.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT) is UTCTimestamptzLoader
        fast = _read(cur)
    with connection.cursor() as cur:
        register_tzloader(connection.timezone, cur.cursor)  # Django's own, on this cursor only
        assert cur.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT) is not UTCTimestamptzLoader
        slow = _read(cur)
    assert fast == slow and fast[-1] is None
    assert all(v.tzinfo is datetime.UTC for v in fast[:-1])
    assert fast[1] == datetime.datetime(2026, 11, 29, 6, 30, 0, 123456, tzinfo=datetime.UTC)


def test_a_model_reads_its_moments_in_utc():
    from django.contrib.auth import get_user_model

    from cityops.cases.models import CaseCounter  # noqa: F401 (the app is loaded)

    user = get_user_model().objects.create_user(username="t-moments")
    user.last_login = datetime.datetime(
        2026, 3, 1, 8, 0, 0, 42, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
    )
    user.save()
    got = get_user_model().objects.get(pk=user.pk).last_login
    assert (
        got == datetime.datetime(2026, 3, 1, 0, 0, 0, 42, tzinfo=datetime.UTC) and got.tzinfo is datetime.UTC
    )
