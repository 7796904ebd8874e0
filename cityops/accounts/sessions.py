"""Django's database sessions, read with a kept plan: every signed-in request reads its session first."""

from __future__ import annotations

from django.contrib.sessions.backends import db

from cityops.core.db import stable_plans


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        with stable_plans():  # a lookup by the session key: one plan for every key
            return super()._get_session_from_db()
