"""Limits a request and a stored photo hold to, through the real ways in.

A request larger than ``CITYOPS_MAX_REQUEST_MB`` is refused with 413 before its body is read, in the
channel's own format and language, and leaves nothing behind; one at the limit reaches the view as
before. A photo whose write fails half-way (a full disk) is removed, and the error reaches the caller.
"""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import storages
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from cityops.cases.models import Attachment, Case
from cityops.cases.tests.conftest import LZ_LAT, LZ_LON
from cityops.core import storage as storage_module
from cityops.core.middleware import MB
from cityops.core.storage import MediaStorage
from cityops.core.tests import test_upload_review as uploads
from cityops.core.tests.test_upload_review import OPEN311_KEY, api, good, media_files, nothing_written
from cityops.open311.tests.conftest import assert_errors
from config.env import EnvError, load_env

TOO_LARGE = "The request is too large: at most 1 MB may be sent at once."
TOO_LARGE_ZH = "请求过大：一次最多可发送 1 MB。"
NOT_A_LENGTH = "The Content-Length header is not a number."

# the case tests' loaded city and media folder; the public side's cache reset and English browser
loop_world = uploads.loop_world
_media_in_tmp = uploads._media_in_tmp
_fresh_cache = uploads._fresh_cache
client = uploads.client
people = uploads.people


@pytest.fixture
def one_mb(settings):
    settings.CITYOPS_MAX_REQUEST_MB = 1
    return MB


# ------------------------------------------------------------------------------------------------
# the three ways a report with photos comes in, each padded to an exact body size


def public_form(pad: str) -> dict:
    return {
        "type": "matter:06010",
        "description": "路边有一堆暴露垃圾",
        "lat": str(LZ_LAT),
        "lon": str(LZ_LON),
        "phone": "13800000001",
        "is_public": "on",
        "photos": [good()],
        "padding": pad,  # a field no form reads
    }


def api_form(pad: str) -> dict:
    return {
        "type": "07001",
        "description": "小广告",
        "lat": LZ_LAT,
        "lon": LZ_LON,
        "photos": [good()],
        "padding": pad,
    }


def open311_form(pad: str) -> dict:
    return {
        "api_key": OPEN311_KEY,
        "service_code": "06010",
        "lat": LZ_LAT,
        "long": LZ_LON,
        "description": "垃圾",
        "media": good(),
        "padding": pad,
    }


def sized(form, size: int) -> dict:
    """``form(pad)`` with the pad that makes its multipart body exactly ``size`` bytes (the test client
    and DRF's both encode with ``encode_multipart`` and the same boundary)."""
    pad = size - len(encode_multipart(BOUNDARY, form("")))
    assert pad > 0
    return form("x" * pad)


def send_all(client, people, size: int) -> dict:
    """A valid report of ``size`` bytes through each channel: the responses by channel."""
    from cityops.open311.services import ensure_demo_key

    ensure_demo_key()
    got = {
        "public": client.post(reverse("public:report"), sized(public_form, size)),
        "api": api(people, "demo-inspector").post("/api/v1/cases", sized(api_form, size), format="multipart"),
        "open311.json": client.post("/open311/v2/requests.json", sized(open311_form, size)),
        "open311.xml": client.post("/open311/v2/requests.xml", sized(open311_form, size)),
    }
    for r in got.values():
        assert int(r.wsgi_request.META["CONTENT_LENGTH"]) == size
    return got


@pytest.mark.django_db
def test_a_request_over_the_limit_is_refused_in_each_channels_format_and_writes_nothing(
    client, people, one_mb
):
    got = send_all(client, people, one_mb + 1)
    assert {k: r.status_code for k, r in got.items()} == dict.fromkeys(got, 413)
    assert got["public"]["Content-Type"] == "text/html; charset=utf-8"
    assert TOO_LARGE in got["public"].content.decode()
    assert got["api"].json() == {"detail": TOO_LARGE}
    assert assert_errors(got["open311.json"], "json", 413) == [TOO_LARGE]
    assert assert_errors(got["open311.xml"], "xml", 413) == [TOO_LARGE]
    nothing_written()


@pytest.mark.django_db
def test_a_request_at_the_limit_reaches_the_view_as_before(client, people, one_mb):
    got = send_all(client, people, one_mb)
    statuses = {k: r.status_code for k, r in got.items()}
    assert statuses == {"public": 302, "api": 201, "open311.json": 200, "open311.xml": 200}
    assert Case.objects.count() == 4
    assert Attachment.objects.count() == 4 and len(media_files()) == 4


@pytest.mark.django_db
def test_the_refusal_speaks_the_language_asked_for(one_mb):
    """The answer comes before LocaleMiddleware has run: the language is negotiated all the same."""
    chinese = Client(headers={"accept-language": "zh-hans"})
    r = chinese.post("/api/v1/cases", {"padding": "x" * (one_mb + 1)})
    assert r.status_code == 413 and r.json() == {"detail": TOO_LARGE_ZH}
    r = Client().post("/report/", {"padding": "x" * (one_mb + 1)})  # no preference: Chinese first
    page = r.content.decode()
    assert r.status_code == 413 and TOO_LARGE_ZH in page and '<html lang="zh-hans">' in page


class Unreadable(io.RawIOBase):
    """A request body that must not be read."""

    def read(self, size=-1):
        raise AssertionError("the body was read")

    readline = read


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/report/", "/api/v1/cases", "/open311/v2/requests.json", "/login/"])
def test_ten_gigabytes_are_refused_by_their_content_length_without_reading_a_byte(client, url):
    """The default limit, 150 MB, from the settings schema; nothing of the body is read (the client's
    stream would raise), so nothing is spooled to disk either."""
    assert settings.CITYOPS_MAX_REQUEST_MB == 150
    r = client.generic(
        "POST",
        url,
        CONTENT_TYPE=MULTIPART_CONTENT,
        CONTENT_LENGTH=str(10 * 1024**3),
        **{"wsgi.input": Unreadable()},
    )
    assert r.status_code == 413
    assert "at most 150 MB may be sent at once" in r.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("length", ["abc", "1.5", "", "-5", "-1"])
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", MULTIPART_CONTENT])
def test_a_malformed_content_length_is_never_a_server_error(client, people, length, content_type):
    """Django reads a length it cannot parse as no body, then parses it again in ``request.body`` and
    failed with ValueError (a 500 on any form posted urlencoded); one it can parse is left to Django."""
    from cityops.open311.services import ensure_demo_key

    ensure_demo_key()
    body = b"type=matter%3A06010&description=x&lat=36.195&lon=113.117&api_key=demo-open311-key"
    client.raise_request_exception = False
    token = api(people, "demo-inspector")._credentials["HTTP_AUTHORIZATION"]
    for url in (
        "/report/",
        "/login/",
        "/api/v1/cases",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
    ):
        r = client.generic(
            "POST", url, body, content_type=content_type, CONTENT_LENGTH=length, HTTP_AUTHORIZATION=token
        )
        assert r.status_code < 500, (url, r.status_code)
        if length in ("abc", "1.5"):
            assert r.status_code == 400
            if url.startswith("/open311/"):
                assert assert_errors(r, url.rsplit(".", 1)[1], 400) == [NOT_A_LENGTH]
            elif url.startswith("/api/"):
                assert r.json() == {"detail": NOT_A_LENGTH}
            else:
                assert NOT_A_LENGTH in r.content.decode()
    assert not Case.objects.exists()


def test_the_limit_is_declared_in_the_settings_schema():
    assert load_env({}).max_request_mb == 150
    assert load_env({"CITYOPS_MAX_REQUEST_MB": "40"}).max_request_mb == 40
    for bad in ("0", "-1", "1.5", "lots"):
        with pytest.raises(EnvError, match="CITYOPS_MAX_REQUEST_MB"):
            load_env({"CITYOPS_MAX_REQUEST_MB": bad})


# ------------------------------------------------------------------------------------------------
# a photo half-written when the disk fills up


class DiskFillsUp(File):
    """Content whose first chunk is written and whose second finds the disk full; notes the files on
    disk at that moment."""

    def __init__(self, root: Path):
        super().__init__(io.BytesIO(b"photo"), name="p.jpg")
        self.root = root
        self.on_disk: list[Path] = []

    def chunks(self, chunk_size=None):
        yield b"the first 64 KB of a photo"
        self.on_disk = files_in(self.root)
        raise OSError(errno.ENOSPC, "No space left on device")


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def media(tmp_path) -> MediaStorage:
    return MediaStorage(location=tmp_path, file_permissions_mode=0o640, directory_permissions_mode=0o750)


def test_media_is_the_default_storage(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    assert type(storages["default"]) is MediaStorage


def test_a_write_that_fails_half_way_leaves_no_file_and_reports_the_error(media, tmp_path):
    content = DiskFillsUp(tmp_path)
    with pytest.raises(OSError) as exc:
        media.save("cases/2026-11/2026-11-000001/report-1.jpg", content)
    assert exc.value.errno == errno.ENOSPC
    assert content.on_disk == [tmp_path / "cases/2026-11/2026-11-000001/report-1.jpg"]  # it was there
    assert files_in(tmp_path) == []


def test_a_failed_write_after_a_name_clash_removes_its_own_file_only(media, tmp_path, monkeypatch):
    """The name was free when chosen and taken before the file was created (a parallel save): the write
    goes to a new name, and when that write fails only the new file goes."""
    first = media.save("a/p.jpg", ContentFile(b"someone else's photo"))
    real = media.get_available_name
    calls = []

    def after_the_race(name, max_length=None):
        calls.append(name)
        return name if len(calls) == 1 else real(name, max_length)  # the first answer is already stale

    monkeypatch.setattr(media, "get_available_name", after_the_race)
    with pytest.raises(OSError):
        media.save("a/p.jpg", DiskFillsUp(tmp_path))
    assert len(calls) == 2  # chosen free, found taken, chosen again
    assert files_in(tmp_path) == [tmp_path / first]
    assert (tmp_path / first).read_bytes() == b"someone else's photo"
    second = media.save("a/p.jpg", ContentFile(b"mine"))
    assert second != first and second.startswith("a/p_") and second.endswith(".jpg")
    assert (tmp_path / second).read_bytes() == b"mine"
    assert (tmp_path / first).read_bytes() == b"someone else's photo"


def test_a_normal_save_keeps_names_and_permissions(media, tmp_path):
    name = media.save("cases/2026-11/x/report-1.jpg", ContentFile(b"\xff\xd8photo"))
    assert name == "cases/2026-11/x/report-1.jpg"
    assert media.open(name).read() == b"\xff\xd8photo"
    assert (tmp_path / name).stat().st_mode & 0o777 == 0o640
    for folder in ("cases", "cases/2026-11", "cases/2026-11/x"):
        assert (tmp_path / folder).stat().st_mode & 0o777 == 0o750
    again = media.save("cases/2026-11/x/report-1.jpg", ContentFile(b"other"))
    assert again != name and media.open(name).read() == b"\xff\xd8photo"
    assert media.open(again).read() == b"other"
    assert media.save("t.txt", ContentFile("文本")) == "t.txt"  # text content, as Django takes it
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "文本"


def spooled(data: bytes) -> TemporaryUploadedFile:
    upload = TemporaryUploadedFile("big.jpg", "image/jpeg", len(data), None)
    upload.write(data)
    upload.flush()
    return upload


@pytest.mark.parametrize("across_disks", [False, True])
def test_an_upload_spooled_to_disk_is_moved_into_place(media, tmp_path, monkeypatch, across_disks):
    upload = spooled(b"a large photo")
    spool = upload.temporary_file_path()
    if across_disks:  # rename fails across file systems: the file is copied instead

        def rename(src, dst):
            raise OSError(errno.EXDEV, "Invalid cross-device link")

        monkeypatch.setattr(os, "rename", rename)
    name = media.save("cases/big.jpg", upload)
    assert name == "cases/big.jpg" and (tmp_path / name).read_bytes() == b"a large photo"
    assert (tmp_path / name).stat().st_mode & 0o777 == 0o640
    assert not Path(spool).exists()
    upload.close()
    clash = spooled(b"another")
    assert media.save("cases/big.jpg", clash) != name and (tmp_path / name).read_bytes() == b"a large photo"
    clash.close()


def test_a_copy_across_disks_that_fails_half_way_leaves_no_file(media, tmp_path, monkeypatch):
    def half_copy(old, new, allow_overwrite=False):
        Path(new).write_bytes(b"half of it")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage_module, "file_move_safe", half_copy)
    upload = spooled(b"a large photo")
    with pytest.raises(OSError) as exc:
        media.save("cases/big.jpg", upload)
    upload.close()
    assert exc.value.errno == errno.ENOSPC
    assert files_in(tmp_path) == []
