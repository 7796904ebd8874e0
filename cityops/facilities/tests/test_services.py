"""The inspection loop: a failed item opens one case at the managing department; passes check it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from cityops.cases.choices import State
from cityops.cases.models import Case
from cityops.cases.services import ActionInput, case_act
from cityops.core.errors import DomainError, NotAllowed
from cityops.facilities.models import Facility, FacilityIssue, Inspection
from cityops.facilities.services import FacilityInput, facility_save, inspection_submit, templates_load
from cityops.facilities.tests.conftest import NOW, answers, make_toilet, png_bytes, upload

pytestmark = pytest.mark.django_db


def inspect(world, code, fail=(), *, at=NOW, who="demo-inspector", **kw):
    return inspection_submit(facility=code, answers=answers(fail, **kw), actor=world[who], now=at)


def test_failed_paper_opens_one_case_dispatched_with_the_standards_limit(fac_world):
    toilet = make_toilet()
    out = inspect(fac_world, toilet.code, fail=("paper",), photo_for=("paper",), notes={"paper": "无纸"})
    assert len(out.opened) == 1 and not out.repeated
    case = Case.objects.get(number=out.opened[0])
    assert case.state == State.DISPATCHED
    assert case.department.code == "LZ-CGJ"
    assert case.type_code == "03001" and case.kind == "component" and case.source == "inspection"
    assert "有手纸" in case.description and toilet.name in case.description
    assert case.condition_ref == "S026#1"
    assert (case.handle_limit, case.handle_unit) == (Decimal(2), "work_hour")
    # Tuesday 09:00 + 2 working hours (periods 08:30-12:00) = 11:00.
    assert case.handle_due_at == NOW + timedelta(hours=2)
    assert (case.lat, case.lon) == (toilet.lat, toilet.lon)
    assert case.attachments.count() == 1
    assert case.inspector == fac_world["demo-inspector"]
    issue = FacilityIssue.objects.get()
    assert (issue.facility, issue.item.key, issue.case_number) == (toilet, "paper", case.number)
    ins = Inspection.objects.get()
    assert not ins.compliant and not ins.passed
    assert ins.results.get(item__key="paper").photo
    toilet.refresh_from_db()
    assert toilet.last_inspection == ins and toilet.last_inspected_at == NOW


def test_repeat_failure_adds_to_the_open_case(fac_world):
    toilet = make_toilet()
    first = inspect(fac_world, toilet.code, fail=("paper",))
    second = inspect(fac_world, toilet.code, fail=("paper", "soap"), at=NOW + timedelta(hours=1))
    assert second.repeated == first.opened
    assert len(second.opened) == 1  # soap is a new item
    assert Case.objects.count() == 2
    issue = FacilityIssue.objects.get(item__key="paper")
    assert issue.fail_count == 2 and issue.resolved_at is None


def test_pass_while_the_department_holds_the_case_is_noted(fac_world):
    toilet = make_toilet()
    number = inspect(fac_world, toilet.code, fail=("paper",)).opened[0]
    out = inspect(fac_world, toilet.code, at=NOW + timedelta(hours=1))
    assert out.noted == [number] and not out.checked
    assert Case.objects.get(number=number).state == State.DISPATCHED
    issue = FacilityIssue.objects.get()
    assert issue.passing_since == NOW + timedelta(hours=1) and issue.resolved_at is None


def test_passing_inspection_checks_the_case_in_to_check(fac_world):
    toilet = make_toilet()
    number = inspect(fac_world, toilet.code, fail=("paper",)).opened[0]
    handler = fac_world["demo-handler"]
    t = NOW + timedelta(minutes=30)
    case_act(number=number, data=ActionInput(action="accept"), actor=handler, now=t)
    case_act(
        number=number,
        data=ActionInput(action="report_done", note="已补充"),
        actor=handler,
        photos=[upload(png_bytes(), "done.png", "image/png")],
        now=t + timedelta(minutes=30),
    )
    out = inspect(fac_world, toilet.code, at=NOW + timedelta(hours=2))
    assert out.checked == [number]
    assert Case.objects.get(number=number).state == State.TO_CLOSE
    issue = FacilityIssue.objects.get()
    assert issue.resolved_at == NOW + timedelta(hours=2) and issue.resolution == "checked"
    assert Inspection.objects.order_by("at").last().compliant
    # A later failure of the same item opens a new case.
    again = inspect(fac_world, toilet.code, fail=("paper",), at=NOW + timedelta(hours=3))
    assert again.opened and again.opened != [number]


def test_failure_while_waiting_for_the_check_fails_the_check(fac_world):
    toilet = make_toilet()
    number = inspect(fac_world, toilet.code, fail=("paper",)).opened[0]
    handler = fac_world["demo-handler"]
    case_act(number=number, data=ActionInput(action="accept"), actor=handler, now=NOW)
    case_act(
        number=number,
        data=ActionInput(action="report_done"),
        actor=handler,
        photos=[upload(png_bytes(), "done.png", "image/png")],
        now=NOW + timedelta(minutes=10),
    )
    out = inspect(fac_world, toilet.code, fail=("paper",), at=NOW + timedelta(hours=1))
    assert out.repeated == [number] and not out.opened
    case = Case.objects.get(number=number)
    assert case.state == State.HANDLING and case.rework_count == 1


def test_only_inspectors_inspect_and_every_item_is_answered(fac_world):
    toilet = make_toilet()
    with pytest.raises(NotAllowed):
        inspect(fac_world, toilet.code, who="demo-handler")
    from cityops.facilities.services import ItemAnswer

    with pytest.raises(DomainError) as exc:
        inspection_submit(
            facility=toilet.code,
            answers=[ItemAnswer(item="paper", passed=True)],
            actor=fac_world["demo-inspector"],
            now=NOW,
        )
    assert exc.value.code == "items_missing"
    assert not Inspection.objects.exists()


def test_a_city_adds_an_item_as_data(fac_world, tmp_path):
    from cityops.facilities.models import ChecklistItem
    from cityops.facilities.services import ItemAnswer

    ChecklistItem.objects.filter(key="facilities-intact").update(is_active=True)
    toilet = make_toilet()
    ans = [*answers(), ItemAnswer(item="facilities-intact", passed=False, note="门锁坏")]
    out = inspection_submit(facility=toilet.code, answers=ans, actor=fac_world["demo-inspector"], now=NOW)
    case = Case.objects.get(number=out.opened[0])
    assert case.condition_ref == "S027#1" and case.handle_unit == "work_day"
    ins = out.inspection
    assert ins.compliant and not ins.passed  # the added item does not count for 三无两有
    assert templates_load() == 8  # loading again keeps the city's switch
    assert ChecklistItem.objects.get(key="facilities-intact").is_active is True


def test_facility_save_checks_code_position_and_department(fac_world):
    bad = FacilityInput(code="14040303002000001", name="x", lat=36.195, lon=113.117, department="NOPE")
    with pytest.raises(DomainError) as exc:
        facility_save(data=bad, now=NOW)
    assert "03001" in exc.value.message and "NOPE" in exc.value.message
    wrong_county = FacilityInput(
        code="14040403001000001", name="x", lat=36.195, lon=113.117, department="LZ-CGJ"
    )
    with pytest.raises(DomainError):
        facility_save(data=wrong_county, now=NOW)
    station = make_toilet(2, kind="station", services={"water": True, "charging": False})
    assert station.is_station and station.county_code == "140403"
    assert Facility.objects.get(pk=station.pk).services.count() == 2


def test_an_inspection_that_fails_late_leaves_no_photo_behind(fac_world, settings, monkeypatch):
    """Its failed items' photos and the photos of the cases it opens were stored on the way; the rollback
    took the rows, and the files stayed on disk with no row pointing at them."""
    from pathlib import Path

    from cityops.facilities import services

    toilet = make_toilet()

    def files():
        root = Path(settings.MEDIA_ROOT)
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    before = files()

    def broken(**kw):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services.FacilityIssue.objects, "create", broken)
    with pytest.raises(RuntimeError):
        inspect(fac_world, toilet.code, fail=("paper", "soap"), photo_for=("paper", "soap"))
    assert files() == before and not Inspection.objects.exists() and not Case.objects.exists()
    monkeypatch.undo()
    out = inspect(fac_world, toilet.code, fail=("paper",), photo_for=("paper",))
    kept = files()
    assert len(kept) == len(before) + 2 and len(out.opened) == 1  # the result's photo and the case's
