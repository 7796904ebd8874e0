"""A report sent twice with the same key (a double tap, a retry after an answer lost on a weak
connection) makes one case, through the service, the staff API, Open311 and the public form; the key
belongs to who sent it."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from cityops.cases import services
from cityops.cases.models import Case, ReportKey
from cityops.cases.tests.conftest import LZ_LAT, LZ_LON

pytestmark = pytest.mark.django_db


def _data(key="", description="小广告"):
    return services.ReportInput(
        source="public", type_code="07001", description=description, lat=LZ_LAT, lon=LZ_LON, once_key=key
    )


def test_the_same_key_answers_with_the_case_it_made(loop_world):
    now = timezone.now()
    first = services.case_report(data=_data("public:abc"), now=now)
    again = services.case_report(data=_data("public:abc", description="再次提交"), now=now)
    other = services.case_report(data=_data("public:abd"), now=now)
    plain = [services.case_report(data=_data(), now=now) for _ in range(2)]
    assert again.pk == first.pk and other.pk != first.pk and plain[0].pk != plain[1].pk
    assert Case.objects.count() == 4 and ReportKey.objects.count() == 2
    with pytest.raises(services.DomainError):
        services.case_report(data=_data("public:" + "k" * 200), now=now)


def test_two_requests_racing_with_one_key_make_one_case(loop_world, monkeypatch):
    """The second request's look-up ran before the first had committed: its insert of the key fails,
    and it answers with the first's case."""
    now = timezone.now()
    first = services.case_report(data=_data("public:race"), now=now)
    looked = []
    real = services._reported_with

    def too_early(key):
        looked.append(key)
        return None if len(looked) == 1 else real(key)

    monkeypatch.setattr(services, "_reported_with", too_early)
    second = services.case_report(data=_data("public:race"), now=now)
    assert second.pk == first.pk and looked == ["public:race", "public:race"]
    assert Case.objects.count() == 1


def test_the_staff_api_takes_an_idempotency_key_per_person(api_for):
    inspector, chief = api_for("demo-inspector"), api_for("demo-chief")
    body = {"type": "07001", "description": "电线杆上贴满小广告", "lat": LZ_LAT, "lon": LZ_LON}
    numbers = [
        inspector.post("/api/v1/cases", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1").json()["number"]
        for _ in range(2)
    ]
    assert numbers[0] == numbers[1] and Case.objects.count() == 1
    # the same key from someone else is theirs, not the inspector's case
    r = chief.post(
        "/api/v1/cases", {**body, "source": "hotline"}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1"
    )
    assert r.status_code == 201 and r.json()["number"] != numbers[0]
    r = inspector.post("/api/v1/cases", body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 65)
    assert r.status_code == 400 and r.json()["code"] == "once_key"
    assert Case.objects.count() == 2


def test_open311_takes_an_idempotency_key(loop_world, client):
    from cityops.open311.services import ensure_demo_key

    ensure_demo_key()
    body = {
        "api_key": "demo-open311-key",
        "service_code": "07001",
        "lat": LZ_LAT,
        "long": LZ_LON,
        "description": "小广告",
    }
    ids = [
        client.post("/open311/v2/requests.json", body, HTTP_IDEMPOTENCY_KEY="o311-1").json()[0][
            "service_request_id"
        ]
        for _ in range(2)
    ]
    assert ids[0] == ids[1] and Case.objects.count() == 1
    r = client.post("/open311/v2/requests.json", body, HTTP_IDEMPOTENCY_KEY="\u4e2d")
    assert r.status_code == 400 and Case.objects.count() == 1


def test_the_public_form_sent_twice_makes_one_case(loop_world, client):
    cache.clear()
    page = client.get("/report/").content.decode()
    once = re.search(r'name="once" value="([^"]+)"', page).group(1)
    assert len(once) >= 24 and once not in client.get("/report/").content.decode()  # one per form
    body = {
        "type": "matter:07001",
        "description": "电线杆上贴满小广告",
        "lat": LZ_LAT,
        "lon": LZ_LON,
        "phone": "13800001234",
        "once": once,
    }
    assert [client.post("/report/", body).status_code for _ in range(2)] == [302, 302]
    assert Case.objects.count() == 1
    assert client.post("/report/", {**body, "once": once + "x"}).status_code == 302
    assert Case.objects.count() == 2
    cache.clear()
