"""The case page's floor: what a staff page costs before it renders anything.

``case_floor`` (``/bench/case-floor/<number>/``) does what the case page does up to its rendering (the
signed-in session and person, the case read through its selector, the CSRF token the page's forms
carry) and answers with a body of the page's size. Its ratio to the raw baseline's case is the best
ratio any case page can reach on that database: no template, cache or serializer can do better.

The platform runs under ``benchmarks.floor_settings``: the production settings with this one route
added after all of the platform's (``floor_urls``), so every other path resolves as in production.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.views.decorators.http import require_GET

from cityops.cases.views import _get_case

# A case page's size (14-16 KB on the benchmark's cases)
BODY = "<!doctype html>" + "案" * 4800


@login_required
@require_GET
def case_floor(request, number: str) -> HttpResponse:
    case = _get_case(request, number)
    return HttpResponse(f"{BODY}{case.number}{get_token(request)}")
