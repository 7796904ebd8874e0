"""Staff pages and the public finder through the test client."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cityops.cases.models import Case
from cityops.facilities.models import Inspection
from cityops.facilities.services import inspection_submit
from cityops.facilities.tests.conftest import CENTRE, answers, make_toilet, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(fac_world):
    now = timezone.now()
    a = make_toilet(1, name="英雄中路公厕", opening_hours="24h", accessible=True, now=now)
    b = make_toilet(
        2, lat=CENTRE[0] + 0.004, kind="station", services={"water": True, "rest": False}, now=now
    )
    inspection_submit(
        facility=a.code, answers=answers(fail=("soap",)), actor=fac_world["demo-inspector"], now=now
    )
    return {"a": a, "b": b, **fac_world}


def login(client, user):
    client.force_login(user)
    return client


def test_list_map_due_detail_figures(client, world):
    login(client, world["demo-chief"])
    r = client.get(reverse("facilities:list"))
    assert r.status_code == 200 and world["a"].code in r.content.decode()
    assert (
        client.get(reverse("facilities:list"), {"status": "never"})
        .content.decode()
        .count('data-testid="facility-row"')
        == 1
    )
    assert (
        client.get(reverse("facilities:list"), {"kind": "station"})
        .content.decode()
        .count('data-testid="facility-row"')
        == 1
    )
    assert client.get(reverse("facilities:map")).status_code == 200
    due = client.get(reverse("facilities:due")).content.decode()
    assert world["b"].code in due and world["a"].code not in due
    detail = client.get(reverse("facilities:detail", args=[world["a"].code])).content.decode()
    assert 'data-testid="issue"' in detail
    figures = client.get(reverse("facilities:figures")).content.decode()
    assert 'data-testid="supplies-coverage" data-part="0" data-whole="2"' in figures
    assert 'data-testid="station-completion" data-part="1" data-whole="2"' in figures


def test_pages_need_a_staff_role(client, world):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user(username="nobody", password="x")
    login(client, nobody)
    assert client.get(reverse("facilities:list")).status_code == 404
    assert client.get(reverse("facilities:nearby")).status_code == 404
    client.logout()
    assert client.get(reverse("facilities:list")).status_code == 302


def test_inspection_form_opens_a_case(client, world):
    login(client, world["demo-inspector"])
    r = client.get(reverse("facilities:nearby"), {"lat": CENTRE[0], "lon": CENTRE[1]})
    html = r.content.decode()
    assert html.index(world["a"].code) < html.index(world["b"].code)
    url = reverse("facilities:inspect", args=[world["b"].code])
    assert client.get(url).status_code == 200
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {f"item-{k}": "pass" for k in ("no-excrement", "no-flies", "no-odour", "soap")}
    data.update(
        {
            "item-paper": "fail",
            "note-paper": "无纸",
            "photo-paper": SimpleUploadedFile("p.png", png_bytes(), "image/png"),
        }
    )
    r = client.post(url, data)
    assert r.status_code == 302
    ins = Inspection.objects.filter(facility=world["b"]).get()
    page = client.get(r["Location"]).content.decode()
    case = Case.objects.get(description__contains=world["b"].name)
    assert f'data-number="{case.number}"' in page and case.department.code == "LZ-CGJ"
    assert ins.results.get(item__key="paper").photo
    # A handler may not inspect.
    client.force_login(world["demo-handler"])
    assert client.get(url).status_code == 404


def test_inspection_form_requires_each_item(client, world):
    login(client, world["demo-inspector"])
    url = reverse("facilities:inspect", args=[world["b"].code])
    r = client.post(url, {"item-paper": "fail"})
    assert r.status_code == 400
    assert not Inspection.objects.filter(facility=world["b"]).exists()


def test_import_page_and_export(client, world):
    login(client, world["demo-chief"])
    r = client.get(reverse("facilities:export"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("x.xlsx", b"nope")
    r = client.post(reverse("facilities:import"), {"file": bad})
    assert r.status_code == 400 and 'data-testid="import-error"' in r.content.decode()
    good = SimpleUploadedFile("x.xlsx", client.get(reverse("facilities:export")).content)
    r = client.post(reverse("facilities:import"), {"file": good})
    assert r.status_code == 302


def r_content(client) -> bytes:
    return (
        b"".join(client.get(reverse("facilities:export")).streaming_content)
        if False
        else client.get(reverse("facilities:export")).content
    )


def test_public_finder(client, world):
    r = client.get("/toilets/")
    html = r.content.decode()
    assert r.status_code == 200 and 'data-from-user="0"' in html
    # The first visit lists the toilets open now: the 24-hour one at least.
    assert 'name="open" checked' in html and world["a"].code in html
    r = client.get("/toilets/", {"lat": "", "lon": ""})
    assert r.content.decode().count('data-testid="toilet"') == 2
    r = client.get("/toilets/", {"lat": CENTRE[0], "lon": CENTRE[1], "accessible": "on"})
    html = r.content.decode()
    assert (
        html.count('data-testid="toilet"') == 1 and world["a"].code in html and 'data-from-user="1"' in html
    )
