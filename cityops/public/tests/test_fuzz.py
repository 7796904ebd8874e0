"""Property-based fuzz of the public JSON and form endpoints: arbitrary input never gets a 5xx."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops.cases.services import ReportInput, case_report
from cityops.cases.tests.conftest import LZ_LAT, LZ_LON

pytestmark = pytest.mark.django_db

TRICKY = [
    "", " ", "nan", "inf", "-1e999", "1e999", "99999999999999999999", "-91", "181", "36.195", "113.117",
    "2026-02-30", "2026-11-28", "\x00", "x" * 3000, "06010", "07001,06010", "2026-11-000001", "😀长治",
    "<script>", "'; DROP TABLE cases_case; --", "open", "closed", "received", "all", "7", "365", "-5",
]  # fmt: skip
value = st.one_of(
    st.sampled_from(TRICKY),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
GET_ENDPOINTS = {
    "/report/types": ["q", "group"],
    "/report/nearby": ["type", "lat", "lon", "kind"],
    "/map/cases.geojson": ["type", "area", "state", "period", "from", "to", "days"],
    "/map/": ["type", "area", "state", "period"],
    "/figures/": ["from", "to", "period", "kind"],
    "/track/": ["number", "phone"],
    "/toilets/": ["lat", "lon", "accessible", "free", "open"],
    "/api/v1/toilets/nearest": ["lat", "lon", "limit", "open_at", "accessible", "free"],
}
POST_ENDPOINTS = {
    "/report/": ["type", "lat", "lon", "address", "area", "description", "phone", "anonymous", "is_public"],
    "/report/metoo": ["number", "phone"],
    "/track/": ["number", "phone"],
}


@pytest.fixture
def world(loop_world):
    case_report(
        data=ReportInput(
            source="public", type_code="06010", description="垃圾", lat=LZ_LAT, lon=LZ_LON,
            reporter_phone="13912345678",
        ),
        actor=None,
        now=__import__("django.utils.timezone", fromlist=["now"]).now(),
    )  # fmt: skip
    return loop_world


def _params(draw, names):
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    return {name: draw(value) for name in chosen}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_public_get_endpoints_never_fail(world, client, data):
    url = data.draw(st.sampled_from(sorted(GET_ENDPOINTS)))
    params = _params(data.draw, GET_ENDPOINTS[url])
    response = client.get(url, params)
    assert response.status_code < 500, (url, params)
    assert b"13912345678" not in response.content


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_public_posts_never_fail(world, client, data):
    cache.clear()  # the per-IP rate limit is not what this test is about
    url = data.draw(st.sampled_from(sorted(POST_ENDPOINTS)))
    params = _params(data.draw, POST_ENDPOINTS[url])
    params = {k: v.replace("\x00", "") for k, v in params.items()}  # browsers cannot send NUL in forms
    response = client.post(url, params)
    assert response.status_code < 500, (url, params)
    assert b"13912345678" not in response.content
