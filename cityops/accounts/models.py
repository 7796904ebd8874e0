from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
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


class Session(AbstractBaseSession):
    """A browser's session, with the signed-in person's id in a column of its own.

    Django's database sessions keep the person only inside the encoded data, so every staff page read
    the session and then the person: two round trips. With the id in a column, the session, the person
    and their memberships come in one query (``accounts.selectors.session_person``), and deleting a
    person ends their sessions.
    """

    # No database constraint: a request whose person was deleted while it ran may still save its
    # session; the ORM's cascade removes a deleted person's sessions.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
        verbose_name=_("user"),
    )

    class Meta(AbstractBaseSession.Meta):
        db_table = "accounts_session"

    def __str__(self) -> str:
        # Never the key: it is the cookie that signs its holder in, and the admin lists a person's
        # sessions by this text on the page that confirms deleting them.
        return f"{self._meta.verbose_name} {self.expire_date:%Y-%m-%d %H:%M}"

    @classmethod
    def get_session_store_class(cls):
        from cityops.accounts.sessions import SessionStore

        return SessionStore
