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
