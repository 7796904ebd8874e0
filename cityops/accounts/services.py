"""Writes to user accounts."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction


@transaction.atomic
def user_upsert(
    *,
    username: str,
    name: str = "",
    password: str | None = None,
    email: str = "",
    phone: str = "",
    is_superuser: bool = False,
):
    """Create or update a staff account; a given password is (re)set, otherwise left alone."""
    User = get_user_model()
    user = User.objects.select_for_update().filter(username=username).first() or User(username=username)
    user.name, user.email, user.phone = name, email, phone
    user.is_superuser = is_superuser
    user.is_staff = is_superuser
    user.is_active = True
    if password is not None:
        user.set_password(password)
    elif not user.pk:
        user.set_unusable_password()
    user.save()
    return user
