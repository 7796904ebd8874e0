"""The page frame's links are reversed once per script prefix and URLconf, and stay correct."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import clear_script_prefix, reverse, set_script_prefix

from cityops.core import context_processors


@pytest.mark.django_db
def test_every_page_links_home_log_out_and_language(client, django_user_model):
    user = django_user_model.objects.create_user("frame", password="x-long-password")
    client.force_login(user)
    html = client.get(reverse("accounts:home"), follow=True).content.decode()
    assert f'href="{reverse("accounts:home")}"' in html
    assert f'action="{reverse("accounts:logout")}"' in html
    assert f'action="{reverse("set_language")}"' in html


@pytest.mark.django_db
def test_links_follow_the_script_prefix(monkeypatch):
    monkeypatch.setattr(context_processors, "_LAYOUT_URLS", {})
    request = RequestFactory().get("/")
    request.user = None
    plain = context_processors.platform(request)["LAYOUT_URLS"]
    assert plain["logout"] == reverse("accounts:logout") and not plain["logout"].startswith("/city/")
    set_script_prefix("/city/")
    try:
        prefixed = context_processors.platform(request)["LAYOUT_URLS"]
    finally:
        clear_script_prefix()
    assert prefixed["logout"] == "/city" + plain["logout"] and prefixed["home"].startswith("/city/")
    assert context_processors.platform(request)["LAYOUT_URLS"] is plain  # kept, not reversed again
