"""Registry workbook: export, import round trip, row-level errors (nothing written on any error)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from cityops.facilities import xlsx
from cityops.facilities.models import Facility
from cityops.facilities.services import facilities_import
from cityops.facilities.tests.conftest import NOW, make_toilet

pytestmark = pytest.mark.django_db


def workbook(rows, header=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header or [c.header for c in xlsx.COLUMNS])
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def row(**kw):
    base = {c.field: None for c in xlsx.COLUMNS}
    base.update(
        code="14040303001000101", name="英雄中路公厕", kind="公厕", lat=36.195, lon=113.117,
        department="LZ-CGJ", opening_hours="06:00-22:00",
    )  # fmt: skip
    base.update(kw)
    return [base[c.field] for c in xlsx.COLUMNS]


def test_round_trip(fac_world):
    make_toilet(1, toilet_type="standalone", toilet_class="2", cubicles_male=4, cubicles_female=6, urinals=3,
                accessible=True, third_washroom=True, opening_hours="24h", free=False)  # fmt: skip
    make_toilet(2, kind="station", services={"water": True, "charging": True, "reading": False},
                inspection_interval_days=3)  # fmt: skip
    qs = Facility.objects.select_related("department").prefetch_related("services").order_by("code")
    before = [(f.code, f.name, f.kind, f.toilet_type, f.toilet_class, f.cubicles, f.urinals, f.accessible,
               f.third_washroom, f.opening_hours, f.free, f.department.code, f.inspection_interval_days,
               sorted((s.service, s.in_place) for s in f.services.all())) for f in qs]  # fmt: skip
    content = xlsx.write_registry(qs)
    ws = load_workbook(io.BytesIO(content)).active
    assert ws.cell(2, 1).value == "14040303001000001"
    Facility.objects.all().delete()
    result = facilities_import(content=content, now=NOW)
    assert not result.errors and (result.created, result.updated) == (2, 0)
    after = [(f.code, f.name, f.kind, f.toilet_type, f.toilet_class, f.cubicles, f.urinals, f.accessible,
              f.third_washroom, f.opening_hours, f.free, f.department.code, f.inspection_interval_days,
              sorted((s.service, s.in_place) for s in f.services.all())) for f in qs.all()]  # fmt: skip
    assert after == before
    again = facilities_import(content=content, now=NOW)
    assert (again.created, again.updated) == (0, 2)


def test_row_level_errors_and_nothing_written(fac_world):
    content = workbook(
        [
            row(),
            row(code="1404030300100010", name=""),  # 16 digits, no name
            row(code="14040303001000103", lat="north", accessible="maybe"),
            row(code="14040303001000104", department="NOPE", opening_hours="6-22"),
            row(code="14040303001000105", lat=37.9, lon=112.5),  # outside the city
            row(),  # duplicate of row 2
        ]
    )
    result = facilities_import(content=content, now=NOW)
    got = {(e.row, e.column) for e in result.errors}
    assert {(3, "code"), (3, "name"), (4, "lat"), (4, "accessible"), (5, "department"), (5, "opening_hours"),
            (6, "position"), (7, "code")} <= got  # fmt: skip
    assert (2, "code") not in got
    assert not Facility.objects.exists()


def test_missing_columns_and_not_a_workbook(fac_world):
    result = facilities_import(content=workbook([["x"]], header=["名称 name"]), now=NOW)
    assert result.errors[0].row == 1 and "code" in result.errors[0].message
    assert facilities_import(content=b"not a zip", now=NOW).errors[0].row == 0
