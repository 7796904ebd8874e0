"""The demo city's Open311 key comes from the demo set-up, once."""

import io

import pytest
from django.core.management import call_command

from cityops.open311.models import ApiKey


@pytest.mark.django_db
def test_demo_setup_creates_the_demo_key_once(settings):
    settings.CITYOPS_DEMO = True
    for _ in range(2):
        call_command("demo_setup", "--cases", "0", stdout=io.StringIO())
    assert ApiKey.objects.filter(key="demo-open311-key", is_active=True).count() == 1
