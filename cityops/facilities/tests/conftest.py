"""Fixtures of the facilities tests: the loop's world plus the inspection templates."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from cityops.cases.tests import conftest as cases_conftest
from cityops.cases.tests.conftest import _media_in_tmp, png_bytes, upload  # noqa: F401

loop_world = cases_conftest.loop_world

TZ = ZoneInfo("Asia/Shanghai")
# A Tuesday morning (a working day) in 2026.
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=TZ)
CENTRE = (36.195, 113.117)


@pytest.fixture
def fac_world(loop_world):
    call_command("facilities_load_templates", stdout=io.StringIO())
    return loop_world


def make_toilet(seq=1, *, lat=CENTRE[0], lon=CENTRE[1], department="LZ-CGJ", now=NOW, **kw):
    from cityops.catalog.codes import component_identifier
    from cityops.facilities.services import FacilityInput, facility_save

    data = {
        "code": component_identifier("140403", "03001", seq),
        "name": kw.pop("name", f"测试公厕{seq}"),
        "lat": lat,
        "lon": lon,
        "department": department,
        "address": kw.pop("address", f"英雄中路{seq}号"),
        **kw,
    }
    return facility_save(data=FacilityInput(**data), now=now)


def answers(fail=(), photo_for=(), notes=None):
    from cityops.facilities.services import ItemAnswer

    keys = ["no-excrement", "no-flies", "no-odour", "soap", "paper"]
    return [
        ItemAnswer(
            item=k,
            passed=k not in fail,
            note=(notes or {}).get(k, ""),
            photo=upload(png_bytes(), f"{k}.png", "image/png") if k in photo_for else None,
        )
        for k in keys
    ]
