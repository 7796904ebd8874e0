import pytest
from django.core.management import call_command

from cityops.geography import selectors


@pytest.fixture(autouse=True)
def _fresh_geography_caches():
    # The index and the city name are cached per process; each test has its own database.
    selectors.clear_caches()
    yield
    selectors.clear_caches()


@pytest.fixture
def changzhi(db):
    """The reference places of 长治市, loaded through the command."""
    call_command("geography_load", stdout=open("/dev/null", "w"))  # noqa: SIM115
