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


def test_the_platform_connects_with_enough_memory_to_sort_a_ranking_in_memory():
    """``work_mem`` is raised to ``WORK_MEM`` on each new connection, and a larger setting of the
    server's is kept; a ``DATABASE_URL`` whose ``options`` set it (or ``jit``) is followed."""
    from cityops.core.postgresql.base import WORK_MEM

    def show(name: str) -> str:
        with connection.cursor() as cur:
            cur.execute(f"SHOW {name}")
            return cur.fetchone()[0]

    assert show("work_mem") == WORK_MEM
    for server, after in (("1MB", WORK_MEM), ("64MB", "64MB")):
        with connection.cursor() as cur:
            cur.execute(f"SET work_mem = '{server}'")
            cur.execute(*connection.session_settings())  # as on a new connection to a server set so
        assert show("work_mem") == after
    options = connection.settings_dict["OPTIONS"]
    try:
        options["options"] = "-c work_mem=2MB"
        assert "work_mem" not in connection.session_settings()[0]
        assert "jit" in connection.session_settings()[0]
        options["options"] = "-c work_mem=2MB -c jit=on"
        assert connection.session_settings() is None
    finally:
        del options["options"]
