"""Property-based fuzz of every Open311 endpoint: arbitrary parameters never get a 5xx, and every error
is the spec's list of code and description in the format the URL asked for."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cityops.open311.models import ApiKey
from cityops.open311.tests.conftest import KEY, LZ_LAT, LZ_LON, assert_errors, body, png_bytes

pytestmark = pytest.mark.django_db

TRICKY = [
    "",
    " ",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "1e999",
    "-1e-999",
    "99999999999999999999999999999",
    "-1",
    "0",
    "1.5",
    "true",
    "open,closed",
    "open,,closed,",
    ",,,",
    "2026-02-30",
    "2026-01-01T25:00:00",
    "2026-05-01T08:00:00+08:00",
    "2026-05-01T08:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01",
    "10000-01-01",
    "\x00",
    "a\x00b",
    "x" * 5000,
    "01001",
    "06010,07001",
    "2026-11-000001",
    "<xml>&amp;</xml>",
    "'; DROP TABLE cases_case; --",
    "😀长治",
    "\ufffe\uffff",
]
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
number_text = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
value = st.one_of(st.sampled_from(TRICKY), text, number_text)

GET_PARAMS = [
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "updated_after",
    "updated_before",
    "page",
    "page_size",
    "extensions",
    "jurisdiction_id",
]
POST_PARAMS = [
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "description",
    "email",
    "phone",
    "first_name",
    "last_name",
    "device_id",
    "account_id",
    "media_url",
    "attribute[component_id]",
    "attribute[]",
    "attribute[x",
]
segment = st.one_of(st.sampled_from(["01001", "06010", "99999", "2026-11-000001", "x", "."]), text)


def _get_paths():
    fixed = [
        "/open311/discovery.{fmt}",
        "/open311/v2/services.{fmt}",
        "/open311/v2/requests.{fmt}",
        "/open311/v2/servicerequestupdates.{fmt}",
    ]
    with_segment = [
        "/open311/v2/services/{seg}.{fmt}",
        "/open311/v2/requests/{seg}.{fmt}",
        "/open311/v2/tokens/{seg}.{fmt}",
    ]
    return st.one_of(
        st.builds(
            lambda p, f: (p.format(fmt=f), f), st.sampled_from(fixed), st.sampled_from(["json", "xml"])
        ),
        st.builds(
            lambda p, s, f: (p.format(seg=quote(s, safe=""), fmt=f), f),
            st.sampled_from(with_segment),
            segment.filter(bool),
            st.sampled_from(["json", "xml"]),
        ),
        st.builds(
            lambda s, n: (f"/open311/media/{quote(s, safe='')}/{n}", "xml"),
            segment.filter(bool),
            st.integers(min_value=0, max_value=10**18 - 1),
        ),
        st.builds(lambda s: ("/open311/" + quote(s), "xml"), text),
    )


def _check(response, fmt):
    event(f"HTTP {response.status_code}")
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert_errors(response, fmt, response.status_code)
    elif response.status_code == 200 and not response.streaming:
        body(response, fmt)  # well-formed JSON or XML with the declaration


SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(
    target=_get_paths(),
    params=st.dictionaries(st.one_of(st.sampled_from(GET_PARAMS), text), value, max_size=6),
)
def test_get_endpoints_never_fail(world, client, target, params):
    path, fmt = target
    _check(client.get(path, params), fmt)


@SETTINGS
@given(
    fmt=st.sampled_from(["json", "xml"]),
    fields=st.dictionaries(st.one_of(st.sampled_from(POST_PARAMS), text), value, max_size=8),
    key=st.sampled_from([KEY, KEY, KEY, "", "nope", "\x00"]),
    near=st.booleans(),
    lat=st.floats(min_value=LZ_LAT - 0.02, max_value=LZ_LAT + 0.02),
    lon=st.floats(min_value=LZ_LON - 0.02, max_value=LZ_LON + 0.02),
    code=st.sampled_from(["06010", "07001", "01001", "99999", ""]),
    media=st.one_of(st.none(), st.binary(max_size=200), st.just(png_bytes())),
)
def test_post_never_fails(world, client, fmt, fields, key, near, lat, lon, code, media):
    ApiKey.objects.filter(key=KEY).update(rate_per_minute=100_000)
    data = {"api_key": key, "service_code": code}
    if near:
        data.update(lat=repr(lat), long=repr(lon))
    data.update(fields)
    if media is not None:
        data["media"] = SimpleUploadedFile("m.png", media, content_type="image/png")
    response = client.post(f"/open311/v2/requests.{fmt}", data)
    _check(response, fmt)
    if response.status_code == 200:
        created = body(response, fmt)
        number = (
            created[0]["service_request_id"]
            if fmt == "json"
            else created.findtext("request/service_request_id")
        )
        assert client.get(f"/open311/v2/requests/{number}.{fmt}").status_code == 200


@SETTINGS
@given(
    raw=st.binary(max_size=500),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "application/json",
            "text/plain",
        ]
    ),
)
def test_post_garbage_bodies_never_fail(world, client, raw, content_type):
    _check(client.generic("POST", "/open311/v2/requests.json", raw, content_type=content_type), "json")


@SETTINGS
@given(
    path=st.sampled_from(["/open311/v2/requests", "/open311/v2/servicerequestupdates"]),
    fmt=st.sampled_from(["json", "xml"]),
    params=st.dictionaries(st.sampled_from(GET_PARAMS), value, min_size=1, max_size=5),
)
def test_list_filters_never_fail(world, client, path, fmt, params):
    _check(client.get(f"{path}.{fmt}", params), fmt)
