"""Streamed exports of a filtered case list (CSV and xlsx), a year of cases without timing out.

Rows are read with ``values()`` and ``iterator(chunk_size=...)``, so memory stays flat; the CSV is
streamed as it is produced, the workbook is written row by row (write-only mode) into a temporary file.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from datetime import datetime

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.cases.choices import Kind, Source, State, Urgency

CHUNK = 2000

FIELDS = [
    "number",
    "source",
    "kind",
    "type_code",
    "type_name",
    "urgency",
    "state",
    "description",
    "address",
    "lat",
    "lon",
    "county_code",
    "township_code",
    "community_code",
    "grid_code",
    "department__name",
    "reported_at",
    "filed_at",
    "dispatched_at",
    "handled_at",
    "closed_at",
    "due_at",
    "handle_due_at",
    "rework_count",
    "return_count",
]
PRIVATE = ["reporter_name", "reporter_phone"]
TIMES = {"reported_at", "filed_at", "dispatched_at", "handled_at", "closed_at", "due_at", "handle_due_at"}


def _headers(with_phone: bool) -> list[str]:
    labels = {
        "number": _("Case number"),
        "source": _("Source"),
        "kind": _("Kind"),
        "type_code": _("Type code"),
        "type_name": _("Type"),
        "urgency": _("Urgency"),
        "state": _("State"),
        "description": _("Description"),
        "address": _("Address"),
        "lat": _("Latitude"),
        "lon": _("Longitude"),
        "county_code": _("County"),
        "township_code": _("Township"),
        "community_code": _("Community"),
        "grid_code": _("Grid cell"),
        "department__name": _("Responsible department"),
        "reported_at": _("Reported"),
        "filed_at": _("Filed"),
        "dispatched_at": _("Dispatched"),
        "handled_at": _("Handled"),
        "closed_at": _("Closed"),
        "due_at": _("Due"),
        "handle_due_at": _("Handling due"),
        "rework_count": _("Rework count"),
        "return_count": _("Return count"),
        "reporter_name": _("Reporter name"),
        "reporter_phone": _("Reporter phone"),
    }
    return [str(labels[f]) for f in _fields(with_phone)]


def _fields(with_phone: bool) -> list[str]:
    return FIELDS + (PRIVATE if with_phone else [])


def rows(qs, *, with_phone: bool) -> Iterator[list]:
    """Export rows (labels for vocabularies, local times as text), read in chunks."""
    fields = _fields(with_phone)
    labels = {
        "source": dict(Source.choices),
        "kind": dict(Kind.choices),
        "urgency": dict(Urgency.choices),
        "state": dict(State.choices),
    }
    labels = {k: {code: str(label) for code, label in v.items()} for k, v in labels.items()}
    tz = timezone.get_current_timezone()
    for row in qs.values(*fields).iterator(chunk_size=CHUNK):
        out = []
        for f in fields:
            v = row[f]
            if f in labels:
                v = labels[f].get(v, v)
            elif f in TIMES:
                v = timezone.localtime(v, tz).strftime("%Y-%m-%d %H:%M") if v else ""
            elif v is None:
                v = ""
            out.append(v)
        yield out


def _filename(now: datetime, ext: str) -> str:
    return f"cases-{timezone.localtime(now).strftime('%Y%m%d-%H%M')}.{ext}"


class _Echo:
    def write(self, value):
        return value


def csv_response(qs, *, with_phone: bool, now: datetime) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def stream():
        yield "\ufeff"  # a byte order mark, so spreadsheet programs read the Chinese text as UTF-8
        yield writer.writerow(_headers(with_phone))
        for row in rows(qs, with_phone=with_phone):
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(now, "csv")}"'
    return response


def xlsx_response(qs, *, with_phone: bool, now: datetime) -> FileResponse:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("Cases")[:31])
    ws.append(_headers(with_phone))
    for row in rows(qs, with_phone=with_phone):
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    tmp = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (closed by FileResponse)
    wb.save(tmp)
    tmp.seek(0)
    return FileResponse(
        tmp,
        as_attachment=True,
        filename=_filename(now, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
