"""Database sessions that keep the signed-in person's id in a column, read with the person in one query.

Every signed-in request reads its session and then its person. Django's store keeps the person's id
only inside the encoded data; this one also writes it to ``accounts.Session.user``, so the session,
the person and their memberships come in one statement (``accounts.selectors.session_person``). The
person read with the session is handed to the log-in backend by ``accounts.middleware``.
"""

from __future__ import annotations

import re

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends import db
from django.core.exceptions import ValidationError
from django.db import router
from django.utils import timezone

from cityops.accounts.selectors import session_person

# The person a store read with its session, when it has not read (yet).
NOT_READ = object()
# A key as Django's stores make them (lower-case letters and digits, 32 of them), up to the column's 40.
_KEY = re.compile(r"[a-z0-9]{8,40}")


class SessionStore(db.SessionStore):
    # The class name stays Django's: it is part of the salt of the encoded data, so sessions written
    # by Django's store read here and the other way round.

    def __init__(self, session_key=None):
        super().__init__(session_key)
        self.person = NOT_READ

    @classmethod
    def get_model_class(cls):
        from cityops.accounts.models import Session

        return Session

    def create_model_instance(self, data):
        obj = super().create_model_instance(data)
        obj.user_id = person_id(data.get(SESSION_KEY))
        return obj

    async def acreate_model_instance(self, data):
        obj = await super().acreate_model_instance(data)
        obj.user_id = person_id(data.get(SESSION_KEY))
        return obj

    def _validate_session_key(self, key):
        """Only a key any store could have made: anything else in the cookie (a NUL byte, which
        PostgreSQL refuses in text, or a key longer than the column) reads as no session, not as an
        error."""
        return bool(key) and _KEY.fullmatch(key) is not None

    def _get_session_from_db(self):
        found = session_person(self.session_key, now=timezone.now(), using=router.db_for_read(self.model))
        if found is None:
            self._session_key = None
            self.person = None
            return None
        session, self.person = found
        return session


def person_id(value):
    """The person's key as the column holds it, from the text the session data keeps; None if none."""
    if value is None:
        return None
    try:
        return get_user_model()._meta.pk.to_python(value)
    except ValidationError:
        return None
