from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    CONSOLE = "console", _("Console")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed for good")


class Notification(models.Model):
    """The outbox: written in the same transaction as the event it reports, delivered later.

    ``key`` is unique, so the same event never queues the same message twice, and channels receive
    it as an idempotency key.
    """

    key = models.CharField(max_length=120, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=200)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    case_number = models.CharField(_("case number"), max_length=20, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_due")]
