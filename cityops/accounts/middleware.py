"""Django's authentication middleware, with the person the session already read handed to the backend.

``accounts.sessions.SessionStore`` reads the session and its person in one query. Django's
``auth.get_user`` then asks the log-in backend for the person by id, with no way to pass what the
session read; while it runs, the request's session store is offered through a context variable, and
``accounts.backends.ModelBackend`` takes the person from it when the ids agree. Everything else
(the backend's checks, the session's password hash) is Django's.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.contrib import auth
from django.contrib.auth import middleware
from django.utils.functional import SimpleLazyObject

_STORE: ContextVar = ContextVar("cityops_session_store", default=None)


def read_with_session(user_id):
    """The person the current request's session store read with its session, if it is ``user_id``."""
    person = getattr(_STORE.get(), "person", None)
    if person is None or getattr(person, "pk", None) is None or str(person.pk) != str(user_id):
        return None
    return person


def get_user(request):
    if not hasattr(request, "_cached_user"):
        token = _STORE.set(request.session)
        try:
            request._cached_user = auth.get_user(request)
        finally:
            _STORE.reset(token)
    return request._cached_user


class AuthenticationMiddleware(middleware.AuthenticationMiddleware):
    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))
