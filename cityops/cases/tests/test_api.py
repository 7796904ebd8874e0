"""The staff API: token, report, list, detail, actions, timeline; the whole loop through HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from cityops.cases.choices import State
from cityops.cases.models import Attachment, Case, CaseEvent
from cityops.cases.tests.conftest import LZ_LAT, LZ_LON, jpeg_with_gps, png_bytes, upload

OFFSET = re.compile(r"\+08:00$")


def report(client, **kw):
    body = {
        "type": "07001",
        "urgency": "normal",
        "description": "电线杆上贴满小广告",
        "lat": LZ_LAT,
        "lon": LZ_LON,
        "address": "英雄中路 1 号",
        "source": "inspector",
    }
    body.update(kw)
    return client.post("/api/v1/cases", body, format="multipart")


def act(client, number, action, **kw):
    photos = kw.pop("photos", None)
    if photos is not None:
        return client.post(
            f"/api/v1/cases/{number}/actions", {"action": action, **kw, "photos": photos}, format="multipart"
        )
    return client.post(f"/api/v1/cases/{number}/actions", {"action": action, **kw}, format="json")


def counts():
    return Case.objects.count(), CaseEvent.objects.count(), Attachment.objects.count()


# ------------------------------------------------------------------------------------------------
# auth


def test_token_login_and_use(loop_world):
    client = APIClient()
    r = client.post("/api/v1/auth/token", {"username": "demo-handler", "password": "cityops-demo"})
    assert r.status_code == 200, r.content
    assert r.json()["roles"] == ["handler"]
    token = r.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/cases").status_code == 200
    # The same token again on a second log-in.
    r2 = APIClient().post(
        "/api/v1/auth/token", {"username": "demo-handler", "password": "cityops-demo"}, format="json"
    )
    assert r2.json()["token"] == token


def test_wrong_password_and_missing_fields(loop_world):
    r = APIClient().post("/api/v1/auth/token", {"username": "demo-handler", "password": "nope"})
    assert r.status_code == 400
    assert r.json()["code"] == "login"
    r = APIClient().post("/api/v1/auth/token", {"username": "demo-handler"})
    assert r.status_code == 400
    assert "password" in r.json()


def test_unauthenticated_is_401(loop_world):
    client = APIClient()
    for r in (
        client.get("/api/v1/cases"),
        client.post("/api/v1/cases", {}),
        client.get("/api/v1/cases/2026-01-000001"),
        client.post("/api/v1/cases/2026-01-000001/actions", {"action": "verify"}),
        client.get("/api/v1/cases/2026-01-000001/events"),
    ):
        assert r.status_code == 401
        assert r["WWW-Authenticate"].startswith("Token")
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/v1/cases").status_code == 401


def test_schema_and_docs(loop_world):
    r = APIClient().get("/api/v1/schema/")
    assert r.status_code == 200
    text = r.content.decode()
    for p in (
        "/api/v1/auth/token",
        "/api/v1/cases",
        "/api/v1/cases/{number}/actions",
        "/api/v1/cases/{number}/events",
    ):
        assert p in text
    assert APIClient().get("/api/v1/docs/").status_code == 200
    # the case list answers a page: its schema says so, with the capped count's flag
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    page = schema["paths"]["/api/v1/cases"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    properties = schema["components"]["schemas"][page["$ref"].rpartition("/")[2]]["properties"]
    assert set(properties) == {"count", "count_capped", "next", "previous", "results"}


# ------------------------------------------------------------------------------------------------
# report


def test_report_strips_photo_metadata(api_for):
    raw = jpeg_with_gps()
    with Image.open(__import__("io").BytesIO(raw)) as probe:
        assert probe.getexif().get_ifd(0x8825)  # the test photo really carries GPS
    inspector = api_for("demo-inspector")
    r = report(
        inspector, photos=[upload(raw, "a.jpg", "image/jpeg"), upload(png_bytes(), "b.png", "image/png")]
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == State.TO_FILE
    assert body["type"] == "07001" and body["kind"] == "matter" and body["source"] == "inspector"
    assert r["Location"].endswith(f"/api/v1/cases/{body['number']}")
    assert len(body["photos"]) == 2
    assert OFFSET.search(body["reported_at"]) and OFFSET.search(body["due_at"])
    assert "reporter_phone" not in body  # an inspector is not the command centre
    photo = Attachment.objects.get(case__number=body["number"], file__endswith=".jpg")
    with photo.file.open("rb") as f, Image.open(f) as img:
        assert not img.getexif()
        assert "exif" not in img.info


def test_report_bad_input_is_400_and_writes_nothing(api_for):
    inspector = api_for("demo-inspector")
    before = counts()
    cases = [
        ({"type": ""}, "type"),
        ({"type": "99999"}, "type"),
        ({"urgency": "very"}, "urgency"),
        ({"source": "rumour"}, "source"),
        ({"kind": "thing"}, "kind"),
        ({"lat": "north"}, "lat"),
        ({"description": ""}, "description"),
    ]
    for change, field in cases:
        r = report(inspector, **change)
        assert r.status_code == 400, (change, r.content)
        body = r.json()
        assert field in body or body.get("code") == field, (change, body)
    r = inspector.post("/api/v1/cases", {"description": "x", "lat": LZ_LAT, "lon": LZ_LON})
    assert r.status_code == 400 and "type" in r.json()
    # Outside the city: the geography's own message.
    r = report(inspector, lat=39.9042, lon=116.4074)
    assert r.status_code == 400
    assert r.json()["code"] == "outside_city" and r.json()["detail"]
    # A second photo that is not an image: the first is not kept either.
    r = report(
        inspector,
        photos=[upload(png_bytes(), "ok.png", "image/png"), upload(b"not an image", "x.jpg", "image/jpeg")],
    )
    assert r.status_code == 400
    assert r.json()["code"] == "photo_unreadable"
    assert counts() == before


def test_report_needs_a_role(api_for, loop_world):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username="nobody", password="x")
    loop_world["nobody"] = get_user_model().objects.get(username="nobody")
    r = report(api_for("nobody"))
    assert r.status_code == 403
    assert api_for("nobody").get("/api/v1/cases").json()["count"] == 0


def test_sources_that_skip_verification_are_claimed_only_by_their_roles(api_for):
    """An inspector's report and an assignment from above skip verification (and the first names its
    reporter the case's inspector): a handler may claim neither, and no one claims a facility
    inspection through the API (it opens its own cases)."""
    from cityops.cases.models import Case

    handler = api_for("demo-handler")
    before = Case.objects.count()
    for source, status in (("inspector", 403), ("superior", 403), ("inspection", 400)):
        r = report(handler, source=source)
        assert r.status_code == status, (source, r.content)
        answer = r.json()
        assert answer["code"] == "source" if status == 403 else "source" in answer, answer
    r = report(api_for("demo-inspector"), source="superior")
    assert r.status_code == 403
    assert Case.objects.count() == before
    r = report(api_for("demo-dispatcher"), source="superior")
    assert r.status_code == 201 and r.json()["state"] == "to_file"
    r = report(handler, source="hotline")  # staff may enter a call: it is verified as usual
    assert r.status_code == 201 and r.json()["state"] == "to_verify"


def test_public_source_needs_verification_and_phone_is_centre_only(api_for):
    operator = api_for("demo-operator")
    r = report(operator, source="public", reporter_phone="13800000001", urgency="urgent")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == State.TO_VERIFY and body["urgency"] == "urgent"
    assert body["reporter_phone"] == "13800000001"
    assert body["allowed_actions"] == ["verify", "invalidate", "merge"]
    number = body["number"]
    assert "reporter_phone" not in api_for("demo-inspector").get(f"/api/v1/cases/{number}").json()
    assert api_for("demo-chief").get(f"/api/v1/cases/{number}").json()["reporter_phone"] == "13800000001"
    listed = api_for("demo-dispatcher").get("/api/v1/cases").json()["results"][0]
    assert listed["reporter_phone"] == "13800000001"
    # A handler never sees it (here: not even the case, which no department holds yet).
    assert api_for("demo-handler").get(f"/api/v1/cases/{number}").status_code == 404


# ------------------------------------------------------------------------------------------------
# the loop


def test_whole_loop_through_the_api(api_for):
    inspector, chief = api_for("demo-inspector"), api_for("demo-chief")
    dispatcher, handler = api_for("demo-dispatcher"), api_for("demo-handler")

    r = report(inspector, photos=[upload(jpeg_with_gps(), "before.jpg", "image/jpeg")])
    assert r.status_code == 201, r.content
    number = r.json()["number"]

    def step(client, action, state, **kw):
        r = act(client, number, action, **kw)
        assert r.status_code == 200, (action, r.content)
        assert r.json()["state"] == state, (action, r.json())
        return r.json()

    assert chief.get(f"/api/v1/cases/{number}").json()["allowed_actions"] == [
        "file",
        "reject",
        "invalidate",
        "merge",
        "urge",
    ]
    step(chief, "file", State.TO_DISPATCH, note="符合立案条件")
    detail = dispatcher.get(f"/api/v1/cases/{number}").json()
    assert detail["allowed_actions"] == ["dispatch"]
    assert detail["proposed_department"]["code"] == "LZ-CGJ"
    body = step(dispatcher, "dispatch", State.DISPATCHED)
    assert body["department"]["code"] == "LZ-CGJ"
    assert OFFSET.search(body["handle_due_at"])

    assert handler.get(f"/api/v1/cases/{number}").json()["allowed_actions"] == ["return", "accept"]
    step(handler, "accept", State.HANDLING)
    # Report done needs a photo of the result.
    r = act(handler, number, "report_done", note="已清理")
    assert r.status_code == 400 and r.json()["code"] == "photos_required"
    step(
        handler,
        "report_done",
        State.TO_CHECK,
        note="已清理",
        photos=[upload(png_bytes(), "done.png", "image/png")],
    )
    # Check failed: a note is required, then the case goes back for rework.
    r = act(inspector, number, "check_fail")
    assert r.status_code == 400 and r.json()["code"] == "note_required"
    body = step(inspector, "check_fail", State.HANDLING, note="仍有残留")
    assert body["rework_count"] == 1
    step(
        handler,
        "report_done",
        State.TO_CHECK,
        note="已复查清理",
        photos=[upload(png_bytes(), "d2.png", "image/png")],
    )
    step(inspector, "check_pass", State.TO_CLOSE)
    body = step(chief, "close", State.CLOSED)
    assert body["rework_count"] == 1 and OFFSET.search(body["closed_at"])
    assert body["allowed_actions"] == ["reopen"]

    r = handler.get(f"/api/v1/cases/{number}/events")
    assert r.status_code == 200
    events = r.json()
    assert [e["action"] for e in events] == [
        "report",
        "file",
        "dispatch",
        "accept",
        "report_done",
        "check_fail",
        "report_done",
        "check_pass",
        "close",
    ]
    assert all(OFFSET.search(e["at"]) for e in events)
    assert len(events[0]["photos"]) == 1 and events[0]["photos"][0]["stage"] == "report"
    assert events[4]["photos"][0]["stage"] == "handled"
    assert events[2]["department"] == "LZ-CGJ"
    assert events[5]["note"] == "仍有残留"


def test_dispatch_to_a_chosen_department_and_unknown_codes(api_for):
    number = report(api_for("demo-inspector")).json()["number"]
    chief, dispatcher = api_for("demo-chief"), api_for("demo-dispatcher")
    act(chief, number, "file")
    r = act(dispatcher, number, "dispatch", department="NO-SUCH")
    assert r.status_code == 400 and r.json()["code"] == "department"
    assert Case.objects.get(number=number).state == State.TO_DISPATCH
    r = act(dispatcher, number, "dispatch", department="CGJ-HW")
    assert r.status_code == 200 and r.json()["department"]["code"] == "CGJ-HW"
    # demo-handler (LZ-CGJ) no longer sees it; handler-hw does.
    assert api_for("demo-handler").get(f"/api/v1/cases/{number}").status_code == 404
    assert api_for("handler-hw").get(f"/api/v1/cases/{number}").json()["allowed_actions"] == [
        "return",
        "accept",
    ]


def test_extension_until_is_checked(api_for):
    number = report(api_for("demo-inspector")).json()["number"]
    chief, handler = api_for("demo-chief"), api_for("demo-handler")
    act(chief, number, "file")
    act(api_for("demo-dispatcher"), number, "dispatch")
    act(handler, number, "accept")
    before = counts()
    r = act(handler, number, "request_extension", reason="材料不足", until="next week")
    assert r.status_code == 400 and "until" in r.json()
    r = act(handler, number, "request_extension", reason="材料不足", until="2020-01-01T10:00:00+08:00")
    assert r.status_code == 400 and r.json()["code"] == "until"
    assert counts() == before
    until = (timezone.now() + timedelta(days=20)).isoformat()
    r = act(handler, number, "request_extension", reason="材料不足", until=until)
    assert r.status_code == 200, r.content
    assert r.json()["extension_pending"] is True and r.json()["paused"] is True
    assert r.json()["allowed_actions"] == []
    assert act(handler, number, "report_done").json()["code"] == "no_pending_extension"
    r = act(chief, number, "approve_extension")
    assert r.status_code == 200 and r.json()["extension_pending"] is False


def test_merge_and_duplicates(api_for):
    operator = api_for("demo-operator")
    original = report(api_for("demo-inspector")).json()["number"]
    dup = report(operator, source="public", lat=LZ_LAT + 0.0001).json()["number"]
    r = operator.get(f"/api/v1/cases/{dup}/duplicates")
    assert r.status_code == 200
    assert [d["number"] for d in r.json()] == [original]
    assert 0 < r.json()[0]["distance_m"] < 50
    r = act(operator, dup, "merge", original="2000-01-000001")
    assert r.status_code == 400 and r.json()["code"] == "original"
    r = act(operator, dup, "merge", original=original)
    assert r.status_code == 200, r.content
    assert r.json()["state"] == State.MERGED and r.json()["merged_into"] == original


def _walk(client, first: dict) -> list[str]:
    """The numbers of every page of a list, following ``next`` from its first page."""
    numbers, body = [], first
    while True:
        numbers += [c["number"] for c in body["results"]]
        if body["next"] is None:
            return numbers
        body = client.get(body["next"]).json()


@pytest.mark.parametrize("sort", ["-reported", "due", "-due", "number"])
def test_a_list_counts_its_cases_up_to_the_cap_and_its_pages_go_on(api_for, monkeypatch, sort):
    """``count`` is exact up to ``COUNT_CAP``; beyond, it is the cap and ``count_capped`` says so, and
    ``next`` still leads page by page to the last case, each case once; a page past the last is 404."""
    from cityops.cases import api

    inspector, chief = api_for("demo-inspector"), api_for("demo-chief")
    numbers = [report(inspector, description=f"井盖松动 {i}").json()["number"] for i in range(5)]
    numbers.append(report(inspector, description="路灯不亮").json()["number"])
    for number in numbers[1:3]:  # cases with no deadline: the second part of a list in deadline order
        r = act(chief, number, "invalidate", note="不属于城管事项")
        assert r.status_code == 200 and r.json()["due_at"] is None, r.content
    monkeypatch.setattr(api, "COUNT_CAP", 3)
    whole = chief.get("/api/v1/cases", {"sort": sort, "page_size": 100}).json()
    assert (whole["count"], whole["count_capped"], len(whole["results"])) == (3, True, 6)
    assert sorted(c["number"] for c in whole["results"]) == sorted(numbers)
    order = [c["number"] for c in whole["results"]]
    for size in (1, 2, 4, 5):
        body = chief.get("/api/v1/cases", {"sort": sort, "page_size": size}).json()
        assert (body["count"], body["count_capped"], len(body["results"])) == (3, True, min(size, 6))
        assert _walk(chief, body) == order, size  # past the cap, in the list's order, none twice
    assert chief.get("/api/v1/cases", {"sort": sort, "page_size": 2, "page": 3}).json()["next"] is None
    last = chief.get("/api/v1/cases", {"sort": sort, "page_size": 4, "page": "last"}).json()
    assert ([c["number"] for c in last["results"]], last["next"]) == (order[4:], None)
    assert chief.get("/api/v1/cases", {"sort": sort, "page_size": 2, "page": 4}).status_code == 404
    assert chief.get("/api/v1/cases", {"sort": sort, "page": 0}).status_code == 404
    assert chief.get("/api/v1/cases", {"sort": sort, "page": "x"}).status_code == 404
    # a text search as well
    body = chief.get("/api/v1/cases", {"q": "井盖松动", "page_size": 2, "sort": sort}).json()
    assert (body["count"], body["count_capped"], len(body["results"])) == (3, True, 2)
    assert sorted(_walk(chief, body)) == sorted(numbers[:5])
    body = chief.get("/api/v1/cases", {"q": "路灯不亮", "sort": sort}).json()
    assert (body["count"], body["count_capped"], body["next"]) == (1, False, None)
    # empty filters, as a form with empty fields sends them, are no filters (they were a 400)
    body = chief.get("/api/v1/cases", {"sort": sort}).json()
    empty = {"q": " ", "type": "", "area": "", "department": "", "source": "", "state": "", "sort": sort}
    assert chief.get("/api/v1/cases", empty).json() == body
    monkeypatch.setattr(api, "COUNT_CAP", 6)
    body = chief.get("/api/v1/cases", {"sort": sort, "page_size": 4}).json()
    assert (body["count"], body["count_capped"]) == (6, False)  # exactly the cap: all of them
    assert _walk(chief, body) == order
    assert chief.get("/api/v1/cases", {"sort": sort, "page_size": 4, "page": 3}).status_code == 404


def test_unknown_case_and_unknown_action(api_for):
    chief = api_for("demo-chief")
    assert chief.get("/api/v1/cases/2000-01-000001").status_code == 404
    assert chief.get("/api/v1/cases/2000-01-000001/events").status_code == 404
    assert act(chief, "2000-01-000001", "file").status_code == 404
    number = report(api_for("demo-inspector")).json()["number"]
    r = act(chief, number, "fly")
    assert r.status_code == 400 and "action" in r.json()
    r = act(chief, number, "reject")  # a reason is required
    assert r.status_code == 400 and r.json()["code"] == "reason_required"
    assert Case.objects.get(number=number).state == State.TO_FILE


def test_list_filters_sort_and_paging(api_for):
    inspector, operator, chief = api_for("demo-inspector"), api_for("demo-operator"), api_for("demo-chief")
    numbers = [report(inspector, description=f"小广告 {i}").json()["number"] for i in range(3)]
    public = report(operator, source="public", type="06010", description="路边暴露垃圾").json()["number"]
    act(chief, numbers[0], "file")

    def listed(client=chief, **params):
        r = client.get("/api/v1/cases", params)
        assert r.status_code == 200, r.content
        return [c["number"] for c in r.json()["results"]]

    assert listed() == [public, *reversed(numbers)]
    assert listed(sort="number") == sorted([*numbers, public])
    assert listed(queue="to_file") == list(reversed(numbers[1:]))
    assert listed(queue="to_dispatch") == [numbers[0]]
    assert listed(type="06010") == [public]
    assert listed(source="public") == [public]
    assert listed(state="to_verify") == [public]
    assert listed(q="暴露垃圾") == [public]
    assert listed(q=numbers[1]) == [numbers[1]]
    assert listed(area="140403") == [public, *reversed(numbers)]
    today = timezone.localdate().isoformat()
    assert len(listed(**{"from": today, "to": today})) == 4
    assert listed(**{"from": "2000-01-01", "to": "2000-01-02"}) == []
    # Paging
    r = chief.get("/api/v1/cases", {"page_size": 3})
    body = r.json()
    assert body["count"] == 4 and len(body["results"]) == 3 and body["next"] and body["previous"] is None
    r = chief.get(body["next"])
    assert len(r.json()["results"]) == 1 and r.json()["next"] is None
    assert len(chief.get("/api/v1/cases", {"page_size": 1000}).json()["results"]) == 4  # capped at 100
    # Bad filter values: 400 naming the parameter.
    for bad in ({"sort": "description"}, {"queue": "nope"}, {"state": "lost"}, {"from": "yesterday"}):
        r = chief.get("/api/v1/cases", bad)
        assert r.status_code == 400 and next(iter(bad)) in r.json(), bad
    assert chief.get("/api/v1/cases", {"page": 9}).status_code == 404
    # A handler sees only their department's cases.
    assert listed(api_for("demo-handler")) == []


def test_actions_are_named_like_the_table():
    from cityops.cases.api import ACTION_NAMES

    assert set(ACTION_NAMES) == {
        "verify", "file", "reject", "invalidate", "merge", "dispatch", "return", "accept",
        "request_extension",
        "approve_extension", "deny_extension", "park", "unpark", "report_done", "check_pass", "check_fail",
        "close", "urge", "reopen",
    }  # fmt: skip


def test_return_leaves_the_handler_without_the_case(api_for):
    number = report(api_for("demo-inspector")).json()["number"]
    act(api_for("demo-chief"), number, "file")
    act(api_for("demo-dispatcher"), number, "dispatch")
    handler = api_for("demo-handler")
    r = act(handler, number, "return")
    assert r.status_code == 400 and r.json()["code"] == "reason_required"
    r = act(handler, number, "return", reason="不属于本单位职责")
    assert r.status_code == 200
    assert r.json() == {"number": number, "allowed_actions": []}
    assert handler.get(f"/api/v1/cases/{number}").status_code == 404
    body = api_for("demo-dispatcher").get(f"/api/v1/cases/{number}").json()
    assert body["state"] == State.TO_DISPATCH and body["return_count"] == 1 and body["department"] is None
