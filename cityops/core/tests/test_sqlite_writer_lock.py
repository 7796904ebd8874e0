"""Write transactions on a SQLite file queue on the backend's file lock instead of polling."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from django.db.utils import ConnectionHandler

from cityops.core.sqlite.base import DatabaseWrapper


@pytest.fixture(autouse=True)
def _own_databases(django_db_blocker):
    """These tests open their own database files, not the test database."""
    with django_db_blocker.unblock():
        yield


def _handler(path, busy_ms: int) -> ConnectionHandler:
    return ConnectionHandler(
        {
            "default": {"ENGINE": "django.db.backends.dummy"},
            "w": {
                "ENGINE": "cityops.core.sqlite",
                "NAME": str(path),
                "OPTIONS": {
                    "transaction_mode": "IMMEDIATE",
                    "timeout": busy_ms / 1000,
                    "init_command": f"PRAGMA journal_mode=WAL; PRAGMA busy_timeout={busy_ms}",
                },
            },
        }
    )


def _counter(conn: DatabaseWrapper) -> None:
    """The one-row table the writers increment."""
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE counter (v INTEGER)")
        cur.execute("INSERT INTO counter VALUES (0)")


def _increment(conn: DatabaseWrapper) -> None:
    # what ``transaction.atomic`` does around a write on SQLite
    conn.ensure_connection()
    conn._start_transaction_under_autocommit()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT v FROM counter")
            (v,) = cur.fetchone()
            cur.execute("UPDATE counter SET v = %s", [v + 1])
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def test_an_open_write_transaction_holds_the_lock_until_commit_or_rollback(tmp_path):
    db = tmp_path / "lock.sqlite3"
    conn = _handler(db, 1000)["w"]
    _counter(conn)
    probe = os.open(f"{db}-writers.lock", os.O_RDWR | os.O_CREAT)

    def free() -> bool:
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(probe, fcntl.LOCK_UN)
        return True

    try:
        assert free()
        conn._start_transaction_under_autocommit()
        assert not free()
        conn.commit()
        assert free()
        conn._start_transaction_under_autocommit()
        assert not free()
        conn.rollback()
        assert free()
    finally:
        os.close(probe)
        conn.close()


def test_many_writers_with_no_busy_wait_lose_nothing(tmp_path):
    """With SQLite's busy timeout at zero, writers that raced would fail with "database is locked";
    queued on the file lock, every one of 4 x 150 increments lands."""
    db = tmp_path / "race.sqlite3"
    handler = _handler(db, 0)
    # This connection stays open until the writers are done: were it closed, the last connection
    # would delete the WAL, and the writers opening at once would race SQLite's WAL recovery, which
    # answers "database is locked" at busy timeout zero before any write is attempted (seen once in CI).
    _counter(handler["w"])
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer():
        conn = handler["w"]  # one connection per thread
        try:
            conn.ensure_connection()
            start.wait(timeout=10)
            for _ in range(150):
                _increment(conn)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    conn = handler["w"]
    with conn.cursor() as cur:
        cur.execute("SELECT v FROM counter")
        assert cur.fetchone() == (600,)
    conn.close()


def test_a_forked_child_queues_on_its_own_lock_and_never_frees_its_parents(tmp_path):
    db = tmp_path / "fork.sqlite3"
    conn = _handler(db, 1000)["w"]
    _counter(conn)
    conn._start_transaction_under_autocommit()  # the parent holds the lock
    pid = os.fork()
    if pid == 0:  # the child: must not release the parent's lock, and must wait for its own turn
        code = 0
        try:
            conn._writer_release()
            probe = os.open(f"{db}-writers.lock", os.O_RDWR)
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                code = 3  # the parent's lock was gone
            except BlockingIOError:
                code = 0
        finally:
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    conn.commit()
    conn.close()
    assert os.waitstatus_to_exitcode(status) == 0
