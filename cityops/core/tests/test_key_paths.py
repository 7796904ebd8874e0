"""A NUL in a record's key in the path is no such page (404), never a database error (500)."""

from __future__ import annotations

import pytest

PAGES = [
    "/cases/%00/",
    "/cases/%00/act/",
    "/cases/%00/photos/1/",
    "/track/%00/",
    "/facilities/%00/",
    "/api/v1/cases/%00",
    "/api/v1/cases/%00/events",
    "/api/v1/evaluation/%00",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_a_nul_in_a_key_is_not_found(client, demo_people, path):
    client.force_login(demo_people["demo-dispatcher"])
    assert client.get(path).status_code == 404
    assert client.get(path.replace("%00", "2026-01-%00")).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/open311/v2/requests/%00.json", "application/json; charset=utf-8"),
        ("/open311/v2/services/%00.xml", "text/xml; charset=utf-8"),
        ("/open311/v2/tokens/a%00b.json", "application/json; charset=utf-8"),
        ("/open311/media/%00/1", None),
    ],
)
def test_open311_answers_a_nul_key_as_not_found_in_the_asked_format(client, path, content_type):
    response = client.get(path)
    assert response.status_code == 404
    if content_type:
        assert response["Content-Type"] == content_type


def test_keys_still_reverse_and_match():
    from django.urls import resolve, reverse

    url = reverse("cases:detail", args=["2026-11-000123"])
    assert url.endswith("/cases/2026-11-000123/")
    assert resolve(url).kwargs == {"number": "2026-11-000123"}
