"""orjson writes what the standard encoders wrote: the same values, parsed back."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext_lazy
from rest_framework import renderers

from cityops.core import jsonout

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAYLOAD = {
    "text": "井盖缺失 — Manhole",
    "lazy": gettext_lazy("No cases."),
    "utc": datetime(2026, 11, 29, 6, 5, 4, 123456, tzinfo=UTC),
    "local": datetime(2026, 11, 29, 14, 5, 4, tzinfo=SHANGHAI),
    "naive": datetime(2026, 11, 29, 14, 5),
    "day": date(2026, 11, 29),
    "at": time(8, 30, 15, 500),
    "span": timedelta(hours=2, minutes=3),
    "money": Decimal("12.50"),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    7: ["number keys", None, True, 1.5, -3],
    "nested": [{"a": [1, {"b": "c"}]}],
    "separators": "line\u2028para\u2029end",
}


def test_dumps_writes_what_djangos_encoder_wrote():
    got = jsonout.dumps(PAYLOAD)
    want = json.dumps(PAYLOAD, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    assert json.loads(got) == json.loads(want)
    assert "井盖缺失".encode() in got  # UTF-8, not \u escapes
    assert b"\\u2028" in got and "\u2028".encode() not in got  # safe inside a page's script
    assert json.loads(got)["utc"] == "2026-11-29T06:05:04.123Z"  # Django's own form of a moment


def test_the_drf_renderer_writes_what_drfs_wrote():
    got = jsonout.JSONRenderer().render(PAYLOAD)
    want = renderers.JSONRenderer().render(PAYLOAD)
    assert json.loads(got) == json.loads(want)
    assert json.loads(got)["utc"] == "2026-11-29T06:05:04.123456Z"  # DRF's, to the microsecond
    assert got.count(b"\n") == 0
    # an indented answer asked for in the Accept header is DRF's own
    indented = jsonout.JSONRenderer().render(PAYLOAD, "application/json; indent=2", {})
    assert indented == renderers.JSONRenderer().render(PAYLOAD, "application/json; indent=2", {})
    assert jsonout.JSONRenderer().render(None) == b""


def test_what_orjson_cannot_write_goes_to_the_standard_encoder():
    big = {"n": 2**70, "t": datetime(2026, 1, 1, tzinfo=UTC)}
    assert json.loads(jsonout.dumps(big)) == {"n": 2**70, "t": "2026-01-01T00:00:00Z"}
    assert json.loads(jsonout.dumps({"x": float("nan")})) == {"x": None}  # not a refused answer
