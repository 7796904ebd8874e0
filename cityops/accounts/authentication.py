"""API authentication: DRF's token scheme, with the person's roles loaded by the same query."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from cityops.accounts.selectors import token_user


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``, as DRF checks it; the memberships come with the token."""

    def authenticate_credentials(self, key):
        user = token_user(key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (user, user.auth_token)
