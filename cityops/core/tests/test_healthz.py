"""``/healthz``: 200 while the database answers, 503 (and nothing else said) when it does not."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper

pytestmark = pytest.mark.django_db


def test_healthy(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert "no-store" in r["Cache-Control"]
    assert "sessionid" not in r.cookies


def test_database_down_is_503_without_details(client, monkeypatch, caplog):
    def refuse(self, sql, params=None):
        raise OperationalError("connection to server at 127.0.0.1 failed: secret detail")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable"}
    assert b"secret detail" not in r.content
    assert "the database did not answer" in caplog.text


def test_only_get(client):
    assert client.post("/healthz").status_code == 405
