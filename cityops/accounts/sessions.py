"""Django's database sessions, read with a query compiled once: every signed-in request reads one."""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import router
from django.utils import timezone

from cityops.core.db import PreparedObjects, stable_plans

# The ORM's ``get`` built and compiled this lookup on every request; its plan, by the session key,
# is one for every key (PostgreSQL keeps it).
_BY_KEY = PreparedObjects(
    Session, lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now).order_by()[:1]
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        if self.model is not Session:  # a subclass chose another session model: Django's lookup
            return super()._get_session_from_db()
        with stable_plans():
            found = _BY_KEY.objects(
                key=self.session_key, now=timezone.now(), using=router.db_for_read(Session)
            )
        if not found:
            self._session_key = None
            return None
        return found[0]
