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

    def work_mem() -> int:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_size_bytes(current_setting('work_mem')), pg_size_bytes(%s)", [WORK_MEM])
            now, least = cur.fetchone()
            return now // least if now >= least else -1

    assert work_mem() >= 1  # at least WORK_MEM, whatever the server says
    for server, after in (("1MB", 1), (f"{4 * int(WORK_MEM[:-2])}MB", 4)):
        with connection.cursor() as cur:
            cur.execute(f"SET work_mem = '{server}'")
            cur.execute(*connection.session_settings())  # as on a new connection to a server set so
        assert work_mem() == after
    options = connection.settings_dict["OPTIONS"]
    had = options.get("options")
    try:
        for given, sets in [
            ("-c work_mem=2MB", {"jit"}),
            ("--work_mem=2MB -c jit=on", set()),
            ("-cjit=on", {"work_mem"}),
            # other settings whose names hold these: neither is set by them
            ("-c maintenance_work_mem=1GB -c jit_above_cost=500000", {"jit", "work_mem"}),
        ]:
            options["options"] = given
            statement = connection.session_settings()
            assert {name for name in ("jit", "work_mem") if statement and f"'{name}'" in statement[0]} == sets
    finally:
        if had is None:
            del options["options"]
        else:
            options["options"] = had
