"""Delivery channels: console and e-mail now, SMS as an interface a provider plugs into."""

from __future__ import annotations

import logging

from django.core.mail import send_mail

log = logging.getLogger("cityops.notifications")


class ChannelError(Exception):
    """Delivery failed; the sender retries later."""


class ConsoleChannel:
    def send(self, *, key: str, recipient: str, subject: str, body: str) -> None:
        log.info("notification %s to %s: %s\n%s", key, recipient, subject, body)


class EmailChannel:
    def send(self, *, key: str, recipient: str, subject: str, body: str) -> None:
        try:
            send_mail(subject, body, None, [recipient], fail_silently=False)
        except Exception as exc:  # any transport error is retried
            raise ChannelError(str(exc)) from exc


class SmsChannel:
    """SMS goes through a provider the city contracts; without one, messages are logged only."""

    provider = None

    def send(self, *, key: str, recipient: str, subject: str, body: str) -> None:
        if self.provider is None:
            log.info("sms (no provider configured) %s to %s: %s", key, recipient, body)
            return
        self.provider.send(key=key, phone=recipient, text=body)


CHANNELS = {"console": ConsoleChannel(), "email": EmailChannel(), "sms": SmsChannel()}
