"""Fixtures of the public pages' tests: the loaded city of the case tests, a fresh rate-limit cache."""

from __future__ import annotations

import pytest

from cityops.cases.tests.conftest import _media_in_tmp, loop_world  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    """A browser that asks for English pages: the tests assert the English msgids."""
    from django.test import Client

    return Client(headers={"accept-language": "en"})
