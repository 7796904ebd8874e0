"""Log-in backend: Django's, with the person's memberships loaded with the person on every request."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from cityops.accounts.middleware import read_with_session
from cityops.accounts.selectors import user_get


class ModelBackend(DjangoModelBackend):
    """Username and password as Django checks them; the session's person comes with their roles."""

    def get_user(self, user_id):
        user = read_with_session(user_id)  # read with the session when it holds this person
        if user is None:
            try:
                user = user_get(int(user_id))
            except (TypeError, ValueError):
                return None
        return user if user is not None and self.user_can_authenticate(user) else None
