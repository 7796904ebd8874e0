"""The per-key request count: one upsert per request, exact at the limit, old windows dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cityops.open311.models import ApiKey, ApiKeyUsage
from cityops.open311.services import RateLimited, api_key_take

NOW = datetime(2026, 11, 3, 2, 30, 15, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_counts_in_one_statement_and_refuses_past_the_rate():
    key = ApiKey.objects.create(key="k1", name="k1", rate_per_minute=3)
    with CaptureQueriesContext(connection) as ctx:
        api_key_take(api_key=key, now=NOW)
    writes = [q["sql"] for q in ctx.captured_queries if "apikeyusage" in q["sql"].lower()]
    assert len(writes) == 2  # the upsert, and once per minute the drop of old windows
    assert writes[0].startswith("INSERT") and "ON CONFLICT" in writes[0]
    with CaptureQueriesContext(connection) as ctx:
        api_key_take(api_key=key, now=NOW + timedelta(seconds=5))
    statements = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("BEGIN", "COMMIT"))]
    assert len(statements) == 1  # later requests of the minute: the upsert alone
    if connection.vendor == "postgresql":
        assert len(ctx.captured_queries) == 1  # in autocommit: no transaction around it
    api_key_take(api_key=key, now=NOW + timedelta(seconds=10))
    with pytest.raises(RateLimited) as refused:
        api_key_take(api_key=key, now=NOW + timedelta(seconds=20))
    assert refused.value.headers == {"Retry-After": "25"}
    assert ApiKeyUsage.objects.get(api_key=key).count == 4


@pytest.mark.django_db(transaction=True)
def test_a_new_minute_opens_a_window_and_drops_those_past_an_hour():
    key = ApiKey.objects.create(key="k2", name="k2", rate_per_minute=100)
    other = ApiKey.objects.create(key="k3", name="k3", rate_per_minute=100)
    old = NOW - timedelta(hours=2)
    api_key_take(api_key=key, now=old)
    api_key_take(api_key=other, now=old)
    api_key_take(api_key=key, now=NOW - timedelta(minutes=30))
    api_key_take(api_key=key, now=NOW)
    windows = sorted(ApiKeyUsage.objects.filter(api_key=key).values_list("window", flat=True))
    assert windows == [NOW.replace(second=0) - timedelta(minutes=30), NOW.replace(second=0)]
    assert ApiKeyUsage.objects.filter(api_key=other).count() == 1  # another key's windows are its own
