"""Fixtures of the Open311 tests: the loaded city of the case tests, the demo key, and helpers."""

from __future__ import annotations

import json

import pytest
from defusedxml import ElementTree as ET

from cityops.cases.tests.conftest import (  # noqa: F401  (fixtures shared with the case tests)
    LZ_LAT,
    LZ_LON,
    _media_in_tmp,
    jpeg_with_gps,
    loop_world,
    png_bytes,
)

KEY = "demo-open311-key"
PHONE = "13912345678"
EMAIL = "citizen.private@example.com"
NAME = ("Zhangsan", "Lisi")


@pytest.fixture
def world(loop_world):  # noqa: F811
    from cityops.open311.services import ensure_demo_key

    ensure_demo_key()
    return loop_world


def body(response, fmt: str):
    """The parsed answer: JSON as Python values, XML as the root element (declaration checked)."""
    raw = response.content
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(raw.decode("utf-8"))
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(raw)


def assert_errors(response, fmt: str, status: int) -> list[str]:
    """The spec's error list with ``status`` in each entry; returns the descriptions."""
    assert response.status_code == status, response.content[:500]
    data = body(response, fmt)
    if fmt == "json":
        assert isinstance(data, list) and data
        for e in data:
            assert set(e) == {"code", "description"}
            assert e["code"] == status and isinstance(e["description"], str) and e["description"]
        return [e["description"] for e in data]
    assert data.tag == "errors"
    out = []
    for e in data:
        assert e.tag == "error"
        assert [c.tag for c in e] == ["code", "description"]
        assert e.findtext("code") == str(status)
        out.append(e.findtext("description"))
    assert out
    return out


def post(client, fmt="json", files=None, **fields):
    data = {"api_key": KEY, "service_code": "06010", "lat": LZ_LAT, "long": LZ_LON, "description": "垃圾"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    if files:
        data.update(files)
    return client.post(f"/open311/v2/requests.{fmt}", data)
