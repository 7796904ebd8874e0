"""The production static storage keeps each file's hashed URL, and refuses what the manifest lacks."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from cityops.core.storage import StaticStorage


@pytest.fixture
def collected(tmp_path, settings):
    src = tmp_path / "src" / "app"
    src.mkdir(parents=True)
    (src / "site.css").write_text("body { color: #333 }\n")
    settings.STATICFILES_DIRS = [tmp_path / "src"]
    settings.STATIC_ROOT = tmp_path / "root"
    settings.STATIC_URL = "/static/"
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "cityops.core.storage.StaticStorage"}}
    with override_settings(STORAGES=storages):
        call_command("collectstatic", "--no-input", "-v", "0")
        yield tmp_path


def test_url_is_the_hashed_name_and_kept(collected, monkeypatch):
    storage = StaticStorage()
    first = storage.url("app/site.css")
    assert first.startswith("/static/app/site.") and first.endswith(".css")
    assert first != "/static/app/site.css"
    calls = []
    monkeypatch.setattr(
        StaticStorage.__mro__[1], "url", lambda self, name, force=False: calls.append(name) or "other"
    )
    assert storage.url("app/site.css") == first  # kept: the manifest is not asked again
    assert calls == []
    assert storage.url("app/other.css") == "other"  # a new name still goes to the manifest
    assert calls == ["app/other.css"]


def test_a_name_missing_from_the_manifest_raises_every_time(collected):
    storage = StaticStorage()
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("app/missing.css")
    assert "app/missing.css" not in storage._urls


def test_collectstatic_forgets_the_old_urls(collected, settings):
    storage = StaticStorage()
    storage.url("app/site.css")
    assert storage._urls
    (collected / "src" / "app" / "site.css").write_text("body { color: #000 }\n")
    list(storage.post_process({}, dry_run=True))  # the hook collectstatic runs on this instance
    assert storage._urls == {}
