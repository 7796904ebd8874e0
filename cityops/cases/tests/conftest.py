"""Shared fixtures of the case tests: a loaded city in which the loop can run."""

from __future__ import annotations

import pytest
from django.core.management import call_command

# A point in 潞州区 (140403), where the demo's dispatch rules send small ads (07001) to LZ-CGJ.
LZ_LAT, LZ_LON = 36.195, 113.117


def _load_world() -> None:
    for name in ("core_calendar_seed", "geography_load", "catalog_load", "cases_load_dispatch_rules"):
        call_command(name, stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.fixture
def loop_world(demo_people):
    """Calendar, geography, catalogue, departments, demo people and dispatch rules, loaded through the
    real commands. Returns the demo people by username."""
    _load_world()
    return demo_people
