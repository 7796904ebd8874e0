"""How often a process re-checks that its cached reference data is still current.

The catalogue and the working calendar are cached per process and checked against a version row in
the database. Checking on every use cost several queries per case write; checking at most every
``CITYOPS_REFERENCE_RECHECK_SECONDS`` (default 2 s) keeps other processes' edits visible within that
time. Edits made in this process clear its cache at once.
"""

from __future__ import annotations

import time

from django.conf import settings


def recheck_due(last_checked: float | None) -> bool:
    interval = float(getattr(settings, "CITYOPS_REFERENCE_RECHECK_SECONDS", 2.0))
    return last_checked is None or interval <= 0 or time.monotonic() - last_checked >= interval


def now() -> float:
    return time.monotonic()
