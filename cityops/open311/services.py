"""Writes of the Open311 adapter: API keys, their rate limit, and new service requests.

A new service request becomes a public report through ``cases.services.case_report`` (source
``public``, no actor); the reporter's contact is stored as the case's private reporter contact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _

from cityops.cases import services as cases
from cityops.cases.choices import Kind, Source
from cityops.cases.models import Case
from cityops.core.db import count_up, one_statement_write, stable_plans
from cityops.core.errors import DomainError
from cityops.open311 import selectors
from cityops.open311.models import ApiKey, ApiKeyUsage
from cityops.open311.params import BadRequest, NotFound
from cityops.open311.records import COMPONENT_ID

DEMO_KEY = "demo-open311-key"
USAGE_KEPT = timedelta(hours=1)
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{2,19}$")
_COMPONENT_ID = re.compile(r"^[0-9]{17}$")


class KeyRefused(DomainError):
    status = 403
    code = "api_key"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


# ------------------------------------------------------------------------------------------------
# keys


def ensure_demo_key() -> ApiKey:
    """The demo city's public key ``demo-open311-key`` (idempotent; called by ``demo_setup``)."""
    key, _created = ApiKey.objects.get_or_create(
        key=DEMO_KEY,
        defaults={"name": "Demo city", "contact": "demo@cityops.example", "rate_per_minute": 60},
    )
    return key


@stable_plans()  # lookups by the unique key: one plan for every key
def api_key_check(key: str | None) -> ApiKey:
    api_key = ApiKey.objects.filter(key=key, is_active=True).first() if key else None
    if api_key is None:
        raise KeyRefused(_("api_key was not provided or is not valid."))
    return api_key


def api_key_take(*, api_key: ApiKey, now: datetime) -> None:
    """Count one request in the key's current minute; refuse beyond its rate (fixed window, in the DB).

    One upsert (``core.db.count_up``), a write of one statement (``one_statement_write``): on
    PostgreSQL the window's row is locked for that statement, where an atomic update and read held it
    through four round trips. The first request of a minute opens its window and drops the windows
    past ``USAGE_KEPT``.
    """
    window = now.replace(second=0, microsecond=0)
    with one_statement_write():
        count = count_up(ApiKeyUsage, "count", api_key_id=api_key.pk, window=window)
    if count == 1:
        ApiKeyUsage.objects.filter(api_key=api_key, window__lt=now - USAGE_KEPT).delete()
    if count > api_key.rate_per_minute:
        retry = 60 - now.second
        raise RateLimited(
            _("Rate limit of %(rate)d requests per minute exceeded; try again in %(seconds)d seconds.")
            % {"rate": api_key.rate_per_minute, "seconds": retry},
            retry_after=retry,
        )


# ------------------------------------------------------------------------------------------------
# new service requests


@dataclass(frozen=True)
class RequestInput:
    service_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    address_string: str | None = None
    address_id: str | None = None
    description: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    media_url: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    # the client's ``Idempotency-Key`` header: a retry with it answers with the request it made
    idempotency_key: str | None = None


def request_notice() -> str:
    return _(
        "Thank you. An inspector verifies the report first; it is then handled within the city's time "
        "limits. Follow it with its service request id."
    )


def request_create(*, api_key: str | None, data: RequestInput, media: Iterable = (), now: datetime) -> Case:
    """Check the key and its rate, validate the request, and file it as a public report (atomic)."""
    key = api_key_check(api_key)
    api_key_take(api_key=key, now=now)
    once = cases.once_key(f"open311:{key.pk}", data.idempotency_key)  # checked before any other work
    if not data.service_code:
        raise BadRequest(_("service_code was not provided."))
    info = selectors.service_get(data.service_code)
    if info is None:
        raise BadRequest(_("service_code %(code)s was not found.") % {"code": data.service_code[:40]})
    if data.lat is None or data.lon is None:
        raise BadRequest(
            _("lat and long are required: this endpoint cannot place an address_string or address_id.")
        )
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError as exc:
            raise BadRequest(_("email is not a valid e-mail address.")) from exc
    if data.phone and not _PHONE.match(data.phone):
        raise BadRequest(_("phone is not a valid phone number."))
    lines = [data.description or info.name]
    component = data.attributes.get(COMPONENT_ID)
    if component:
        if info.major not in selectors.component_majors() or not _COMPONENT_ID.match(component):
            raise BadRequest(_("attribute[component_id] must be a 17-digit component identifier."))
        lines.append(_("Component: %(id)s") % {"id": component})
    if data.media_url:
        try:
            URLValidator(schemes=["http", "https"])(data.media_url)
        except ValidationError as exc:
            raise BadRequest(_("media_url is not a valid http(s) URL.")) from exc
        lines.append(_("Photo: %(url)s") % {"url": data.media_url})
    name = " ".join(p for p in (data.first_name, data.last_name) if p)
    return cases.case_report(
        data=cases.ReportInput(
            source=Source.PUBLIC,
            kind=Kind.MATTER,
            type_code=info.code,
            description="\n".join(lines),
            lat=data.lat,
            lon=data.lon,
            address=data.address_string or "",
            reporter_name=name[:60],
            reporter_phone=data.phone or "",
            reporter_email=data.email or "",
            once_key=once,
        ),
        photos=media,
        actor=None,
        now=now,
    )


def token_get(token: str):
    """Every service is realtime, so no request ever waits behind a token."""
    raise NotFound(
        _("Token %(token)s was not found: every service answers with its id at once.") % {"token": token[:40]}
    )
