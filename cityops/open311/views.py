"""GeoReport v2 endpoints (``/open311/``): parse -> read through the selectors or call one service -> render.

Every answer is XML or JSON by the URL's suffix; every error is the spec's list of code and
description with the matching HTTP status, never a stack trace.
"""

from __future__ import annotations

import logging
from functools import wraps

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from cityops.core.errors import DomainError
from cityops.core.images import photo_response
from cityops.open311 import params, records, selectors, services
from cityops.open311.params import BadRequest, NotFound
from cityops.open311.render import errors, respond

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 2000


def endpoint(*methods: str):
    """Allow ``methods`` (HEAD with GET) and turn domain errors into the spec's error list."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, fmt: str = "xml", **kwargs):
            if request.method not in allowed:
                return errors(
                    fmt, 405, _("Method not allowed."), headers={"Allow": ", ".join(sorted(allowed))}
                )
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except DomainError as exc:
                return errors(fmt, exc.status, exc.message, headers=getattr(exc, "headers", None))

        return wrapper

    return decorate


def _contact() -> str:
    return getattr(settings, "DEFAULT_FROM_EMAIL", "") or ""


@endpoint("GET")
def discovery(request, *, fmt):
    return respond(fmt, "discovery", records.discovery(request, contact=_contact()))


@endpoint("GET")
def service_list(request, *, fmt):
    majors = selectors.component_majors()
    rows = [records.service(t, component_majors=majors) for t in selectors.service_list()]
    return respond(fmt, "services", rows)


@endpoint("GET")
def service_definition(request, code: str, *, fmt):
    info = selectors.service_get(code)
    if info is None:
        raise NotFound(_("service_code %(code)s was not found.") % {"code": code[:40]})
    payload = records.service_definition(info, component_majors=selectors.component_majors())
    return respond(fmt, "service_definition", payload)


def _request_filters(q) -> selectors.RequestFilters:
    statuses = [s.lower() for s in params.comma_list(q, "status", item_length=10)]
    bad = [s for s in statuses if s not in selectors.STATUS_STATES]
    if bad:
        raise BadRequest(_("status must be open, closed or both (comma-separated)."))
    return selectors.RequestFilters(
        ids=params.comma_list(q, "service_request_id", item_length=20),
        codes=params.comma_list(q, "service_code", item_length=10),
        start=params.moment(q, "start_date"),
        end=params.moment(q, "end_date"),
        statuses=statuses,
        updated_after=params.moment(q, "updated_after"),
        updated_before=params.moment(q, "updated_before"),
        page=params.integer(q, "page", default=1, low=1, high=1_000_000),
        page_size=params.integer(
            q, "page_size", default=selectors.MAX_PAGE_SIZE, low=1, high=selectors.MAX_PAGE_SIZE, clamp=True
        ),
    )


def _post_data(request):
    """The form fields and files of a POST; a body Django cannot read is a bad request."""
    try:
        return request.POST, request.FILES
    except Exception as exc:  # RequestDataTooBig, TooManyFieldsSent, MultiPartParserError, ...
        log.info("open311: unreadable POST body: %s", exc)
        raise BadRequest(_("The request body could not be read.")) from exc


def _create(request, fmt):
    form, files = _post_data(request)
    api_key = params.text(form, "api_key", max_length=64) or params.text(
        request.GET, "api_key", max_length=64
    )
    attributes = {}
    for name in form:
        if name.startswith("attribute[") and name.endswith("]"):
            value = params.text(form, name, max_length=200)
            if value is not None:
                attributes[name[len("attribute[") : -1]] = value
    data = services.RequestInput(
        service_code=params.text(form, "service_code", max_length=40),
        lat=params.decimal_degrees(form, "lat", limit=90),
        lon=params.decimal_degrees(form, "long", limit=180),
        address_string=params.text(form, "address_string", max_length=200),
        address_id=params.text(form, "address_id", max_length=100),
        description=params.text(form, "description", max_length=MAX_DESCRIPTION),
        email=params.text(form, "email", max_length=254),
        phone=params.text(form, "phone", max_length=20),
        first_name=params.text(form, "first_name", max_length=30),
        last_name=params.text(form, "last_name", max_length=30),
        device_id=params.text(form, "device_id", max_length=100),
        account_id=params.text(form, "account_id", max_length=100),
        media_url=params.text(form, "media_url", max_length=500),
        attributes=attributes,
        idempotency_key=request.headers.get("Idempotency-Key") or None,
    )
    case = services.request_create(
        api_key=api_key, data=data, media=files.getlist("media"), now=timezone.now()
    )
    return respond(fmt, "service_requests", [records.created(case, notice=services.request_notice())])


@endpoint("GET", "POST")
def request_list(request, *, fmt):
    if request.method == "POST":
        return _create(request, fmt)
    filters = _request_filters(request.GET)
    extensions = params.boolean(request.GET, "extensions")
    cases = selectors.request_list(filters, now=timezone.now())
    rows = [records.service_request(request, c, extensions=extensions) for c in cases]
    return respond(fmt, "service_requests", rows)


@endpoint("GET")
def request_detail(request, number: str, *, fmt):
    case = selectors.request_get(number)
    if case is None:
        raise NotFound(_("service_request_id %(id)s was not found.") % {"id": number[:40]})
    extensions = params.boolean(request.GET, "extensions")
    return respond(fmt, "service_requests", [records.service_request(request, case, extensions=extensions)])


@endpoint("GET")
def token(request, token: str, *, fmt):
    services.token_get(token)


@endpoint("GET")
def update_list(request, *, fmt):
    q = request.GET
    filters = selectors.UpdateFilters(
        ids=params.comma_list(q, "service_request_id", item_length=20),
        start=params.moment(q, "start_date"),
        end=params.moment(q, "end_date"),
        page=params.integer(q, "page", default=1, low=1, high=1_000_000),
        page_size=params.integer(
            q, "page_size", default=selectors.MAX_PAGE_SIZE, low=1, high=selectors.MAX_PAGE_SIZE, clamp=True
        ),
    )
    extensions = params.boolean(q, "extensions")
    events = selectors.update_list(filters, now=timezone.now())
    rows = [records.request_update(request, e, extensions=extensions) for e in events]
    return respond(fmt, "service_request_updates", rows)


@endpoint("GET")
def media(request, number: str, attachment: str, *, fmt):
    photo = selectors.media_get(number, int(attachment))
    if photo is None:
        raise NotFound(_("This photo was not found."))
    try:
        return photo_response(photo.file, cache="public")
    except OSError as exc:
        raise NotFound(_("This photo was not found.")) from exc


@endpoint("GET", "POST", "PUT", "PATCH", "DELETE")
def not_found(request, *, fmt):
    raise NotFound(_("Not found: the GeoReport v2 resources end in .xml or .json."))


@endpoint("GET")
def root(request, *, fmt):
    raise NotFound(_("This is the GeoReport v2 endpoint; start with services.xml or services.json."))
