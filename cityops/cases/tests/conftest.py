"""Shared fixtures of the case tests: a loaded city in which the loop can run.

``loop_world`` loads the real data through the real commands (about 1.3 s per test on SQLite, most
of it the catalogue), so tests that need many cases build them in one test rather than one per test.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

# A point in 潞州区 (140403), where the demo's dispatch rules send small ads (07001) to LZ-CGJ.
LZ_LAT, LZ_LON = 36.195, 113.117

WORLD_COMMANDS = ("core_calendar_seed", "geography_load", "catalog_load", "cases_load_dispatch_rules")


@pytest.fixture
def loop_world(demo_people):
    """Calendar, geography, catalogue, departments, demo people and dispatch rules, loaded through the
    real commands. Returns the demo people by username."""
    for name in WORLD_COMMANDS:
        call_command(name, stdout=io.StringIO(), stderr=io.StringIO())
    return demo_people


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Photos stored by the tests go to a temporary folder, never into the project's media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def png_bytes(size=(8, 8), color=(200, 30, 30)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_with_gps() -> bytes:
    """A small JPEG that carries EXIF with a GPS position and a camera model."""
    from PIL import Image

    img = Image.new("RGB", (16, 12), (30, 120, 200))
    exif = Image.Exif()
    exif[0x0110] = "Test Camera"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (36.0, 11.0, 42.0)
    gps[3] = "E"
    gps[4] = (113.0, 7.0, 1.0)
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def upload(data: bytes, name: str, content_type: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def api_for(loop_world):
    """``api_for("demo-handler")``: an API client that sends that person's token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(username: str) -> APIClient:
        token, _ = Token.objects.get_or_create(user=loop_world[username])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
