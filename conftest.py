"""Project-wide pytest fixtures."""

import pytest


@pytest.fixture
def departments(db):
    """The demo city's department tree, loaded through the real loader."""
    from cityops.organization.loaders import load_departments
    from cityops.organization.models import Department

    load_departments()
    return {d.code: d for d in Department.objects.all()}


@pytest.fixture
def demo_people(departments):
    """The demo people with their roles (password ``cityops-demo``)."""
    from django.contrib.auth import get_user_model

    from cityops.demo.people import load_people

    load_people()
    return {u.username: u for u in get_user_model().objects.all()}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing costs ~0.3 s per password; tests create many accounts."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_reference_caches():
    """Per-process caches of reference data must not leak between tests (ids repeat on a fresh DB), nor
    what the Django cache keeps (the public figures, rate-limit counters)."""
    from django.core.cache import cache

    from cityops.catalog import cache as catalog_cache
    from cityops.core.calendar import calendar_changed_locally
    from cityops.geography.selectors import clear_caches
    from cityops.organization.selectors import departments_changed_locally

    caches = (
        clear_caches,
        catalog_cache.clear,
        calendar_changed_locally,
        departments_changed_locally,
        cache.clear,
    )
    for clear in caches:
        clear()
    yield
    for clear in caches:
        clear()


@pytest.fixture(autouse=True)
def _english_messages_outside_requests():
    """Service messages are asserted in English; pages negotiate their own language per request."""
    from django.utils import translation

    with translation.override("en"):
        yield
