"""Shared pieces of the JSON APIs."""

from __future__ import annotations

import logging
import threading

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cityops.core.errors import DomainError

log = logging.getLogger(__name__)

_per_thread = threading.local()


class FieldsOnce(serializers.Serializer):
    """An input serializer whose fields are built once per thread, not deep-copied for every request.

    DRF deep-copies each declared field for every serializer it makes: a tenth of a report's time
    through the staff API. An input serializer only validates, and its bound fields keep no state of a
    request, so each thread keeps one bound set and hands it to the serializer in use (fields point to
    their serializer through ``parent``). Not for serializers nested in others or used re-entrantly.
    """

    @property
    def fields(self):
        cache = _per_thread.__dict__.setdefault("fields", {})
        fields = cache.get(type(self))
        if fields is None:
            fields = cache[type(self)] = serializers.Serializer.fields.real_func(self)
        elif fields.serializer is not self:
            fields.serializer = self
            for field in fields.values():
                field.parent = self
        return fields


def exception_handler(exc, context):
    """Turn domain errors into clear JSON answers; never leak a stack trace to a client."""
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status)
    if isinstance(exc, ValidationError):
        return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionDenied):
        return Response({"detail": str(exc) or _("Permission denied.")}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, Http404):
        return Response({"detail": _("Not found.")}, status=status.HTTP_404_NOT_FOUND)
    return drf_exception_handler(exc, context)
