"""The demo toilets: placed in 潞州区's urban core, stations with services, a history via the services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cityops.cases.models import Case
from cityops.facilities.models import Facility, FacilityIssue, Inspection
from cityops.facilities.selectors import toilet_indicators
from cityops.facilities.tests.conftest import NOW

pytestmark = pytest.mark.django_db


def test_generate_toilets_is_plausible_and_idempotent(fac_world):
    from cityops.demo.toilets import BOX, generate_toilets

    made = generate_toilets(seed=7, now=NOW, count=24, stations=4, weeks=3)
    assert made == 24
    toilets = list(Facility.objects.select_related("department"))
    assert sum(f.is_station for f in toilets) == 4
    assert {f.county_code for f in toilets} == {"140403"}
    assert all(BOX[0] <= f.lat <= BOX[1] and BOX[2] <= f.lon <= BOX[3] for f in toilets)
    assert all(f.code.startswith("14040303001") and len(f.code) == 17 for f in toilets)
    assert {f.department.code for f in toilets} <= {"CGJ-HW", "LZ-CGJ"}
    assert len({f.name for f in toilets}) == 24
    assert all(f.last_inspected_at and f.last_inspected_at >= NOW - timedelta(days=9) for f in toilets)
    assert Inspection.objects.count() >= 24 * 2
    # Failures only in the last ten days, each with its case.
    failed = Inspection.objects.filter(passed=False)
    assert all(i.at >= NOW - timedelta(days=10) for i in failed)
    assert FacilityIssue.objects.count() == Case.objects.filter(type_code="03001").count()
    ind = toilet_indicators(NOW)
    assert ind["toilets"] == 24 and ind["stations"] == 4
    assert ind["station_completion"]["whole"] == 16
    assert generate_toilets(seed=7, now=NOW) == 0
