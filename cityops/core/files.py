"""Files written inside a transaction, removed when it fails.

A rollback undoes the rows, not the files written on the way (the photos of a report, of an action, of
an inspection's failed items): they stayed on disk with no row pointing at them. A unit of work notes
each file it stores (``stored``); when the unit fails, its files are deleted, and when it succeeds
inside another unit they become that one's, as a savepoint's rows become its transaction's. Wrap the
whole ``transaction.atomic()`` block (``with files_removed_on_failure(), transaction.atomic():``), so a
failed commit is covered too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

_UNIT: ContextVar[list | None] = ContextVar("cityops_stored_files", default=None)


@contextlib.contextmanager
def files_removed_on_failure() -> Iterator[None]:
    outer = _UNIT.get()
    files: list = []
    token = _UNIT.set(files)
    try:
        yield
    except BaseException:
        for storage, name in reversed(files):
            with contextlib.suppress(OSError):  # the error that ended the block is the one to report
                storage.delete(name)
        raise
    finally:
        _UNIT.reset(token)
    if outer is not None:
        outer.extend(files)


def stored(field_file) -> None:
    """Note a file just written through ``field_file`` (a model's file field) in the current unit of
    work; outside one, nothing is noted."""
    unit = _UNIT.get()
    if unit is not None:
        unit.append((field_file.storage, field_file.name))
