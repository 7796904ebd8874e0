"""Text search over the cases (number, description, address) that does not read the whole table.

A search for words that few cases contain (a shop's name, a street number) walked every case: 1.5 s
on SQLite at a million cases, however few it found. Each database gets a substring index that answers
the same question as ``icontains``:

- PostgreSQL: trigram GIN indexes (``pg_trgm``) on the upper-cased description and address, the
  expressions Django's ``icontains`` compares (the number's prefix has the unique key's pattern index);
  the planner weighs them against walking the queue in date order.
- SQLite: an FTS5 table with the trigram tokenizer over the description and address, kept by triggers.
  SQLite's planner cannot weigh it, so ``text_filter`` asks the index first how many cases match: a
  term in thousands of cases is found sooner by walking the queue in date order (the page fills in a
  few hundred rows), a rarer one through the index. Terms under three characters have no trigram and
  are matched as before.

The SQLite triggers belong to the cases table: a migration that rebuilds that table (SQLite alters a
column so) drops them, and the index would silently fall behind. ``ensure_text_index`` runs after every
``migrate`` (``apps.py``) and puts back what is missing, rebuilding the index when it does.
"""

from __future__ import annotations

import logging
import sqlite3

from django.db import OperationalError, connections, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

logger = logging.getLogger(__name__)
FTS_TABLE = "cases_case_text"
# A term found in more cases than this is matched by walking the queue in date order (SQLite).
DENSE = 2000
MIN_TRIGRAM = 3

_SQLITE_TRIGGERS = {
    "cases_case_text_ai": (
        "CREATE TRIGGER cases_case_text_ai AFTER INSERT ON cases_case BEGIN "
        "INSERT INTO cases_case_text(rowid, description, address) "
        "VALUES (new.id, new.description, new.address); END"
    ),
    "cases_case_text_ad": (
        "CREATE TRIGGER cases_case_text_ad AFTER DELETE ON cases_case BEGIN "
        "INSERT INTO cases_case_text(cases_case_text, rowid, description, address) "
        "VALUES ('delete', old.id, old.description, old.address); END"
    ),
    "cases_case_text_au": (
        "CREATE TRIGGER cases_case_text_au AFTER UPDATE OF description, address ON cases_case BEGIN "
        "INSERT INTO cases_case_text(cases_case_text, rowid, description, address) "
        "VALUES ('delete', old.id, old.description, old.address); "
        "INSERT INTO cases_case_text(rowid, description, address) "
        "VALUES (new.id, new.description, new.address); END"
    ),
}
_PG_INDEXES = {
    "case_description_trgm": (
        "CREATE INDEX IF NOT EXISTS case_description_trgm ON cases_case "
        "USING gin (UPPER(description::text) gin_trgm_ops)"
    ),
    "case_address_trgm": (
        "CREATE INDEX IF NOT EXISTS case_address_trgm ON cases_case "
        "USING gin (UPPER(address::text) gin_trgm_ops)"
    ),
}
_MATCHING = "SELECT rowid FROM cases_case_text WHERE cases_case_text MATCH %s"


def ensure_text_index(using: str = "default") -> bool:
    """Create whatever part of the text index is missing; True when something was (re)made.

    One transaction: a run stopped half-way (killed, or the database busy) leaves nothing half made,
    so the next ``migrate`` finds the index incomplete and makes it again.
    """
    conn = connections[using]
    if conn.vendor == "postgresql":
        with transaction.atomic(using=using), conn.cursor() as cur:
            cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'cases_case'")
            have = {row[0] for row in cur.fetchall()}
            missing = [sql for name, sql in _PG_INDEXES.items() if name not in have]
            if missing:
                cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                for sql in missing:
                    cur.execute(sql)
                # the planner weighs the indexes by the statistics of their expressions, which only
                # ANALYZE gathers: without them it took a term in a fifth of the cases for a rare one
                cur.execute("ANALYZE cases_case")
        return bool(missing)
    if conn.vendor != "sqlite":
        return False
    if sqlite3.sqlite_version_info < (3, 34, 0):  # the trigram tokenizer came with 3.34
        logger.warning(
            "SQLite %s has no trigram tokenizer (3.34 and later): the queue's text search reads the "
            "whole table.",
            sqlite3.sqlite_version,
        )
        return False
    with transaction.atomic(using=using), conn.cursor() as cur:
        cur.execute("SELECT name FROM sqlite_master WHERE name = %s OR tbl_name = 'cases_case'", [FTS_TABLE])
        have = {row[0] for row in cur.fetchall()}
        if FTS_TABLE in have and all(name in have for name in _SQLITE_TRIGGERS):
            return False
        cur.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS cases_case_text USING fts5(description, address, "
            "content='cases_case', content_rowid='id', tokenize='trigram')"
        )
        for name, sql in _SQLITE_TRIGGERS.items():
            if name not in have:
                cur.execute(sql)
        # the rows written while a trigger was missing are not in the index: read them all again
        cur.execute("INSERT INTO cases_case_text(cases_case_text) VALUES ('rebuild')")
    return True


def drop_text_index(using: str = "default") -> None:
    conn = connections[using]
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            for name in _PG_INDEXES:
                cur.execute(f"DROP INDEX IF EXISTS {name}")
        elif conn.vendor == "sqlite":
            for name in _SQLITE_TRIGGERS:
                cur.execute(f"DROP TRIGGER IF EXISTS {name}")
            cur.execute("DROP TABLE IF EXISTS cases_case_text")


def _fts_phrase(term: str) -> str:
    """The term as one FTS5 phrase: quoted, so its characters are text, not query syntax."""
    return '"' + term.replace('"', '""') + '"'


def _matches_at_most(conn, phrase: str, limit: int) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM ({_MATCHING} LIMIT %s)", [phrase, limit])  # noqa: S608
        return cur.fetchone()[0]


def text_filter(term: str, using: str = "default") -> Q:
    """Cases whose number starts with ``term`` or whose description or address contains it (any case)."""
    conn = connections[using]
    text = Q(description__icontains=term) | Q(address__icontains=term)
    if conn.vendor != "sqlite":
        return Q(number=term) | Q(number__startswith=term) | text
    # SQLite compares text byte by byte: a range on the unique index is the prefix, and lets the
    # planner combine it with the text index (LIKE 'x%' cannot use an index there)
    number = Q(number__gte=term, number__lt=term + "\U0010ffff")
    if len(term) >= MIN_TRIGRAM and "\x00" not in term:
        phrase = _fts_phrase(term)
        try:
            dense = _matches_at_most(conn, phrase, DENSE + 1) > DENSE
        except OperationalError:  # no index on this database (SQLite before 3.34, or not migrated)
            dense = True
        if not dense:
            # The index only narrows the cases down: it folds the case of every letter (Ａ and ａ,
            # É and é) where LIKE folds ASCII only, so LIKE has the last word and both paths agree.
            candidates = Q(pk__in=RawSQL(_MATCHING, [phrase]))  # noqa: S611 - the term is a parameter
            return number | (candidates & text)
    return number | text
