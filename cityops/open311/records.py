"""Case <-> GeoReport v2 records: the fields, in the spec's order, and nothing private.

Never reads the reporter's name, phone or e-mail. Free text written by people (descriptions, addresses,
notes) goes out with anything that looks like a mobile number or an e-mail address masked, in case a
reporter typed their own into it (``core.redact``, the rule of the public tracking pages too).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.cases.choices import OPEN_STATES, Action, State
from cityops.core.labels import labels_of
from cityops.core.redact import redact_contacts as redact
from cityops.open311.selectors import status_of

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-05-01T00:00:00+08:00"  # when this endpoint's behaviour last changed
COMPONENT_ID = "component_id"


def iso(value) -> str | None:
    """ISO 8601 with the city's offset, to the second (2026-05-01T08:00:00+08:00).

    The city's zone is the default one (``TIME_ZONE``); ``localtime`` would look up the active zone
    for each of the three times of each of 50 records, a third of a list's cost."""
    return value.astimezone(timezone.get_default_timezone()).isoformat(timespec="seconds") if value else None


def discovery(request, *, contact: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": _("Ask the city operations centre for an API key: %(contact)s") % {"contact": contact},
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.build_absolute_uri(reverse("open311:root")),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service(info, *, component_majors) -> dict:
    return {
        "service_code": info.code,
        "service_name": info.name,
        "description": info.name,
        "metadata": info.major in component_majors,
        "type": "realtime",
        "keywords": ",".join(info.keywords),
        "group": info.major_name,
    }


def service_definition(info, *, component_majors) -> dict:
    attributes = []
    if info.major in component_majors:
        attributes.append(
            {
                "variable": True,
                "code": COMPONENT_ID,
                "datatype": "string",
                "required": False,
                "datatype_description": _(
                    "17 digits: county code (6), component type code (5), sequence number (6)."
                ),
                "order": 1,
                "description": _("Number of the facility (component identifier on its plate), if known."),
                "values": [],
            }
        )
    return {"service_code": info.code, "attributes": attributes}


def _photo_url(request, number: str, photo_id) -> str | None:
    if not photo_id:
        return None
    return request.build_absolute_uri(reverse("open311:media", args=[number, photo_id]))


def expected(case):
    """When the request can be expected fulfilled: the handling due time, else the current step's."""
    if case.state not in OPEN_STATES:
        return None
    return case.handle_due_at or case.due_at


def service_request(request, case, *, extensions: bool = False) -> dict:
    record = {
        "service_request_id": case.number,
        "status": status_of(case.state),
        "status_notes": redact(case.o311_notes) or None,
        "service_name": case.type_name,
        "service_code": case.type_code,
        "description": redact(case.description),
        "agency_responsible": case.department.name if case.department_id else None,
        "service_notice": None,
        "requested_datetime": iso(case.reported_at),
        "updated_datetime": iso(case.updated_at),
        "expected_datetime": iso(expected(case)),
        "address": redact(case.address) or None,
        "address_id": None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lon,
        "media_url": _photo_url(request, case.number, case.o311_photo),
    }
    if extensions:
        record["extensions"] = {
            "state": case.state,
            "state_label": labels_of(State).get(case.state, case.state),
            "department_code": case.department.code if case.department_id else None,
            "due_datetime": iso(case.due_at) if case.state in OPEN_STATES else None,
            "followers": case.followers,
            "merged_into": case.merged_into.number if case.merged_into_id else None,
        }
    return record


def created(case, *, notice: str) -> dict:
    return {"service_request_id": case.number, "service_notice": notice, "account_id": None}


def request_update(request, event, *, extensions: bool = False) -> dict:
    """``event`` as ``selectors.update_list`` reads it (``o311_photo``: its first public photo's key)."""
    state = event.to_state or event.case.state
    record = {
        "update_id": str(event.pk),
        "service_request_id": event.case.number,
        "status": status_of(state),
        "updated_datetime": iso(event.at),
        "description": redact(event.note) or labels_of(Action).get(event.action, event.action),
        "media_url": _photo_url(request, event.case.number, event.o311_photo),
    }
    if extensions:
        record["extensions"] = {"action": event.action, "state": state}
    return record
