"""Who may see and do what through every page and API, and what of a citizen's contact leaves the staff side.

One city is loaded for the module (as ``test_bad_input_fuzz`` does) with four cases, and each test runs
in a savepoint rolled back after it:

* ``lz``: a citizen's public report in handling at 潞州区城管局 (LZ-CGJ, demo-handler), with a photo, the
  reporter's phone and e-mail, a "me too" follower's phone, and contact details the citizen typed into
  the description and the address;
* ``hw``: an inspector's report in handling at 环卫处 (CGJ-HW, handler-hw), with a photo;
* ``private``: a citizen's report not to be shown publicly, waiting for verification;
* ``dup``: another citizen's public report of the same problem, merged into ``private``.

Every privacy check plants a value that is in the database and asserts it is absent from the output; a
whole-city role seeing the reporter's phone on the same outputs shows the check can fail.
"""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse

CHIEF, OPERATOR, DISP, HANDLER, INSP, LEADER, ADMIN = (
    "demo-chief",
    "demo-operator",
    "demo-dispatcher",
    "demo-handler",
    "demo-inspector",
    "demo-leader",
    "demo-admin",
)
OTHER_HANDLER = "handler-hw"  # 环卫处 (CGJ-HW): not above or under 潞州区城管局
SWITCHED_OFF = "handler-off"  # was a handler at LZ-CGJ; the membership is switched off
NO_ROLE = "no-role"  # an account without any membership
WHOLE_CITY = (CHIEF, OPERATOR, DISP, LEADER, ADMIN)

# Contact details planted in the database (the reporter's, a follower's, and what the citizen typed).
PHONE = "13812340001"
EMAIL = "li.reporter@example.com"
FOLLOWER = "13912340002"
TYPED_PHONE = "138 1234 0003"  # in the description, written in groups
TYPED_EMAIL = "wang.typed@example.org"  # in the description
TYPED_PLUS = "+8613912340004"  # in the address, with the country code
PRIVATE_PHONE = "13712340005"  # the private case's reporter
DUP_PHONE = "13612340006"  # the reporter of the duplicate merged into the private case
PLANTED = (
    PHONE,
    EMAIL,
    FOLLOWER,
    TYPED_PHONE,
    TYPED_PHONE.replace(" ", ""),
    TYPED_EMAIL,
    TYPED_PLUS,
    TYPED_PLUS[3:],
    PRIVATE_PHONE,
    DUP_PHONE,
)


# ------------------------------------------------------------------------------------------------
# the world, loaded once


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.test import override_settings
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from cityops.accounts.services import user_upsert
    from cityops.cases import services
    from cityops.cases.models import Case
    from cityops.cases.tests.conftest import LZ_LAT, LZ_LON, WORLD_COMMANDS, png_bytes, upload
    from cityops.demo.people import load_people
    from cityops.organization.loaders import load_departments
    from cityops.organization.models import Department
    from cityops.organization.services import membership_grant, membership_revoke

    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], MEDIA_ROOT=str(media)
        ),
        transaction.atomic(),
    ):
        load_departments()
        load_people()
        for name in WORLD_COMMANDS:
            call_command(name, **quiet)
        lz_dept = Department.objects.get(code="LZ-CGJ")
        off = user_upsert(username=SWITCHED_OFF, name="关处置", password="x-long-password")
        membership_grant(user=off, department=lz_dept, role="handler")
        membership_revoke(user=off, department=lz_dept, role="handler")
        user_upsert(username=NO_ROLE, name="无角色", password="x-long-password")
        people = {u.username: u for u in get_user_model().objects.all()}
        now = timezone.now()

        def report(source, *, who=None, phone="", email="", public=True, description="小广告", address=""):
            data = services.ReportInput(
                source=source,
                type_code="07001",
                description=description,
                lat=LZ_LAT,
                lon=LZ_LON,
                address=address,
                reporter_phone=phone,
                reporter_email=email,
                is_public=public,
            )
            photos = [upload(png_bytes(), "p.png", "image/png")]
            actor = people[who] if who else None
            return services.case_report(data=data, photos=photos, actor=actor, now=now).number

        def act(number, who, action, **kw):
            data = services.ActionInput(action=action, **kw)
            services.case_act(number=number, data=data, actor=people[who], now=now)

        lz = report(
            "public",
            phone=PHONE,
            email=EMAIL,
            description=f"电线杆上贴满小广告，联系我 {TYPED_PHONE} 或 {TYPED_EMAIL}",
            address=f"英雄中路1号，电话{TYPED_PLUS}",
        )
        services.case_follow(number=lz, phone=FOLLOWER, now=now)
        for who, action in ((INSP, "verify"), (CHIEF, "file"), (DISP, "dispatch"), (HANDLER, "accept")):
            act(lz, who, action)
        hw = report("inspector", who=INSP)
        act(hw, CHIEF, "file")
        act(hw, DISP, "dispatch", department="CGJ-HW")
        act(hw, OTHER_HANDLER, "accept")
        private = report("public", phone=PRIVATE_PHONE, public=False, description="我家门口的小广告")
        dup = report("public", phone=DUP_PHONE)
        act(dup, OPERATOR, "merge", original=private)

        cases = {c.number: c for c in Case.objects.filter(number__in=[lz, hw, private, dup])}
        numbers = {"lz": lz, "hw": hw, "private": private, "dup": dup}
        tokens = {name: Token.objects.get_or_create(user=u)[0].key for name, u in people.items()}
        yield {
            "n": numbers,
            "token": {k: cases[v].tracking_token for k, v in numbers.items()},
            "photo": {k: cases[v].attachments.get().pk for k, v in numbers.items()},
            "people": people,
            "api_tokens": tokens,
            "media": str(media),
        }
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _per_test(settings, world):
    """Photos are read from the module's media folder; no rate-limit counter is carried between tests."""
    from django.core.cache import cache

    settings.MEDIA_ROOT = world["media"]
    cache.clear()
    yield
    cache.clear()


pytestmark = pytest.mark.django_db


def browser(world, who: str = "", **kw) -> Client:
    client = Client(headers={"accept-language": "en"}, **kw)
    if who:
        client.force_login(world["people"][who])
    return client


def api(world, who: str = "") -> Client:
    headers = {"accept-language": "en"}
    if who:
        headers["authorization"] = f"Token {world['api_tokens'][who]}"
    return Client(headers=headers)


def text_of(response) -> str:
    """The whole answer as text: a streamed CSV, a workbook's cells, or a page."""
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        data = b"".join(response.streaming_content) if response.streaming else response.content
        wb = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row)
            for ws in wb
            for row in ws.iter_rows(values_only=True)
        )
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


def state_of(number: str) -> tuple:
    from cityops.cases.models import Case, CaseEvent

    c = Case.objects.get(number=number)
    return (
        c.state,
        c.department_id,
        c.updated_at,
        c.extension_pending,
        CaseEvent.objects.filter(case=c).count(),
    )


# ------------------------------------------------------------------------------------------------
# scope: a department's cases stay with that department


@pytest.mark.parametrize(("who", "mine", "theirs"), [(HANDLER, "lz", "hw"), (OTHER_HANDLER, "hw", "lz")])
def test_a_handler_reaches_nothing_of_another_departments_case(world, who, mine, theirs):
    number, own = world["n"][theirs], world["n"][mine]
    photo = world["photo"][theirs]
    web, token = browser(world, who), api(world, who)
    before = state_of(number)

    assert web.get(f"/cases/{own}/").status_code == 200  # the same person reaches their own case
    assert web.get(f"/cases/{number}/").status_code == 404
    assert web.get(f"/cases/{number}/photos/{photo}/").status_code == 404
    for action in ("accept", "return", "report_done", "request_extension"):
        r = web.post(f"/cases/{number}/act/", {"action": action, "reason": "r", "note": "n"})
        assert r.status_code == 404, action
    assert web.post(f"/cases/{number}/reply/", {"text": "已处理"}).status_code == 404
    for path in ("", "/events", "/duplicates"):
        assert token.get(f"/api/v1/cases/{number}{path}").status_code == 404, path
    for action in ("accept", "return", "report_done", "request_extension"):
        r = token.post(
            f"/api/v1/cases/{number}/actions",
            {"action": action, "reason": "r", "until": "2030-01-01T08:00+08:00"},
            content_type="application/json",
        )
        assert r.status_code == 404, action
    assert state_of(number) == before

    # lists, searches, exports and drill-downs leave it out (and keep the person's own)
    assert token.get("/api/v1/cases", {"q": number}).json()["count"] == 0
    assert token.get("/api/v1/cases", {"q": own}).json()["count"] == 1
    queue = web.get("/cases/").content.decode()
    assert own in queue and number not in queue
    for fmt in ("csv", "xlsx"):
        body = text_of(web.get(f"/cases/export.{fmt}"))
        assert own in body and number not in body, fmt
    drill = web.get("/dashboard/cases", {"indicator": "reports", "object": "city"}).content.decode()
    assert own in drill and number not in drill
    drill = web.get("/dashboard/cases", {"indicator": "reports", "object": "department:CGJ-HW"})
    assert number not in drill.content.decode()
    assert web.get("/dashboard/").status_code == 404  # the dashboard is the command centre's


def test_evaluation_of_a_handler_covers_their_departments_only(world):
    from cityops.organization.models import Department

    token = api(world, HANDLER)
    path = Department.objects.get(code="LZ-CGJ").path
    mine = set(Department.objects.filter(path__startswith=path).values_list("code", flat=True))
    rows = token.get("/api/v1/evaluation/departments").json()["results"]
    assert rows and {r["code"] for r in rows} <= mine
    people = {r["code"] for r in token.get("/api/v1/evaluation/people").json()["results"]}
    assert OTHER_HANDLER not in people and DISP not in people
    # areas are counted over the handler's cases only (one of the four reported today)
    areas = token.get("/api/v1/evaluation/areas").json()["results"]
    assert sum(r["indicators"]["reports"] or 0 for r in areas) == 1
    chief = api(world, CHIEF).get("/api/v1/evaluation/areas").json()["results"]
    assert sum(r["indicators"]["reports"] or 0 for r in chief) == 4
    report = browser(world, HANDLER).get("/evaluation/report/").content.decode()
    assert "CGJ-HW" not in report
    whole = {r["code"] for r in api(world, CHIEF).get("/api/v1/evaluation/departments").json()["results"]}
    assert "CGJ-HW" in whole  # the check above can fail


def test_department_notifications_go_to_the_responsible_department_only(world):
    from cityops.notifications.models import Notification

    for key, code, other in (("lz", "LZ-CGJ", "CGJ-HW"), ("hw", "CGJ-HW", "LZ-CGJ")):
        rows = Notification.objects.filter(case_number=world["n"][key])
        consoles = set(rows.filter(channel="console").values_list("recipient", flat=True))
        assert code in consoles and other not in consoles, key
        for n in rows:  # the reporter's contact goes to no department, and only to the reporter
            assert PHONE not in n.body and EMAIL not in n.body
            if n.recipient in (PHONE, EMAIL, FOLLOWER):
                assert key == "lz"


# ------------------------------------------------------------------------------------------------
# people without a (current) role


@pytest.mark.parametrize("who", [SWITCHED_OFF, NO_ROLE])
def test_without_an_active_role_nothing_is_reachable(world, who):
    number = world["n"]["lz"]
    web, token = browser(world, who), api(world, who)
    before = state_of(number)
    for url in (
        "/cases/",
        f"/cases/{number}/",
        f"/cases/{number}/photos/{world['photo']['lz']}/",
        "/cases/export.csv",
        "/cases/export.xlsx",
        "/cases/tasks/",
        "/cases/report/",
        "/dashboard/",
        "/dashboard/cases?indicator=reports&object=city",
        "/evaluation/report/",
        "/evaluation/report.xlsx",
        "/facilities/",
        "/facilities/export.xlsx",
    ):
        assert web.get(url).status_code == 404, url
    handler_home = reverse("accounts:role_home", args=["handler"])
    assert web.get("/").status_code == 403 and web.get(handler_home).status_code == 403
    assert web.post(f"/cases/{number}/act/", {"action": "accept"}).status_code == 404
    assert web.post(f"/cases/{number}/reply/", {"text": "x"}).status_code == 404
    assert token.get("/api/v1/cases").json()["count"] == 0
    for path in ("", "/events", "/duplicates"):
        assert token.get(f"/api/v1/cases/{number}{path}").status_code == 404
    r = token.post(f"/api/v1/cases/{number}/actions", {"action": "accept"}, content_type="application/json")
    assert r.status_code == 404
    body = {"type": "07001", "description": "x", "lat": 36.195, "lon": 113.117}
    assert token.post("/api/v1/cases", body, content_type="application/json").status_code == 403
    assert token.get("/api/v1/evaluation/departments").status_code == 404
    assert state_of(number) == before


def test_an_inspector_takes_no_department_or_command_centre_step(world):
    number = world["n"]["hw"]  # reported by the inspector, so they see it
    web, token = browser(world, INSP), api(world, INSP)
    before = state_of(number)
    assert web.get(f"/cases/{number}/").status_code == 200
    for action in ("accept", "report_done", "return", "park", "urge", "dispatch"):
        r = token.post(
            f"/api/v1/cases/{number}/actions",
            {"action": action, "reason": "r", "note": "n"},
            content_type="application/json",
        )
        assert r.status_code == 403, action
    assert web.post(f"/cases/{number}/reply/", {"text": "已处理"}).status_code == 403
    assert web.get("/dashboard/").status_code == 404
    assert web.get(f"/cases/{world['n']['lz']}/").status_code == 404  # in handling: not theirs
    assert state_of(number) == before


# ------------------------------------------------------------------------------------------------
# the reporter's contact on the staff side: the command centre only


def _staff_outputs(world, who: str, key: str) -> dict[str, str]:
    number = world["n"][key]
    web, token = browser(world, who), api(world, who)
    return {
        "page": web.get(f"/cases/{number}/").content.decode(),
        "api": token.get(f"/api/v1/cases/{number}").content.decode(),
        "api list": token.get("/api/v1/cases", {"q": number}).content.decode(),
        "api events": token.get(f"/api/v1/cases/{number}/events").content.decode(),
        "csv": text_of(web.get("/cases/export.csv", {"q": number})),
        "xlsx": text_of(web.get("/cases/export.xlsx", {"q": number})),
    }


@pytest.mark.parametrize("who", WHOLE_CITY)
def test_the_command_centre_sees_the_reporters_phone(world, who):
    outputs = _staff_outputs(world, who, "lz")
    for name, body in outputs.items():
        if name != "api events":
            assert PHONE in body, (who, name)


@pytest.mark.parametrize(("who", "key", "phone"), [(HANDLER, "lz", PHONE), (INSP, "private", PRIVATE_PHONE)])
def test_handlers_and_inspectors_never_see_the_reporters_contact(world, who, key, phone):
    outputs = _staff_outputs(world, who, key)
    assert world["n"][key] in outputs["page"] and world["n"][key] in outputs["csv"]  # they see the case
    for name, body in outputs.items():
        assert phone not in body and EMAIL not in body, (who, name)
        assert "reporter_phone" not in body and "reporter_name" not in body, (who, name)


# ------------------------------------------------------------------------------------------------
# public outputs: no contact, no tracking token


def _public_urls(world) -> list[str]:
    n = world["n"]
    ids = ",".join(n.values())
    urls = [
        "/track/",
        f"/track/{n['lz']}/",
        f"/track/{n['dup']}/",
        "/map/",
        "/map/cases.geojson",
        "/figures/",
        "/report/nearby?type=matter:07001&lat=36.195&lon=113.117",
        f"/track/{n['private']}/",  # not public: 404
    ]
    for fmt in ("json", "xml"):
        for ext in ("", "&extensions=true"):
            urls += [
                f"/open311/v2/requests.{fmt}?service_request_id={ids}{ext}",
                f"/open311/v2/requests.{fmt}?{ext[1:]}",
                f"/open311/v2/requests/{n['lz']}.{fmt}?{ext[1:]}",
                f"/open311/v2/requests/{n['private']}.{fmt}?{ext[1:]}",  # not public: 404
                f"/open311/v2/servicerequestupdates.{fmt}?service_request_id={ids}{ext}",
            ]
    return urls


def test_no_public_output_carries_a_contact_or_a_tracking_token(world):
    client = browser(world)
    secrets = (*PLANTED, *world["token"].values())
    leaks = []
    for url in _public_urls(world):
        body = client.get(url).content.decode()
        leaks += [(url, secret) for secret in secrets if secret in body]
    assert leaks == [], "\n".join(f"{u} {s}" for u, s in leaks)
    # what the citizen typed is shown masked, as on every public output
    page = client.get(f"/track/{world['n']['lz']}/").content.decode()
    assert "138****0003" in page and "139****0004" in page
    record = client.get(f"/open311/v2/requests/{world['n']['lz']}.json").json()[0]
    assert "138****0003" in record["description"] and "139****0004" in record["address"]


def test_the_reporters_own_page_shows_their_number_masked_only(world):
    client = browser(world)
    n, t = world["n"]["lz"], world["token"]["lz"]
    assert client.get(f"/track/{n}/", {"t": t}).status_code == 302  # the secret leaves the address bar
    page = client.get(f"/track/{n}/").content.decode()
    assert 'data-testid="private"' in page and "138****0001" in page
    for secret in (*PLANTED, t):
        assert secret not in page, secret


# ------------------------------------------------------------------------------------------------
# tracking tokens


def test_a_private_case_opens_with_its_full_token_only(world):
    n, t = world["n"]["private"], world["token"]["private"]
    assert len(t) >= 16
    for guess in ("", t[:8], t[:15], t[:-1] + ("A" if t[-1] != "A" else "B"), "x" * len(t)):
        client = browser(world)
        if guess:
            client.get(f"/track/{n}/", {"t": guess})
        assert client.get(f"/track/{n}/").status_code == 404, guess
        assert client.get(f"/track/{n}/photos/{world['photo']['private']}").status_code == 404, guess
        assert client.post(f"/track/{n}/rate", {"rating": "satisfied"}).status_code == 404, guess
    client = browser(world)
    assert client.get(f"/track/{n}/", {"t": t}).status_code == 302
    assert client.get(f"/track/{n}/").status_code == 200  # the check above can fail


def test_a_private_case_opens_with_its_reporters_number_only(world):
    """A duplicate's reporter follows the original after a merge (SMS updates); their number must not
    open the original when its reporter asked for it not to be shown."""
    n = world["n"]["private"]
    stranger = browser(world)
    r = stranger.post("/track/", {"number": n, "phone": DUP_PHONE})
    assert r.status_code == 404
    assert stranger.get(f"/track/{n}/").status_code == 404
    owner = browser(world)
    assert owner.post("/track/", {"number": n, "phone": PRIVATE_PHONE}).status_code == 302
    assert owner.get(f"/track/{n}/").status_code == 200


def test_a_me_too_number_sees_the_public_timeline_only(world):
    """Anyone may press "me too" with any number: it gets the case's updates, not the reporter's view,
    rating and reopening (the first rating of a closing counts)."""
    client = browser(world)
    n = world["n"]["lz"]
    assert client.post("/track/", {"number": n, "phone": FOLLOWER}).status_code == 302
    page = client.get(f"/track/{n}/").content.decode()
    assert 'data-testid="private"' not in page and "not the reporter" in page
    owner = browser(world)
    assert owner.post("/track/", {"number": n, "phone": PHONE}).status_code == 302
    assert 'data-testid="private"' in owner.get(f"/track/{n}/").content.decode()  # the check can fail


def test_the_reporters_of_duplicates_merged_into_a_public_case_open_it(world):
    """Their own reports became this case, directly or through a case merged into it in turn."""
    from django.utils import timezone

    from cityops.cases import services
    from cityops.cases.tests.conftest import LZ_LAT, LZ_LON

    people, now, n = world["people"], timezone.now(), world["n"]["lz"]

    def report(phone):
        data = services.ReportInput(
            source="public",
            type_code="07001",
            description="小广告",
            lat=LZ_LAT,
            lon=LZ_LON,
            reporter_phone=phone,
        )
        return services.case_report(data=data, now=now).number

    def merge(number, original):
        data = services.ActionInput(action="merge", original=original)
        services.case_act(number=number, data=data, actor=people[OPERATOR], now=now)

    first, second = report("13712340101"), report("13712340102")
    merge(first, second)  # the first into the second, then the second into the public case
    merge(second, n)
    for phone in ("13712340101", "13712340102"):
        client = browser(world)
        assert client.post("/track/", {"number": n, "phone": phone}).status_code == 302
        assert 'data-testid="private"' in client.get(f"/track/{n}/").content.decode(), phone


# ------------------------------------------------------------------------------------------------
# photos through the staff API


def test_api_photos_are_served_to_those_who_see_the_case_only(world):
    from django.conf import settings

    number = world["n"]["lz"]
    photos = api(world, HANDLER).get(f"/api/v1/cases/{number}").json()["photos"]
    url = photos[0]["url"]
    assert "/" + settings.MEDIA_URL.strip("/") + "/" not in url  # the storage is not served publicly
    r = api(world, HANDLER).get(url)
    assert r.status_code == 200 and r["Content-Type"].startswith("image/")
    assert r["Cache-Control"].startswith("private")
    assert api(world, OTHER_HANDLER).get(url).status_code == 404
    assert api(world, NO_ROLE).get(url).status_code == 404
    assert api(world).get(url).status_code in (401, 403)
    events = api(world, HANDLER).get(f"/api/v1/cases/{number}/events").json()
    assert [p["url"] for e in events for p in e["photos"]] == [url]


# ------------------------------------------------------------------------------------------------
# CSRF and methods


def _csrf_token(client: Client, url: str) -> str:
    html = client.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_state_changing_forms_refuse_a_post_without_the_csrf_token(world):
    n = world["n"]
    before = {k: state_of(v) for k, v in n.items()}
    staff = browser(world, HANDLER, enforce_csrf_checks=True)
    assert staff.post(f"/cases/{n['lz']}/act/", {"action": "report_done"}).status_code == 403
    assert staff.post(f"/cases/{n['lz']}/reply/", {"text": "已处理"}).status_code == 403
    api_post = staff.post(f"/api/v1/cases/{n['lz']}/actions", {"action": "return", "reason": "r"})
    assert api_post.status_code == 403  # the API's session authentication checks it too
    chief = browser(world, CHIEF, enforce_csrf_checks=True)
    assert chief.post(f"/cases/{n['dup']}/act/", {"action": "reject", "reason": "r"}).status_code == 403
    assert chief.post("/facilities/import/", {}).status_code == 403
    assert chief.post("/logout/").status_code == 403
    citizen = browser(world, enforce_csrf_checks=True)
    for url, data in (
        ("/report/", {"type": "matter:07001", "description": "x", "lat": "36.195", "lon": "113.117"}),
        ("/report/metoo", {"follow": n["lz"], "phone": "13500000000"}),
        ("/track/", {"number": n["lz"], "phone": FOLLOWER}),
        (f"/track/{n['lz']}/rate", {"rating": "satisfied"}),
        (f"/track/{n['lz']}/reopen", {"reason": "没修好"}),
        ("/i18n/setlang/", {"language": "en"}),
        ("/login/", {"username": CHIEF, "password": "cityops-demo"}),
    ):
        assert citizen.post(url, data).status_code == 403, url
    assert {k: state_of(v) for k, v in n.items()} == before
    # with the token the same reply goes through: the refusals above are the CSRF check's
    token = _csrf_token(staff, f"/cases/{n['lz']}/")
    r = staff.post(f"/cases/{n['lz']}/reply/", {"text": "已处理", "csrfmiddlewaretoken": token})
    assert r.status_code == 302 and state_of(n["lz"]) != before["lz"]


@pytest.mark.parametrize(
    ("who", "url"),
    [
        (HANDLER, "/cases/{lz}/act/?action=report_done"),
        (HANDLER, "/cases/{lz}/reply/?text=x"),
        (HANDLER, "/api/v1/cases/{lz}/actions?action=return&reason=r"),
        ("", "/report/metoo?follow={lz}&phone=13500000000"),
        ("", "/track/{lz}/rate?rating=satisfied"),
        ("", "/track/{lz}/reopen?reason=x"),
        (CHIEF, "/logout/"),
    ],
)
def test_get_never_changes_state(world, who, url):
    n = world["n"]
    before = state_of(n["lz"])
    client = api(world, who) if url.startswith("/api/") else browser(world, who)
    assert client.get(url.format(**n)).status_code == 405
    assert state_of(n["lz"]) == before


def test_no_stored_photo_is_served_by_its_path(settings):
    """In development too (DEBUG is the default there): the path of a private case's photo is easy to
    guess from its number, and only the views that ask the case's selector serve photos."""
    import importlib

    from django.urls import Resolver404, resolve

    import config.urls

    settings.DEBUG = True
    urls = importlib.reload(config.urls)  # the address book as a development server builds it
    try:
        for path in ("/media/cases/2026-03/2026-03-000001/report-1-1.jpg", settings.MEDIA_URL + "x.jpg"):
            with pytest.raises(Resolver404):
                resolve(path, urlconf=urls)
    finally:
        settings.DEBUG = False
        importlib.reload(config.urls)
