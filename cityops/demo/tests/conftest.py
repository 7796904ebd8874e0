from __future__ import annotations

import io

import pytest
from django.core.management import call_command

COMMANDS = (
    "core_calendar_seed",
    "geography_load",
    "catalog_load",
    "organization_load",
    "cases_load_dispatch_rules",
)


@pytest.fixture
def world(demo_people, settings, tmp_path):
    """The reference data the demo generator needs, loaded by the real commands, and the demo people."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CITYOPS_DEMO = True
    for name in COMMANDS:
        call_command(name, stdout=io.StringIO(), stderr=io.StringIO())
    return demo_people
