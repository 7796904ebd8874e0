"""Django's PostgreSQL backend, with server-side prepared statements for the statements that ask.

PostgreSQL parses and plans every statement it is sent. For the few statements every request runs
(the session, the person and their memberships, a case by its number, its timeline, the inserts of
a report) planning costs more than running them: at 1M cases the database's CPU per case page fell
from ~1.5 to ~0.4 ms, and per report from ~1.1 to ~0.5 ms, once their plans were kept.

Keeping every plan is not safe: after five runs PostgreSQL may switch a prepared statement to a
*generic* plan made without the values, and for a work queue filtered by a rare type it picked a
walk down the ``reported_at`` index (1M cases: 0.3 ms -> 9 ms). So nothing is prepared unless the
code says the statement's plan does not depend on its values, with ``cityops.core.db.stable_plans``;
everything else is planned afresh as before.

Parameters are bound on the server (psycopg's ``Cursor``), which preparing needs. Set
``CITYOPS_DB_PREPARE=false`` for a pooler that cannot keep prepared statements (PgBouncer before
1.21 in transaction mode): the statements then run unprepared, with the same results.
"""

from __future__ import annotations

import datetime
import re

import psycopg
from django.db.backends.postgresql import base
from psycopg import _queries
from psycopg.pq import Format

from cityops.core.db import STABLE_PLANS

# psycopg turns each statement's ``%s`` placeholders into ``$n`` by parsing it, and keeps the result
# only for statements of at most 50 parameters. A case fact's INSERT has 52: it was parsed afresh for
# every report, 8% of a report's CPU on PostgreSQL. The platform's widest hot statements (the fact's
# and the case's INSERT) fit in 64; bulk statements with more parameters stay uncached as before.
# (A module setting of psycopg's, read at each call; ``test_stable_plans`` checks that it still works.)
HOT_STATEMENT_PARAMS = 64
_queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, HOT_STATEMENT_PARAMS)


class _PipelineRowcount:
    """``rowcount`` waits for the statement's answer in pipeline mode (``cityops.core.db.pipelined``), as
    a fetch does: psycopg says -1 until the answer has come, and Django reads it. A ``save()`` took -1
    for "no row updated" and inserted the existing row; ``save(update_fields=...)`` raised and
    ``update()`` returned -1. Outside a pipeline the count is read as before."""

    @property
    def rowcount(self) -> int:
        self._fetch_pipeline()
        return super().rowcount


class PreparingCursor(_PipelineRowcount, base.ServerBindingCursor):
    """Prepares a statement on its first run when it runs under ``stable_plans``."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        if prepare is None and STABLE_PLANS.get():
            prepare = True
        return super().execute(query, params, prepare=prepare, binary=binary)


class PipelineClientCursor(_PipelineRowcount, base.Cursor):
    """Django's cursor binding parameters on the client (``server_side_binding`` off)."""


# psycopg's own loader of ``timestamptz`` text: compiled when psycopg's binary package is installed
_PSYCOPG_TZ_LOADER = psycopg.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)


class UTCTimestamptzLoader:
    """Moments as psycopg reads them, for a connection whose session time zone is UTC.

    Django reads every ``timestamptz`` through a Python subclass of psycopg's pure-Python loader, to
    give the moments its own ``tzinfo``. That parsed each value in Python: 4 µs a value, 10% of the
    toilet finder's CPU (80 moments a request) and more of a work queue's. psycopg's compiled loader
    gives the same values, in the session's time zone, and Django sets that to UTC. This class stands
    in the adapters map for it: its ``timezone`` tells Django's cursors that the loader already
    agrees (else Django registers its own loader on every cursor), and it makes psycopg's loader.
    """

    format = Format.TEXT
    timezone = datetime.UTC

    def __new__(cls, oid, context=None):
        return _PSYCOPG_TZ_LOADER(oid, context)


# The memory a sort or hash of one query may take before it spills to disk, at least (PostgreSQL's
# default is 4MB): a whole-city ranking of the grid cells groups ten thousand cells, and sorted them
# on disk (1M cases: 200 -> 150 ms with 16MB, hashed in memory). A larger server setting is kept.
WORK_MEM = "16MB"


def _sets(name: str, options: str) -> bool:
    """Whether libpq ``options`` (``-c name=value`` or ``--name=value``) set the setting ``name``."""
    return re.search(rf"(?:-c\s*|--){name}\s*=", options) is not None


class DatabaseWrapper(base.DatabaseWrapper):
    def _configure_connection(self, connection):
        """Each new connection (Django's own, or a pool's) also turns JIT compilation off and raises
        ``work_mem`` to ``WORK_MEM``, as Django sets its time zone. PostgreSQL compiled the live
        rankings' wide aggregates for 0.2-0.4 s of their 0.4-0.8 s at 1M cases, and no query of the
        platform runs long enough to earn it back. Not through libpq's startup ``options``: PgBouncer
        refuses a connection that sends them. A ``DATABASE_URL`` whose ``options`` set ``jit`` or
        ``work_mem`` is followed instead."""
        commit = super()._configure_connection(connection)
        statement = self.session_settings()
        if statement is None:
            return commit
        with connection.cursor() as cursor:
            cursor.execute(*statement)
        return True

    def session_settings(self) -> tuple[str, dict] | None:
        """The statement ``_configure_connection`` runs (None: the URL sets both)."""
        given = self.settings_dict["OPTIONS"].get("options", "")
        settings = []
        if not _sets("jit", given):
            settings.append("set_config('jit', 'off', false)")
        if not _sets("work_mem", given):
            settings.append(
                "CASE WHEN pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(%(mem)s)"
                " THEN set_config('work_mem', %(mem)s, false) END"
            )
        return (f"SELECT {', '.join(settings)}", {"mem": WORK_MEM}) if settings else None

    def get_connection_params(self):
        params = super().get_connection_params()
        if params.get("cursor_factory") is base.ServerBindingCursor:  # server_side_binding is on
            params["cursor_factory"] = PreparingCursor
        elif params.get("cursor_factory") is base.Cursor:
            params["cursor_factory"] = PipelineClientCursor
        # Django works in UTC (USE_TZ, no database TIME_ZONE) and sets the session's time zone to
        # UTC then; another time zone keeps Django's loader.
        if self.timezone is datetime.UTC:
            params["context"].register_loader("timestamptz", UTCTimestamptzLoader)
        return params
