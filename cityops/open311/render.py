"""GeoReport v2 output: the same records as JSON (top-level arrays) or XML (the spec's elements).

A record is a dict in the spec's field order. Lists inside a record become a wrapper element with one
child per item (``attributes`` -> ``<attributes><attribute>``), named by ``ITEM_TAGS``. ``None``
is JSON ``null`` and an empty XML element; booleans are JSON booleans and XML ``true``/``false``.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from django.http import HttpResponse

from cityops.core.jsonout import dumps

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")

ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}

# Characters XML 1.0 cannot carry (control characters other than tab, newline, return).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_INVALID.sub("", str(value))


def _fill(parent: ET.Element, key: str, value) -> None:
    el = ET.SubElement(parent, key)
    if isinstance(value, dict):
        for k, v in value.items():
            _fill(el, k, v)
    elif isinstance(value, list | tuple):
        tag = ITEM_TAGS.get(key, "item")
        for item in value:
            _fill(el, tag, item)
    else:
        el.text = _text(value)


def to_xml(root: str, payload) -> bytes:
    """``payload`` is a list (each item under ``ITEM_TAGS[root]``) or a dict (fields of the root)."""
    top = ET.Element(root)
    if isinstance(payload, dict):
        for k, v in payload.items():
            _fill(top, k, v)
    else:
        for item in payload:
            _fill(top, ITEM_TAGS[root], item)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(
        top, encoding="utf-8", xml_declaration=False
    )


def to_json(payload) -> bytes:
    return dumps(payload)


def respond(fmt: str, root: str, payload, *, status: int = 200) -> HttpResponse:
    if fmt == "json":
        return HttpResponse(to_json(payload), content_type=JSON_TYPE, status=status)
    return HttpResponse(to_xml(root, payload), content_type=XML_TYPE, status=status)


def errors(fmt: str, status: int, *descriptions: str, headers: dict | None = None) -> HttpResponse:
    """The spec's error list: ``[{"code": 400, "description": "..."}]`` / ``<errors><error>``."""
    payload = [{"code": status, "description": str(d)} for d in descriptions]
    response = respond(fmt if fmt in FORMATS else "xml", "errors", payload, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
