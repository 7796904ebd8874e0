"""Domain errors: raised by services and rules, rendered by adapters with a clear message."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; ``message`` is translated and safe to show to the user."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotAllowed(DomainError):
    """The person may not do this (HTTP 403)."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The object is not in a state that allows this (HTTP 409)."""

    status = 409
    code = "conflict"


class OutsideCity(DomainError):
    """A position that lies outside the city's boundary."""

    code = "outside_city"
