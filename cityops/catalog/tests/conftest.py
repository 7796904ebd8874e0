"""Fixtures of the catalogue tests: a loaded catalogue, workbook helpers, a canonical dump of the tables."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.utils import translation
from openpyxl import load_workbook

from cityops.catalog import cache
from cityops.catalog.models import (
    CaseStandard,
    CatalogType,
    CatalogVersion,
    MajorClass,
    StandardDefault,
    StepLimit,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english(settings):
    """Messages are asserted by their English msgids, whatever the project's default language."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def loaded(db):
    call_command("catalog_load", stdout=io.StringIO())


def dump(with_ids: bool = False) -> dict:
    """Every stored value of the reference tables in a stable order (ids only when asked)."""
    id_ = ("id",) if with_ids else ()
    standards = []
    for s in CaseStandard.objects.prefetch_related("codes", "conditions").order_by("order"):
        standards.append(
            (
                *((s.id,) if with_ids else ()),
                s.key,
                s.order,
                s.topic,
                s.file_when,
                s.note,
                json.dumps(s.sources, ensure_ascii=False, sort_keys=True),
                [(c.code, c.position) for c in s.codes.all()],
                [
                    (
                        *((c.id,) if with_ids else ()),
                        c.order,
                        c.urgency,
                        c.file_when,
                        c.stage,
                        str(c.limit),
                        c.unit,
                        c.close_when,
                        c.basis,
                        c.clock_starts,
                        c.area_class,
                    )
                    for c in s.conditions.all()
                ],
            )
        )
    return {
        "majors": list(
            MajorClass.objects.order_by("kind", "code").values_list(*id_, "kind", "code", "name", "local")
        ),
        "types": list(
            CatalogType.objects.order_by("kind", "code").values_list(
                *id_,
                "kind",
                "code",
                "name",
                "major__code",
                "component__code",
                "local",
                "is_public",
                "keywords",
                "is_active",
                "note",
            )
        ),
        "standards": standards,
        "steps": list(StepLimit.objects.order_by("step").values_list(*id_, "step", "limit", "unit")),
        "defaults": list(
            StandardDefault.objects.order_by("urgency").values_list(*id_, "urgency", "limit", "unit")
        ),
    }


def version() -> int:
    return CatalogVersion.objects.filter(pk=1).values_list("number", flat=True).first() or 0


def open_book(content: bytes):
    return load_workbook(io.BytesIO(content))


def save_book(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def sheet(wb, en: str):
    return next(ws for ws in wb.worksheets if ws.title.endswith(" " + en))


def column(ws, en: str) -> int:
    """1-based index of the column whose header ends with the English word ``en``."""
    for cell in ws[1]:
        if cell.value and str(cell.value).split()[-1] == en:
            return cell.column
    raise KeyError(en)


def header(ws, en: str) -> str:
    return ws.cell(row=1, column=column(ws, en)).value


def find_row(ws, **match) -> int:
    """The first data row whose cells equal ``match`` (English header word -> value)."""
    cols = {en: column(ws, en) for en in match}
    for r in range(2, ws.max_row + 1):
        if all(ws.cell(row=r, column=c).value == match[en] for en, c in cols.items()):
            return r
    raise LookupError(match)


def cell_values(content: bytes) -> dict[str, list[tuple]]:
    wb = open_book(content)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
