from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in: staff of every role, and administrators.

    Roles are not stored here: they come from ``organization.Membership`` so one person can hold
    several roles in several departments.
    """

    name = models.CharField(_("name"), max_length=100, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.username

    def __str__(self) -> str:
        return self.display_name
