"""The SQLite backend reads stored moments as Django's own converter does, only faster."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend's converter")

VALUES = [
    "2026-11-29 03:30:23.733488",
    "2026-11-29 03:30:23",
    "2026-11-29 03:30",
    "2026-11-29",
    "2026-11-29T03:30:23+08:00",
    "2026-11-29 03:30:23.5+00:00",
    None,
    datetime(2026, 11, 29, 3, 30, 23, 733488),  # as sqlite3 parses a declared datetime column
    datetime(2026, 11, 29, 3, 30, tzinfo=UTC),
]


def convert_both(value):
    # imported here: the SQLite backend's modules load only where SQLite is the database
    from django.db.backends.sqlite3.operations import DatabaseOperations as DjangoOperations

    ours = connection.ops.convert_datetimefield_value(value, None, connection)
    django = DjangoOperations(connection).convert_datetimefield_value(value, None, connection)
    return ours, django


@pytest.mark.parametrize("value", VALUES)
def test_same_moment_and_zone_as_djangos_converter(value):
    ours, django = convert_both(value)
    assert ours == django and getattr(ours, "tzinfo", None) == getattr(django, "tzinfo", None)
    if value is not None and "+" not in str(value):
        assert ours.tzinfo is UTC  # stored naive, in UTC: read back aware


@pytest.mark.parametrize("value", VALUES)
def test_without_use_tz_moments_stay_naive_as_in_django(value, settings):
    settings.USE_TZ = False
    ours, django = convert_both(value)
    assert ours == django and getattr(ours, "tzinfo", None) == getattr(django, "tzinfo", None)


def test_a_text_only_djangos_parser_reads_goes_to_it():
    assert convert_both("2026-11-29 3:30:23") == (datetime(2026, 11, 29, 3, 30, 23, tzinfo=UTC),) * 2
    assert type(connection.ops).__module__ == "cityops.core.sqlite.base"
