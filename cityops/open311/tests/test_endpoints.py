"""GeoReport v2 through the real URLs: every endpoint in XML and JSON, every filter, every error."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from cityops.cases.models import Attachment, Case, CaseEvent
from cityops.cases.services import ActionInput, ReportInput, case_act, case_report
from cityops.catalog.models import CatalogType
from cityops.open311.models import ApiKey, ApiKeyUsage
from cityops.open311.tests.conftest import (
    EMAIL,
    KEY,
    LZ_LAT,
    LZ_LON,
    NAME,
    PHONE,
    assert_errors,
    body,
    jpeg_with_gps,
    png_bytes,
    post,
)

pytestmark = pytest.mark.django_db
FORMATS = ["json", "xml"]

REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def report(now, *, code="06010", public=True, phone="", text="垃圾"):
    return case_report(
        data=ReportInput(
            source="public",
            type_code=code,
            description=text,
            lat=LZ_LAT,
            lon=LZ_LON,
            reporter_phone=phone,
            is_public=public,
        ),
        actor=None,
        now=now,
    )


def act(world, case, who, action, now, **kw):
    return case_act(number=case.number, data=ActionInput(action=action, **kw), actor=world[who], now=now)


def ids(response, fmt):
    data = body(response, fmt)
    if fmt == "json":
        return [r["service_request_id"] for r in data]
    assert data.tag == "service_requests"
    return [r.findtext("service_request_id") for r in data]


@pytest.fixture
def cases(world):
    """A: open, reported yesterday; B: in handling at LZ-CGJ with a public note; C: not filed (closed);
    D: open, reported 120 days ago; E: invalidated; F: private. All reported by the public."""
    now = timezone.now().replace(microsecond=0)
    a = report(now - timedelta(days=1), phone=PHONE)
    b = report(now - timedelta(days=2), code="07001")
    act(world, b, "demo-operator", "verify", now - timedelta(days=2, hours=-1))
    act(world, b, "demo-chief", "file", now - timedelta(days=2, hours=-2))
    act(world, b, "demo-dispatcher", "dispatch", now - timedelta(days=2, hours=-3), note="已派至潞州区城管局")
    b = act(world, b, "demo-handler", "accept", now - timedelta(hours=5))
    c = report(now - timedelta(days=3))
    c = act(world, c, "demo-chief", "reject", now - timedelta(days=3, hours=-1), reason="不属于城管职责")
    d = report(now - timedelta(days=120))
    e = report(now - timedelta(days=1))
    act(world, e, "demo-operator", "invalidate", now - timedelta(hours=20), reason="恶作剧")
    f = report(now - timedelta(days=1), public=False)
    return {k: Case.objects.get(pk=v.pk) for k, v in dict(a=a, b=b, c=c, d=d, e=e, f=f).items()} | {
        "now": now
    }


# ------------------------------------------------------------------------------------------------
# discovery and services


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(world, client, fmt):
    r = client.get(f"/open311/discovery.{fmt}")
    assert r.status_code == 200
    data = body(r, fmt)
    if fmt == "json":
        assert isinstance(data, dict)
        assert list(data) == ["changeset", "contact", "key_service", "endpoints"]
        (ep,) = data["endpoints"]
        assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert ep["url"] == "http://testserver/open311/v2/"
        assert ep["formats"] == ["text/xml", "application/json"]
        assert ep["type"] == "production"
        assert ep["changeset"].endswith("+08:00")
    else:
        assert data.tag == "discovery"
        assert [c.tag for c in data] == ["changeset", "contact", "key_service", "endpoints"]
        ep = data.find("endpoints/endpoint")
        assert [c.tag for c in ep] == ["specification", "url", "changeset", "type", "formats"]
        assert [f.text for f in ep.findall("formats/format")] == ["text/xml", "application/json"]
        assert ep.findtext("url") == "http://testserver/open311/v2/"


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_public_matter_types(world, client, fmt):
    hidden = CatalogType.objects.get(kind="matter", code="10002")
    hidden.is_public = False
    hidden.save()
    r = client.get(f"/open311/v2/services.{fmt}")
    assert r.status_code == 200
    data = body(r, fmt)
    fields = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    if fmt == "json":
        assert isinstance(data, list)
        rows = {s["service_code"]: s for s in data}
        assert all(list(s) == fields for s in data)
        assert all(isinstance(s["service_code"], str) for s in data)
        assert rows["01001"]["metadata"] is True  # component major: has a definition
        assert rows["06010"]["metadata"] is False
        assert rows["06010"]["type"] == "realtime"
        assert rows["06010"]["group"] == "市容环境类"
        assert rows["06010"]["service_name"] == "暴露垃圾"
    else:
        assert data.tag == "services"
        rows = {s.findtext("service_code"): s for s in data}
        assert all(s.tag == "service" and [c.tag for c in s] == fields for s in data)
        assert rows["01001"].findtext("metadata") == "true"
        assert rows["06010"].findtext("metadata") == "false"
        assert rows["06010"].findtext("group") == "市容环境类"
    assert "10002" not in rows
    assert "90001" in rows  # local extension codes are services too


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition(world, client, fmt):
    r = client.get(f"/open311/v2/services/01001.{fmt}")
    assert r.status_code == 200
    data = body(r, fmt)
    if fmt == "json":
        assert data["service_code"] == "01001"
        (attr,) = data["attributes"]
        assert attr["code"] == "component_id"
        assert attr["variable"] is True and attr["required"] is False
        assert attr["datatype"] == "string" and attr["order"] == 1 and attr["values"] == []
        plain = body(client.get("/open311/v2/services/06010.json"), fmt)
        assert plain == {"service_code": "06010", "attributes": []}
    else:
        assert data.tag == "service_definition"
        assert [c.tag for c in data] == ["service_code", "attributes"]
        attr = data.find("attributes/attribute")
        assert [c.tag for c in attr] == [
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values",
        ]
        assert attr.findtext("variable") == "true" and attr.findtext("required") == "false"
        plain = body(client.get("/open311/v2/services/06010.xml"), fmt)
        assert plain.findtext("service_code") == "06010" and len(plain.find("attributes")) == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_definition_is_404(world, client, fmt):
    assert_errors(client.get(f"/open311/v2/services/99999.{fmt}"), fmt, 404)
    assert_errors(client.get(f"/open311/v2/services/x.y.{fmt}"), fmt, 404)


# ------------------------------------------------------------------------------------------------
# POST requests


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_request_form_encoded(world, client, fmt):
    r = post(
        client,
        fmt,
        phone=PHONE,
        email=EMAIL,
        first_name=NAME[0],
        last_name=NAME[1],
        address_string="英雄中路1号",
        device_id="dev-1",
        account_id="acc-1",
    )
    assert r.status_code == 200, r.content
    data = body(r, fmt)
    case = Case.objects.get()
    if fmt == "json":
        assert data == [
            {
                "service_request_id": case.number,
                "service_notice": data[0]["service_notice"],
                "account_id": None,
            }
        ]
        assert data[0]["service_notice"]
    else:
        assert data.tag == "service_requests"
        (req,) = data
        assert req.tag == "request"
        assert [c.tag for c in req] == ["service_request_id", "service_notice", "account_id"]
        assert req.findtext("service_request_id") == case.number
        assert req.findtext("account_id") == ""
    assert case.source == "public" and case.state == "to_verify" and case.kind == "matter"
    assert case.type_code == "06010" and case.address == "英雄中路1号"
    assert case.reporter_phone == PHONE and case.reporter_name == "Zhangsan Lisi"
    assert case.reported_by is None
    assert case.follows.get().email == EMAIL


def test_post_with_component_attribute_and_media_url(world, client):
    r = post(
        client,
        service_code="01001",
        **{"attribute[component_id]": "14040301001000123", "media_url": "https://example.com/p.jpg"},
    )
    assert r.status_code == 200, r.content
    case = Case.objects.get()
    assert "14040301001000123" in case.description
    assert "https://example.com/p.jpg" in case.description


def test_post_without_description_uses_the_service_name(world, client):
    assert post(client, description="").status_code == 200
    assert Case.objects.get().description == "暴露垃圾"


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_multipart_with_photo_strips_exif_and_media_url_serves_it(world, client, fmt):
    photo = SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")
    r = post(client, fmt, files={"media": photo})
    assert r.status_code == 200, r.content
    att = Attachment.objects.get()
    with att.file.open("rb") as fh:
        stored = fh.read()
    img = Image.open(io.BytesIO(stored))
    assert not img.getexif() and b"Test Camera" not in stored
    number = Case.objects.get().number
    data = body(client.get(f"/open311/v2/requests/{number}.{fmt}"), fmt)
    url = data[0]["media_url"] if fmt == "json" else data.find("request").findtext("media_url")
    assert url == f"http://testserver/open311/media/{number}/{att.pk}"
    served = client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == stored


def test_media_of_private_or_hidden_photos_is_404(world, client):
    r = post(client, files={"media": SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")})
    number = r.json()[0]["service_request_id"]
    att = Attachment.objects.get()
    Attachment.objects.filter(pk=att.pk).update(is_public=False)
    assert_errors(client.get(f"/open311/media/{number}/{att.pk}"), "xml", 404)
    Attachment.objects.filter(pk=att.pk).update(is_public=True)
    Case.objects.filter(pk=att.case_id).update(is_public=False)
    assert_errors(client.get(f"/open311/media/{number}/{att.pk}"), "xml", 404)
    assert_errors(client.get(f"/open311/media/2000-01-000001/{att.pk}"), "xml", 404)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "fields",
    [
        {"api_key": None},
        {"api_key": ""},
        {"api_key": "wrong-key"},
    ],
)
def test_post_without_a_valid_key_is_403(world, client, fmt, fields):
    assert_errors(post(client, fmt, **fields), fmt, 403)
    assert not Case.objects.exists()


def test_inactive_key_is_403(world, client):
    ApiKey.objects.filter(key=KEY).update(is_active=False)
    assert_errors(post(client), "json", 403)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"service_code": None}, "service_code"),
        ({"service_code": ""}, "service_code"),
        ({"service_code": "99999"}, "service_code"),
        ({"service_code": "10002x"}, "service_code"),
        ({"lat": None, "long": None, "address_string": "英雄中路1号"}, "lat"),
        ({"long": None}, "lat"),
        ({"lat": "91"}, "lat"),
        ({"long": "nan"}, "long"),
        ({"lat": "abc"}, "lat"),
        ({"lat": "39.904", "long": "116.407"}, ""),  # Beijing: outside the city
        ({"email": "not-an-email"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"service_code": "01001", "attribute[component_id]": "12"}, "component_id"),
        ({"attribute[component_id]": "14040301001000123"}, "component_id"),  # not a component matter
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"description": "x" * 2001}, "description"),
    ],
)
def test_post_bad_input_is_400_and_writes_nothing(world, client, fmt, fields, words):
    descriptions = assert_errors(post(client, fmt, **fields), fmt, 400)
    assert words in descriptions[0]
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_post_bad_photo_is_400_and_writes_nothing(world, client):
    bad = SimpleUploadedFile("p.jpg", b"not an image", content_type="image/jpeg")
    assert_errors(post(client, files={"media": bad}), "json", 400)
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_rate_limit_is_per_key_and_minute(world, client):
    ApiKey.objects.filter(key=KEY).update(rate_per_minute=2)
    other = ApiKey.objects.create(key="other-key", name="Other")
    assert post(client).status_code == 200
    assert post(client).status_code == 200
    r = post(client)
    assert_errors(r, "json", 429)
    assert 1 <= int(r["Retry-After"]) <= 60
    assert_errors(post(client, "xml"), "xml", 429)
    assert post(client, api_key=other.key).status_code == 200
    assert Case.objects.count() == 3
    # The next minute opens a new window.
    ApiKeyUsage.objects.filter(api_key__key=KEY).update(window=timezone.now() - timedelta(minutes=2))
    assert post(client).status_code == 200


# ------------------------------------------------------------------------------------------------
# GET requests


@pytest.mark.parametrize("fmt", FORMATS)
def test_list_shows_public_cases_of_the_last_90_days(cases, client, fmt):
    r = client.get(f"/open311/v2/requests.{fmt}")
    assert r.status_code == 200
    assert ids(r, fmt) == [cases[k].number for k in "abc"]  # newest first; D too old, E and F hidden


@pytest.mark.parametrize("fmt", FORMATS)
def test_list_record_fields(cases, client, fmt):
    r = client.get(f"/open311/v2/requests.{fmt}?service_request_id={cases['b'].number}")
    data = body(r, fmt)
    b = cases["b"]
    if fmt == "json":
        (rec,) = data
        assert list(rec) == REQUEST_FIELDS
        assert rec["status"] == "open" and rec["service_code"] == "07001"
        assert rec["status_notes"] == "已派至潞州区城管局"
        assert rec["agency_responsible"] == b.department.name
        assert rec["lat"] == LZ_LAT and rec["long"] == LZ_LON
        assert rec["requested_datetime"].endswith("+08:00")
        assert rec["expected_datetime"].endswith("+08:00")
        assert rec["media_url"] is None and "extensions" not in rec
    else:
        (rec,) = data
        assert [c.tag for c in rec] == REQUEST_FIELDS
        assert rec.findtext("status") == "open"
        assert rec.findtext("agency_responsible") == b.department.name
        assert rec.findtext("updated_datetime").endswith("+08:00")


@pytest.mark.parametrize("fmt", FORMATS)
def test_extensions(cases, client, fmt):
    r = client.get(f"/open311/v2/requests.{fmt}?extensions=true&service_request_id={cases['b'].number}")
    data = body(r, fmt)
    b = cases["b"]
    if fmt == "json":
        ext = data[0]["extensions"]
        assert ext["state"] == "handling" and ext["state_label"]
        assert ext["department_code"] == b.department.code
        assert ext["due_datetime"] == timezone.localtime(b.due_at).isoformat(timespec="seconds")
        assert ext["followers"] == 0 and ext["merged_into"] is None
    else:
        ext = data.find("request/extensions")
        assert [c.tag for c in ext] == [
            "state",
            "state_label",
            "department_code",
            "due_datetime",
            "followers",
            "merged_into",
        ]
        assert ext.findtext("state") == "handling" and ext.findtext("department_code") == b.department.code


@pytest.mark.parametrize("fmt", FORMATS)
def test_filters(cases, client, fmt):
    a, b, c, d = (cases[k].number for k in "abcd")
    now = cases["now"]

    def get(query):
        return ids(client.get(f"/open311/v2/requests.{fmt}?{query}"), fmt)

    # service_request_id overrides every other filter, and never shows hidden cases
    e, f = cases["e"].number, cases["f"].number
    assert get(f"service_request_id={d},{a}&status=closed&service_code=07001") == [a, d]
    assert get(f"service_request_id={e},{f}") == []
    assert get("service_code=07001") == [b]
    assert get("service_code=07001,06010") == [a, b, c]
    assert get("status=open") == [a, b]
    assert get("status=closed") == [c]
    assert get("status=open,closed") == [a, b, c]
    assert get("status=OPEN") == [a, b]
    start = (now - timedelta(days=2, hours=1)).isoformat()
    end = (now - timedelta(hours=30)).isoformat()
    assert get(f"start_date={start.replace('+', '%2B')}") == [a, b]
    assert get(f"end_date={end.replace('+', '%2B')}") == [b, c]
    assert get(f"start_date={start.replace('+', '%2B')}&end_date={end.replace('+', '%2B')}") == [b]
    assert get("start_date=2000-01-01") == [a, b, c, d]
    old = (now - timedelta(days=130)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert get(f"end_date={old}") == []  # the 90 days before end_date: D is not in them
    assert get(f"end_date={(now - timedelta(days=100)).strftime('%Y-%m-%dT%H:%M:%SZ')}") == [d]
    assert get(
        f"start_date={(now - timedelta(days=200)).date()}&end_date={(now - timedelta(days=100)).date()}"
    ) == [d]
    # updated_after / updated_before: B was accepted 5 hours ago
    after = (now - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert get(f"updated_after={after}") == [b]
    assert set(get(f"updated_before={after}")) == {a, c, d}
    # paging
    assert get("page_size=2") == [a, b]
    assert get("page_size=2&page=2") == [c]
    assert get("page_size=2&page=3") == []
    assert get("page_size=5000") == [a, b, c]  # capped at 1000, not refused
    # empty parameters are absent
    assert get("status=&service_code=&start_date=&end_date=&page=&page_size=&service_request_id=") == [
        a,
        b,
        c,
    ]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "query",
    [
        "start_date=yesterday",
        "end_date=2026-13-45",
        "updated_after=NaN",
        "updated_before=99999-01-01",
        "status=pending",
        "page=0",
        "page=-1",
        "page=abc",
        "page_size=0",
        "page=1e3",
        "page=99999999999999999999999",
    ],
)
def test_bad_filters_are_400(cases, client, fmt, query):
    assert_errors(client.get(f"/open311/v2/requests.{fmt}?{query}"), fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_one_request(cases, client, fmt):
    b = cases["b"]
    r = client.get(f"/open311/v2/requests/{b.number}.{fmt}?extensions=true")
    assert r.status_code == 200
    data = body(r, fmt)
    if fmt == "json":
        assert isinstance(data, list) and len(data) == 1
        assert data[0]["service_request_id"] == b.number and data[0]["extensions"]["state"] == "handling"
    else:
        assert data.tag == "service_requests" and data[0].tag == "request"
        assert data[0].findtext("service_request_id") == b.number
    c = body(client.get(f"/open311/v2/requests/{cases['c'].number}.{fmt}"), fmt)
    status = c[0]["status"] if fmt == "json" else c[0].findtext("status")
    notes = c[0]["status_notes"] if fmt == "json" else c[0].findtext("status_notes")
    assert status == "closed" and notes == "不属于城管职责"


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_one_unknown_hidden_or_private_is_404(cases, client, fmt):
    for number in ("2000-01-000001", cases["e"].number, cases["f"].number):
        assert_errors(client.get(f"/open311/v2/requests/{number}.{fmt}"), fmt, 404)


def test_merged_cases_are_closed_and_point_to_the_original(world, client):
    now = timezone.now()
    original = report(now - timedelta(hours=3))
    dup = report(now - timedelta(hours=2))
    act(world, dup, "demo-operator", "merge", now - timedelta(hours=1), original=original.number)
    data = client.get(f"/open311/v2/requests/{dup.number}.json?extensions=true").json()
    assert data[0]["status"] == "closed"
    assert data[0]["extensions"]["merged_into"] == original.number
    assert data[0]["expected_datetime"] is None


# ------------------------------------------------------------------------------------------------
# tokens, updates, errors of the routing


@pytest.mark.parametrize("fmt", FORMATS)
def test_tokens_are_404_every_service_is_realtime(world, client, fmt):
    assert_errors(client.get(f"/open311/v2/tokens/12345.{fmt}"), fmt, 404)


@pytest.mark.parametrize("fmt", FORMATS)
def test_request_updates(cases, client, fmt):
    b, c = cases["b"], cases["c"]
    r = client.get(f"/open311/v2/servicerequestupdates.{fmt}?service_request_id={b.number},{c.number}")
    assert r.status_code == 200
    data = body(r, fmt)
    fields = ["update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"]
    if fmt == "json":
        assert all(list(u) == fields for u in data)
        rows = [(u["service_request_id"], u["status"], u["description"]) for u in data]
        assert all(isinstance(u["update_id"], str) for u in data)
    else:
        assert data.tag == "service_request_updates"
        assert all(u.tag == "request_update" and [x.tag for x in u] == fields for u in data)
        rows = [
            (u.findtext("service_request_id"), u.findtext("status"), u.findtext("description")) for u in data
        ]
    # oldest first: C reported and rejected, then B's steps
    assert rows[0][0] == c.number and rows[1] == (c.number, "closed", "不属于城管职责")
    assert (b.number, "open", "已派至潞州区城管局") in rows
    expected = CaseEvent.objects.filter(case__in=[b, c], is_public=True).count()
    assert len(rows) == expected


def test_an_update_shows_its_first_public_photo(world, client):
    r = post(client, files={"media": SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")})
    assert r.status_code == 200, r.content
    case, photo = Case.objects.get(), Attachment.objects.get()

    def media() -> list:
        url = f"/open311/v2/servicerequestupdates.json?service_request_id={case.number}"
        return [u["media_url"] for u in client.get(url).json()]

    assert media() == [f"http://testserver/open311/media/{case.number}/{photo.pk}"]
    Attachment.objects.filter(pk=photo.pk).update(is_public=False)  # hidden by staff
    assert media() == [None]


def test_every_page_of_the_updates_feed_is_a_slice_of_the_whole_feed(cases, client):
    """A later page reads its events' keys first on PostgreSQL (``update_list``): the same updates,
    in the same order, photos included, as the whole feed on one page."""
    r = post(client, files={"media": SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")})
    assert r.status_code == 200, r.content
    url = "/open311/v2/servicerequestupdates.json?extensions=true"
    whole = client.get(url).json()
    assert len(whole) >= 5 and any(u["media_url"] for u in whole)
    paged, page = [], 1
    while len(paged) < len(whole):
        part = client.get(f"{url}&page_size=2&page={page}").json()
        assert part, page
        paged += part
        page += 1
    assert paged == whole
    assert client.get(f"{url}&page_size=2&page={page}").json() == []


def test_every_page_of_every_updates_filter_is_a_slice_of_its_whole_list(cases, world):
    """``update_list`` pages, in each filter (cases named, windows) and page size, with updates at
    the same moment (ordered by their keys) and the older events' rows moved in the table (PostgreSQL
    keeps a row's new version elsewhere): the same updates as the whole list, in its order."""
    from cityops.open311 import selectors

    now = cases["now"]
    t = now - timedelta(hours=3)
    extra = [report(t) for _ in range(5)]
    for case in extra[:3]:
        act(world, case, "demo-operator", "verify", t)
    CaseEvent.objects.filter(at__lt=now - timedelta(days=1)).update(note="moved")
    numbers = [c.number for c in extra] + [cases[k].number for k in ("a", "b", "d")]
    for given in (
        {},
        {"ids": numbers},
        {"ids": numbers[:3]},
        {"ids": numbers, "start": now - timedelta(days=200)},
        {"start": now - timedelta(days=200)},
        {"start": now - timedelta(days=2, hours=1), "end": now},
        {"end": now - timedelta(hours=1)},
    ):

        def listed(given=given, **paging) -> list[tuple]:
            found = selectors.update_list(selectors.UpdateFilters(**given, **paging), now=now)
            return [(e.at, e.pk, e.o311_photo, e.case.number) for e in found]

        whole = listed()
        assert whole == sorted(whole) and whole, given
        for size in (1, 2, 3):
            paged = []
            for page in range(1, len(whole) // size + 3):
                paged += listed(page=page, page_size=size)
            assert paged == whole, (given, size)


def test_updates_come_from_public_cases_by_the_one_rule(cases):
    """The feed reaches the case rule through a join (``public_case_condition``): the same events as
    the events of ``public_case_list``."""
    from cityops.cases.selectors import public_case_condition, public_case_list

    joined = set(CaseEvent.objects.filter(public_case_condition("case")).values_list("pk", flat=True))
    listed = set(CaseEvent.objects.filter(case__in=public_case_list()).values_list("pk", flat=True))
    assert joined == listed and joined
    assert CaseEvent.objects.exclude(pk__in=joined).exists()  # private and invalid cases' events are out


def test_request_updates_filters_and_window(cases, client):
    now = cases["now"]

    def numbers(query):
        data = client.get(f"/open311/v2/servicerequestupdates.json?{query}").json()
        return [u["service_request_id"] for u in data]

    all_recent = numbers("")
    assert cases["d"].number not in all_recent  # 120 days old: outside the default window
    assert cases["e"].number not in all_recent and cases["f"].number not in all_recent
    assert cases["d"].number in numbers(f"service_request_id={cases['d'].number}")
    since = (now - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert numbers(f"start_date={since}") == [cases["b"].number]  # B accepted 5 hours ago
    until = (now - timedelta(days=2, hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert set(numbers(f"end_date={until}")) == {cases["c"].number}
    assert len(numbers("page_size=1&page=2")) == 1
    ext = client.get("/open311/v2/servicerequestupdates.json?extensions=true&page_size=1").json()
    assert set(ext[0]["extensions"]) == {"action", "state"}
    assert_errors(client.get("/open311/v2/servicerequestupdates.xml?start_date=never"), "xml", 400)


@pytest.mark.parametrize(
    "path",
    [
        "/open311/v2/services.csv",
        "/open311/v2/services",
        "/open311/v2/",
        "/open311/discovery.html",
    ],
)
def test_unknown_resources_and_suffixes_are_404(world, client, path):
    assert_errors(client.get(path), "xml", 404)


@pytest.mark.parametrize(
    "path", ["/open311/v2/requests/.json", "/open311/v3/services.json", "/open311/v2/x/y.json"]
)
def test_unknown_json_resources_answer_in_json(world, client, path):
    assert_errors(client.get(path), "json", 404)


@pytest.mark.parametrize("fmt", FORMATS)
def test_wrong_method_is_405_with_the_error_list(world, client, fmt):
    r = client.post(f"/open311/v2/services.{fmt}", {})
    assert_errors(r, fmt, 405)
    assert "GET" in r["Allow"]
    assert_errors(client.delete(f"/open311/v2/requests.{fmt}"), fmt, 405)


def test_xml_drops_characters_xml_cannot_carry(world, client):
    assert post(client, description="垃圾\x0b\x1f堆放").status_code == 200
    root = body(client.get("/open311/v2/requests.xml"), "xml")
    assert root.findtext("request/description") == "垃圾堆放"


# ------------------------------------------------------------------------------------------------
# privacy and query counts


def test_the_reporters_contact_appears_in_no_response(world, client):
    r = post(
        client,
        phone=PHONE,
        email=EMAIL,
        first_name=NAME[0],
        last_name=NAME[1],
        description=f"垃圾堆放，联系我 {PHONE} 或 {EMAIL}",
        files={"media": SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")},
    )
    number = r.json()[0]["service_request_id"]
    case = Case.objects.get(number=number)
    act(world, case, "demo-operator", "verify", timezone.now())
    bodies = [r.content]
    for fmt in FORMATS:
        for path in (
            f"/open311/v2/requests.{fmt}?extensions=true",
            f"/open311/v2/requests.{fmt}?service_request_id={number}",
            f"/open311/v2/requests/{number}.{fmt}?extensions=true",
            f"/open311/v2/servicerequestupdates.{fmt}?extensions=true",
            f"/open311/v2/services.{fmt}",
            f"/open311/discovery.{fmt}",
        ):
            resp = client.get(path)
            assert resp.status_code == 200
            bodies.append(resp.content)
    text = b"\n".join(bodies).decode("utf-8")
    assert number in text
    for secret in (PHONE, EMAIL, *NAME, case.tracking_token):
        assert secret not in text
    assert "139****5678" in text  # the number typed into the description is masked


def _make(n, now):
    for i in range(n):
        report(now - timedelta(minutes=i), code="07001" if i % 2 else "06010")


@pytest.mark.parametrize("fmt", FORMATS)
def test_list_queries_do_not_grow_with_rows(world, client, django_assert_max_num_queries, fmt):
    now = timezone.now()
    _make(5, now)
    post(client, files={"media": SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")})
    with django_assert_max_num_queries(4):
        r = client.get(f"/open311/v2/requests.{fmt}?extensions=true")
    assert len(ids(r, fmt)) == 6
    with django_assert_max_num_queries(4):
        client.get(f"/open311/v2/servicerequestupdates.{fmt}")
    _make(45, now - timedelta(hours=2))
    with django_assert_max_num_queries(4):
        r = client.get(f"/open311/v2/requests.{fmt}?extensions=true")
    assert len(ids(r, fmt)) == 51
    with django_assert_max_num_queries(4):
        client.get(f"/open311/v2/servicerequestupdates.{fmt}")


def test_post_needs_no_csrf_token(world):
    from django.test import Client

    assert post(Client(enforce_csrf_checks=True)).status_code == 200
