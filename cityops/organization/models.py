from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cityops.organization.choices import DepartmentKind, Role


class Department(models.Model):
    """A unit of the city: the command centre, a bureau, a street office, a utility company.

    The tree (``parent``) says who oversees whom; ``path`` caches the chain of codes from the root so
    "this department and everything under it" is one indexed prefix query.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=24, choices=DepartmentKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False, db_index=True)
    area_code = models.CharField(
        _("area code"), max_length=12, blank=True, help_text=_("Division the department serves, if any.")
    )
    phone = models.CharField(_("duty phone"), max_length=40, blank=True)
    email = models.EmailField(_("notification e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # The path is derived state: keep it in step with the parent on every save (admin included).
        self.path = self.compute_path()
        if kwargs.get("update_fields") is not None and "parent" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "path"}
        super().save(*args, **kwargs)

    def compute_path(self) -> str:
        return f"{self.parent.path}{self.code}/" if self.parent_id else f"/{self.code}/"


class Membership(models.Model):
    """One person holding one role in one department: the single source of roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "department", "role"], name="membership_unique_role"),
        ]
        indexes = [models.Index(fields=["role", "department"], name="membership_role_dept")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.department}"
