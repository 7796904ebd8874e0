"""A signed-in page reads its session, the person and their memberships in one query; the person is
the one Django's session lookup and the backend would give, and every refusal Django makes still holds
(expired session, switched-off person, changed password, deleted person)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityops.accounts.models import Session
from cityops.accounts.selectors import session_person, user_get
from cityops.accounts.sessions import NOT_READ, SessionStore
from cityops.organization.models import Membership
from cityops.organization.selectors import memberships_of, roles_of

pytestmark = pytest.mark.django_db


def _fields(obj) -> list:
    return [getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields]


def test_session_and_person_equal_the_two_lookups(demo_people, client):
    handler = demo_people["demo-handler"]
    Membership.objects.create(
        user=handler, department=memberships_of(handler)[0].department, role="inspector"
    )
    for user in demo_people.values():
        client.force_login(user)
        key = client.cookies["sessionid"].value
        with CaptureQueriesContext(connection) as ctx:
            session, person = session_person(key, now=timezone.now())
            roles = roles_of(person)
        assert len(ctx.captured_queries) == 1
        reference = Session.objects.get(session_key=key)
        assert _fields(session) == _fields(reference)
        assert reference.user_id == user.pk
        expected = user_get(user.pk)
        assert _fields(person) == _fields(expected)
        assert sorted(m.pk for m in memberships_of(person)) == sorted(m.pk for m in memberships_of(expected))
        assert roles == roles_of(expected) and roles
    assert session_person("x" * 32, now=timezone.now()) is None


def test_a_session_without_a_person_and_an_expired_one():
    store = SessionStore()
    store["language"] = "en"
    store.create()
    assert Session.objects.get(session_key=store.session_key).user_id is None
    again = SessionStore(store.session_key)
    assert again.person is NOT_READ
    assert again.load() == {"language": "en"}
    assert again.person is None and again.session_key == store.session_key
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert session_person(store.session_key, now=timezone.now()) is None
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None


def test_a_staff_page_reads_session_and_person_once(demo_people, client):
    client.force_login(demo_people["demo-dispatcher"])
    client.get("/cases/")  # reference data cached
    with CaptureQueriesContext(connection) as ctx:
        r = client.get("/cases/")
    assert r.status_code == 200 and r.context["user"].username == "demo-dispatcher"
    sessions = [q["sql"] for q in ctx.captured_queries if "session" in q["sql"]]
    people = [q["sql"] for q in ctx.captured_queries if "accounts_user" in q["sql"]]
    assert len(sessions) == 1 and people == sessions, [q["sql"][:80] for q in ctx.captured_queries]


def test_a_session_whose_column_disagrees_falls_back_to_the_person_it_holds(demo_people, client):
    """The person in the session data decides; the column only saves a query when it agrees."""
    dispatcher, leader = demo_people["demo-dispatcher"], demo_people["demo-leader"]
    client.force_login(dispatcher)
    key = client.cookies["sessionid"].value
    for column in (None, leader.pk):
        Session.objects.filter(session_key=key).update(user=column)
        r = client.get("/cases/")
        assert r.status_code == 200 and r.context["user"].username == "demo-dispatcher"


def test_refusals_django_makes_still_hold(demo_people, client):
    dispatcher = demo_people["demo-dispatcher"]
    client.force_login(dispatcher)
    assert client.get("/cases/").status_code == 200
    dispatcher.set_password("another-long-password-7")  # other sessions end with a password change
    dispatcher.save()
    assert client.get("/cases/").status_code == 302
    client.force_login(dispatcher)
    assert client.get("/cases/").status_code == 200
    dispatcher.is_active = False
    dispatcher.save(update_fields=["is_active"])
    assert client.get("/cases/").status_code == 302
    handler = demo_people["demo-handler"]
    client.force_login(handler)
    key = client.cookies["sessionid"].value
    handler.delete()  # deleting a person ends their sessions
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get("/cases/").status_code == 302


def test_sessions_written_by_django_store_carry_over(demo_people):
    """The upgrade copies Django's current sessions with their person, so nobody is signed out."""
    from importlib import import_module

    from django.apps import apps
    from django.contrib.sessions.models import Session as DjangoSession

    carry_over = import_module("cityops.accounts.migrations.0002_session").carry_over_sessions
    signed_in = DjangoStore()
    signed_in[SESSION_KEY] = str(demo_people["demo-leader"].pk)
    signed_in.create()
    anonymous = DjangoStore()
    anonymous["language"] = "en"
    anonymous.create()
    gone = DjangoStore()
    gone.create()
    DjangoSession.objects.filter(session_key=gone.session_key).update(
        expire_date=timezone.now() - timedelta(days=1)
    )
    carry_over(apps, None)
    copied = {s.session_key: s for s in Session.objects.all()}
    assert set(copied) == {signed_in.session_key, anonymous.session_key}
    assert copied[signed_in.session_key].user_id == demo_people["demo-leader"].pk
    assert copied[anonymous.session_key].user_id is None
    assert SessionStore(signed_in.session_key).load() == {SESSION_KEY: str(demo_people["demo-leader"].pk)}


def test_clearsessions_removes_expired_sessions_of_this_table(demo_people, client):
    from django.core.management import call_command

    client.force_login(demo_people["demo-leader"])
    current = client.cookies["sessionid"].value
    old = SessionStore()
    old.create()
    Session.objects.filter(session_key=old.session_key).update(expire_date=timezone.now() - timedelta(days=1))
    call_command("clearsessions")
    assert set(Session.objects.values_list("session_key", flat=True)) == {current}


def test_the_admin_never_shows_a_session_key(demo_people, client, django_user_model):
    """Deleting a person lists their sessions on the confirmation page: by date, never by the key that
    signs its holder in."""
    victim = django_user_model.objects.create_superuser("boss", password="a-long-password-9")
    other = type(client)()
    other.force_login(victim)
    key = other.cookies["sessionid"].value
    admin = django_user_model.objects.create_superuser("root2", password="a-long-password-8")
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{victim.pk}/delete/")
    assert page.status_code == 200
    body = page.content.decode()
    assert key not in body and str(Session.objects.get(session_key=key)) in body


def test_sessions_saved_from_async_code_keep_their_person(demo_people):
    from asgiref.sync import async_to_sync

    store = SessionStore()
    store[SESSION_KEY] = str(demo_people["demo-chief"].pk)
    async_to_sync(store.acreate)()
    assert Session.objects.get(session_key=store.session_key).user_id == demo_people["demo-chief"].pk


@pytest.mark.parametrize("key", ["abc\x00defghijklmnop", "x" * 41, "ABCDEFGHIJKLMNOP", "short"])
def test_a_cookie_no_store_could_have_made_reads_as_no_session(demo_people, client, key):
    client.cookies["sessionid"] = key
    response = client.get("/cases/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert SessionStore(key).session_key is None
    client.force_login(demo_people["demo-dispatcher"])  # a real key still signs in
    assert client.get("/cases/").status_code == 200
