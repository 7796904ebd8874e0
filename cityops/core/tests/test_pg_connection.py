"""How the platform's PostgreSQL connections are set up."""

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's settings"),
]


def test_the_platform_connects_without_jit_compilation():
    """JIT compiled the live rankings' aggregates for half of their time (config/settings.py)."""
    with connection.cursor() as cur:
        cur.execute("SHOW jit")
        assert cur.fetchone()[0] == "off"


def test_the_connection_sends_no_startup_options():
    """PgBouncer refuses a connection whose startup packet carries libpq ``options`` (before 1.20,
    and for any setting it does not track after): JIT is turned off by a statement instead."""
    assert "options" not in connection.get_connection_params()
