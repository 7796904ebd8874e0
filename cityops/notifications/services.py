"""Queueing and delivering notifications through the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from cityops.notifications.channels import CHANNELS, ChannelError
from cityops.notifications.models import Notification, Status

MAX_ATTEMPTS = 8


def notification_queue(
    *, key: str, channel: str, recipient: str, subject: str, body: str, case_number: str = "", now: datetime
) -> bool:
    """Write one message to the outbox (in the caller's transaction); False if ``key`` was queued before."""
    if not recipient:
        return False
    try:
        with transaction.atomic():
            Notification.objects.create(
                key=key[:120],
                channel=channel,
                recipient=recipient,
                subject=subject[:200],
                body=body,
                case_number=case_number,
                next_attempt_at=now,
                created_at=now,
            )
    except IntegrityError:
        return False
    return True


def notifications_send(*, now: datetime, limit: int = 200) -> tuple[int, int]:
    """Deliver due messages; returns (sent, failed attempts). Each row is claimed under a lock."""
    sent = failed = 0
    ids = list(
        Notification.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    for pk in ids:
        with transaction.atomic():
            n = (
                Notification.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=Status.PENDING)
                .first()
            )
            if n is None:
                continue
            n.attempts += 1
            try:
                CHANNELS[n.channel].send(key=n.key, recipient=n.recipient, subject=n.subject, body=n.body)
            except (ChannelError, KeyError) as exc:
                failed += 1
                n.last_error = str(exc)[:2000]
                if n.attempts >= MAX_ATTEMPTS:
                    n.status = Status.FAILED
                else:
                    n.next_attempt_at = now + timedelta(minutes=2**n.attempts)
                n.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
                continue
            n.status, n.sent_at, n.last_error = Status.SENT, now, ""
            n.save(update_fields=["attempts", "status", "sent_at", "last_error"])
            sent += 1
    return sent, failed
