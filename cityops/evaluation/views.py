"""The monthly evaluation report as a printable page and as an xlsx workbook."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cityops.evaluation import report
from cityops.organization.selectors import roles_of

MONTH = re.compile(r"^(19|20)\d\d-(0[1-9]|1[0-2])$")


def _month(request: HttpRequest) -> str:
    if not roles_of(request.user):
        raise Http404(_("No such page."))
    month = request.GET.get("month", "")
    if not MONTH.match(month):
        month = timezone.localdate().strftime("%Y-%m")
    return month


@login_required
@require_GET
def monthly_report(request: HttpRequest) -> HttpResponse:
    month = _month(request)
    data = report.build(request.user, month, now=timezone.now())
    return render(request, "evaluation/report.html", {"report": data})


@login_required
@require_GET
def monthly_report_xlsx(request: HttpRequest) -> HttpResponse:
    month = _month(request)
    data = report.build(request.user, month, now=timezone.now())
    response = HttpResponse(
        report.xlsx_bytes(data),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="evaluation-{month}.xlsx"'
    return response
