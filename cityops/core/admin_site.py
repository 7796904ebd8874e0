"""The admin site: Django's, with one guard for every page of it.

The admin's lists put the filters typed into the address (``?state__exact=...``, ``?number=...``) into
their queries as they are. PostgreSQL refuses a NUL in text, so a NUL in any of them was a server error
on every list with a text filter. Every admin view passes through ``admin_view``; a NUL in the address's
parameters is answered there as a bad request.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.core.validators import ProhibitNullCharactersValidator
from django.http import HttpResponseBadRequest


class AdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def guarded(request, *args, **kwargs):
            if any("\x00" in value for values in request.GET.lists() for value in values[1]):
                return HttpResponseBadRequest(
                    str(ProhibitNullCharactersValidator.message), content_type="text/plain; charset=utf-8"
                )
            return inner(request, *args, **kwargs)

        return guarded


class AdminConfig(DjangoAdminConfig):
    default_site = "cityops.core.admin_site.AdminSite"
