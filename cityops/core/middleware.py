"""Requests too large for the platform, refused before their body is read.

Django bounds the form fields of a request, not its files: each file part is spooled to a temporary
file, so a 10 GB upload would be written to disk before any view could refuse it. The proxy's body
limit (docs/deployment.md) is a second line, not the one the app relies on. WSGIRequest reads a body
without Content-Length as empty, so the declared length is all there is to check.

A Content-Length that is not a number at all is refused too: Django's stream reads it as no body, but
``request.body`` parses it again and fails, so a form posted with one ended in a server error. A length
Django can read (a negative one, say) is left to Django.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

MB = 1024 * 1024  # as in "a photo may be at most 15 MB" (core/images.py)
TOO_LARGE = gettext_noop("The request is too large: at most %(mb)s MB may be sent at once.")
NOT_A_LENGTH = gettext_noop("The Content-Length header is not a number.")


class RequestSizeLimitMiddleware:
    """Answer 413, in the format of the channel asked, when Content-Length exceeds
    ``CITYOPS_MAX_REQUEST_MB``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit_mb = settings.CITYOPS_MAX_REQUEST_MB  # read per request: a test or an operator may change it
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return refusal(request, 400, NOT_A_LENGTH)
        if length > limit_mb * MB:
            return refusal(request, 413, TOO_LARGE, mb=limit_mb)
        return self.get_response(request)


def refusal(request: HttpRequest, status: int, message: str, **params) -> HttpResponse:
    """``message`` translated and in the channel's format: the staff API's ``{"detail": ...}``, the
    Open311 error list, or a short page."""
    # LocaleMiddleware has not run yet: the language is negotiated here the same way
    with translation.override(translation.get_language_from_request(request)):
        text = _(message) % params
        path = request.path_info
        if path.startswith("/api/"):
            return JsonResponse({"detail": text}, status=status)
        if path.startswith("/open311/"):
            from cityops.open311.render import errors  # the adapter's own error list; core loads first

            # the suffix picks the format, as in the adapter's own errors (XML without one)
            return errors("json" if path.endswith(".json") else "xml", status, text)
        page = (
            f'<!doctype html><html lang="{translation.get_language()}"><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{status}</title><p>{escape(text)}</p></html>"
        )
        return HttpResponse(page, status=status)
