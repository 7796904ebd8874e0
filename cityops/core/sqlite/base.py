"""Django's SQLite backend, with write transactions queued on an OS file lock.

SQLite allows one writer. A second ``BEGIN IMMEDIATE`` waits in SQLite's busy handler, which sleeps
1, 2, 5, 10 ... up to 100 ms between tries: under steady intake from several worker processes one
writer can lose the race again and again (seen: 1.5 s waits at the 99th percentile, and a 20 s busy
timeout could end in "database is locked"). Here every transaction first takes an exclusive
``flock`` on ``<database>-writers.lock``: the kernel wakes the next waiter the moment the holder
commits, so writers queue instead of polling. Per-connection file descriptors make threads of one
process (runserver) queue the same way; a process that dies releases its lock with it. In-memory
databases (the tests) have one connection and skip the lock.
"""

from __future__ import annotations

import fcntl
import os
from datetime import datetime

from django.db.backends.sqlite3 import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def convert_datetimefield_value(self, value, expression, connection):
        """A stored moment, aware in the connection's zone (UTC under USE_TZ) as Django's converter
        makes it, without its trips through ``settings``, ``is_aware`` and ``make_aware`` for every
        value (a work queue page converts 150: 4.5% of the page). sqlite3 has already parsed
        declared datetime columns; a text (an expression's result) is read with ``fromisoformat``
        as ``parse_datetime`` first tries. Anything else goes to Django's converter."""
        cls = value.__class__
        if cls is str:
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return super().convert_datetimefield_value(value, expression, connection)
            cls = datetime
        if cls is datetime:
            zone = self.connection.timezone  # None without USE_TZ
            return value.replace(tzinfo=zone) if zone is not None and value.tzinfo is None else value
        return super().convert_datetimefield_value(value, expression, connection)


# Statements in sqlite3's placeholder style, by Django's text: the same few hundred statements run
# again and again, and rewriting each with a regular expression at every run cost 5-10% of a report's
# intake (a case's INSERT names 40 columns). Bounded: emptied when full.
_QMARK: dict[str, str] = {}
_QMARK_MAX = 2048


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        converted = _QMARK.get(query)
        if converted is None:
            if len(_QMARK) >= _QMARK_MAX:
                _QMARK.clear()
            converted = _QMARK[query] = super().convert_query(query)
        return converted


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)

    _writer_fd: int | None = None
    _writer_pid: int | None = None
    _writer_held = False

    def _writer_lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None
        return f"{name}-writers.lock"

    def _writer_acquire(self) -> None:
        if self._writer_held:
            return
        if self._writer_fd is None or self._writer_pid != os.getpid():
            # A forked child shares its parent's open file, and with it the lock: open its own.
            path = self._writer_lock_path()
            if path is None:
                return
            self._writer_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._writer_pid = os.getpid()
        fcntl.flock(self._writer_fd, fcntl.LOCK_EX)
        self._writer_held = True

    def _writer_release(self) -> None:
        if self._writer_held:
            self._writer_held = False
            if self._writer_pid == os.getpid():  # never a parent's lock from a forked child
                fcntl.flock(self._writer_fd, fcntl.LOCK_UN)

    def _start_transaction_under_autocommit(self):
        self._writer_acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._writer_release()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._writer_release()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._writer_release()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._writer_release()
            if self._writer_fd is not None and self._writer_pid == os.getpid():
                os.close(self._writer_fd)
            self._writer_fd = None
