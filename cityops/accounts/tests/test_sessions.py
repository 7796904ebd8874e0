"""The session store reads sessions with a compiled lookup: current ones load, expired and unknown
ones do not (and leave the request signed out), exactly as Django's database sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityops.accounts.models import Session
from cityops.accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_current_expired_and_unknown_sessions():
    store = SessionStore()
    store["answer"] = 42
    store.create()
    key = store.session_key
    with CaptureQueriesContext(connection) as q:
        assert SessionStore(key).load() == {"answer": 42}
    assert len(q.captured_queries) == 1

    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(key)
    assert expired.load() == {}
    assert expired.session_key is None

    unknown = SessionStore("x" * 32)
    assert unknown.load() == {}
    assert unknown.session_key is None


def test_signing_in_and_out_through_the_pages(client, django_user_model):
    django_user_model.objects.create_user("li", password="a-long-password-1")
    r = client.post("/login/", {"username": "li", "password": "a-long-password-1"})
    assert r.status_code == 302
    key = client.cookies["sessionid"].value
    assert SessionStore(key).load()["_auth_user_id"]
    client.post("/logout/")
    assert SessionStore(key).load() == {}
