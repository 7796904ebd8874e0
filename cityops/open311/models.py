"""API keys of the Open311 adapter and their per-minute usage counters."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _


def new_key() -> str:
    return secrets.token_urlsafe(24)


class ApiKey(models.Model):
    """A key an Open311 client sends with every new service request (``api_key``)."""

    key = models.CharField(_("key"), max_length=64, unique=True, default=new_key)
    name = models.CharField(_("name"), max_length=100, help_text=_("The client or app using the key."))
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    rate_per_minute = models.PositiveIntegerField(
        _("requests per minute"), default=60, help_text=_("New service requests allowed per minute.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKeyUsage(models.Model):
    """Fixed-window counter: how many requests a key made in one minute (shared by all processes)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="usage")
    window = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "window"], name="open311_usage_key_window")]
