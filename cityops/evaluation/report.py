"""The monthly evaluation report (综合评价通报): its content once, rendered as a page and as a workbook."""

from __future__ import annotations

import io
from datetime import datetime

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from cityops.evaluation import formulas, selectors, services
from cityops.organization.selectors import sees_whole_city

# The kind split shown beside the totals: components and matters close at very different rates.
SPLIT_KEYS = ("close_rate", "handle_ontime_rate")


def columns() -> list[dict]:
    cols = [
        {"key": i.key, "name": str(i.name), "unit": str(formulas.UNIT_LABELS[i.unit])}
        for i in formulas.INDICATORS
    ]
    for key in SPLIT_KEYS:
        name = formulas.INDICATOR_BY_KEY[key].name
        cols.append(
            {"key": f"component.{key}", "name": _("%(name)s (components)") % {"name": name}, "unit": "%"}
        )
        cols.append({"key": f"matter.{key}", "name": _("%(name)s (matters)") % {"name": name}, "unit": "%"})
    return cols


def _value(row: dict, key: str):
    if "." in key:
        kind, k = key.split(".", 1)
        return row["by_kind"][kind][k]
    return row["indicators"][key]


def build(user, month: str, *, now: datetime) -> dict:
    start, end = selectors.month_bounds(month)
    q = selectors.Query(start=start, end=end)
    p = q.period(now)
    if sees_whole_city(user):
        # the dashboard's figures of the month: past days from their snapshots, today live, a month
        # that has ended counted once per change of its facts (the live GROUP BY of a month: ~1 s)
        figures = selectors.city_figures(q, now=now, headers=services.period_headers(q, now=now))
        by_department, by_area = figures["departments"], figures["area_counters"]
    else:
        # a month that has ended is kept until a fact of its days changes (rows of its days made here)
        tracked = services.snapshot_days_track(first=start, last=end) if p.as_of >= p.end else None
        by_department, by_area = selectors.counters_by_department_and_area(
            user, start=p.start, end=p.end, now=now, level=q.level, tracked=tracked
        )
    cols = columns()
    sections = []
    for key, title, rows in (
        ("departments", _("Departments"), selectors.department_rows_of(user, by_department, kind=q.kind)),
        ("areas", _("Districts and counties"), selectors.area_rows_of(by_area, level=q.level, kind=q.kind)),
    ):
        rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))
        for r in rows:
            r["cells"] = [_value(r, c["key"]) for c in cols]
        sections.append({"key": key, "title": title, "rows": rows})
    return {"month": month, "start": start, "end": end, "columns": cols, "sections": sections, "as_of": now}


def xlsx_bytes(report: dict) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    head = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF2F7")
    for section in report["sections"]:
        ws = wb.create_sheet(section["title"][:31])
        ws.append([_("Monthly evaluation report %(month)s") % {"month": report["month"]}])
        ws["A1"].font = Font(bold=True, size=14)
        ws.append([_("Period: %(start)s to %(end)s") % {"start": report["start"], "end": report["end"]}])
        header = [_("Rank"), _("Code"), _("Name"), _("Score"), _("Grade")] + [
            f"{c['name']} ({c['unit']})" for c in report["columns"]
        ]
        ws.append(header)
        for cell in ws[3]:
            cell.font, cell.fill = head, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for r in section["rows"]:
            ws.append([r["rank"], r["code"], r["name"], r["score"], r["grade"], *r["cells"]])
        ws.freeze_panes = "D4"
        for i in range(1, len(header) + 1):
            ws.column_dimensions[get_column_letter(i)].width = 12 if i != 3 else 24
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
