"""Photo uploads against attacks and accidents, through every way in: the public report form, Open311's
``media``, the inspector's form and the staff API, and the handlers' actions (page and API).

The rules: a photo is checked and stored without metadata, upright; bad input gets a precise 400 and
leaves nothing behind (no case, no event, no row, no file); the uploader cannot choose where a file goes.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageCms, PngImagePlugin

from cityops.cases import services
from cityops.cases.choices import Action, Source, State
from cityops.cases.models import Attachment, Case, CaseEvent, Follow
from cityops.cases.tests import conftest as cases_conftest
from cityops.cases.tests.conftest import LZ_LAT, LZ_LON, jpeg_with_gps
from cityops.core import images
from cityops.core.errors import DomainError
from cityops.public.tests import conftest as public_conftest

UNREADABLE = "This file is not a readable image."
WRONG_TYPE = "Photos must be JPEG, PNG or WebP images."
TOO_LARGE = "A photo may be at most 15 MB."
TOO_MANY_PIXELS = "A photo may be at most 60 megapixels."
OPEN311_KEY = "demo-open311-key"

RED, BLUE = (220, 20, 20), (20, 20, 220)


# the case tests' loaded city and media folder; the public side's cache reset and English browser
loop_world = cases_conftest.loop_world
_media_in_tmp = cases_conftest._media_in_tmp
_fresh_cache = public_conftest._fresh_cache
client = public_conftest.client


@pytest.fixture
def people(loop_world):
    """The demo people by username, in the loaded city."""
    return loop_world


# ------------------------------------------------------------------------------------------------
# files


def encoded(img: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def photo(data: bytes, name="p.jpg", content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def good(color=(40, 160, 40), name="ok.jpg") -> SimpleUploadedFile:
    return photo(encoded(Image.new("RGB", (64, 48), color), "JPEG"), name)


def png_bomb(width: int, height: int, rows: int | None = None) -> bytes:
    """An all-black greyscale PNG: a few dozen KB that decode to ``width * height`` bytes (with
    ``rows``, only that many rows of pixel data follow the header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    z = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte and the row's pixels
    idat = b"".join(z.compress(row) for _ in range(height if rows is None else rows)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def odd_exif() -> bytes:
    """EXIF as cameras and editors get it wrong: upright needs turning (Orientation 6) and the GPS
    version is stored as a float instead of four bytes."""
    ifd0 = (
        struct.pack("<H", 2)
        + struct.pack("<HHII", 0x0112, 3, 1, 6)  # Orientation, SHORT
        + struct.pack("<HHII", 0x8825, 4, 1, 38)  # GPSInfo, LONG offset of the GPS IFD
        + struct.pack("<I", 0)
    )
    gps = struct.pack("<H", 1) + struct.pack("<HHI", 0, 11, 1) + struct.pack("<f", 2.2) + struct.pack("<I", 0)
    return b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd0 + gps


def bad_crc_png() -> bytes:
    data = bytearray(encoded(Image.new("RGB", (40, 30), RED), "PNG"))
    data[-13] ^= 0xFF  # the last byte of IDAT's checksum (IEND is the last 12 bytes)
    return bytes(data)


def rich_exif(orientation=6) -> Image.Exif:
    """EXIF with everything a photo should not give away: GPS, camera make, model and serial, owner."""
    exif = Image.Exif()
    exif[0x010F] = "SecretMake"  # Make
    exif[0x0110] = "SecretModel"  # Model
    exif[0x0112] = orientation
    exif[0x013B] = "SecretArtist"  # Artist
    sub = exif.get_ifd(0x8769)
    sub[0xA431] = "SERIAL-0042"  # BodySerialNumber
    sub[0xA430] = "SecretOwner"  # CameraOwnerName
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (36.0, 11.0, 42.0), "E", (113.0, 7.0, 1.0)
    return exif


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="36,11.7N" '
    b'exif:BodySerialNumber="SERIAL-0042"/></rdf:RDF></x:xmpmeta>'
)
SECRETS = (b"Secret", b"SERIAL-0042", b"GPSLatitude", b"adobe", b"Exif\x00\x00", b"tEXt", b"iTXt", b"zTXt")


def sideways(fmt: str) -> bytes:
    """A photo taken with the phone turned: stored 80 wide and 40 high, red on the left, blue on the
    right; Orientation 6 says the left edge is the top. Seen upright it is 40 x 80, red above blue."""
    img = Image.new("RGB", (80, 40), BLUE)
    img.paste(RED, (0, 0, 40, 40))
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    params = {"exif": rich_exif(), "icc_profile": icc}
    if fmt == "JPEG":
        params |= {"comment": b"SecretComment", "xmp": XMP}
    elif fmt == "WEBP":
        params |= {"xmp": XMP, "lossless": True}
    else:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "SecretComment")
        info.add_text("Author", "SecretAuthor", zip=True)
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
        params["pnginfo"] = info
    return encoded(img, fmt, **params)


def media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def nothing_written(*, cases=0, events=0):
    assert Case.objects.count() == cases
    assert CaseEvent.objects.count() == events
    assert not Attachment.objects.exists()
    assert media_files() == []


# ------------------------------------------------------------------------------------------------
# the ways in


def post_public(client, photos):
    from django.core.cache import cache

    cache.clear()  # ten reports an hour per address
    data = {
        "type": "matter:06010",
        "description": "路边有一堆暴露垃圾",
        "lat": str(LZ_LAT),
        "lon": str(LZ_LON),
        "phone": "13800000001",
        "is_public": "on",
        "photos": photos,
    }
    return client.post(reverse("public:report"), data)


def post_open311(client, media):
    from cityops.open311.services import ensure_demo_key

    ensure_demo_key()
    data = {"api_key": OPEN311_KEY, "service_code": "06010", "lat": LZ_LAT, "long": LZ_LON}
    return client.post("/open311/v2/requests.json", {**data, "description": "垃圾", "media": media})


def staff_report(people, photos=()):
    data = services.ReportInput(
        source=Source.INSPECTOR,
        kind="matter",
        type_code="07001",
        description="小广告",
        lat=LZ_LAT,
        lon=LZ_LON,
    )
    return services.case_report(data=data, photos=photos, actor=people["demo-inspector"], now=timezone.now())


def act(people, case, action, who, photos=(), **kw):
    return services.case_act(
        number=case.number,
        data=services.ActionInput(action=action, **kw),
        actor=people[who],
        photos=photos,
        now=timezone.now(),
    )


def api(people, username: str):
    """An API client that sends that person's token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token, _created = Token.objects.get_or_create(user=people[username])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def in_handling(people):
    case = staff_report(people)
    act(people, case, Action.FILE, "demo-chief")
    act(people, case, Action.DISPATCH, "demo-dispatcher")
    act(people, case, Action.ACCEPT, "demo-handler")
    return case


def stored_images(case) -> list[tuple[Attachment, Image.Image, bytes]]:
    out = []
    for a in Attachment.objects.filter(case=case).order_by("pk"):
        raw = Path(a.file.path).read_bytes()
        img = Image.open(io.BytesIO(raw))
        img.load()
        out.append((a, img, raw))
    return out


# ------------------------------------------------------------------------------------------------
# sizes and pixels


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's, as it opens them
def test_a_decompression_bomb_is_refused_with_a_precise_message(client, people):
    """80 KB that decode to 81 million pixels (Pillow only warns below twice its limit, and decoding
    such a file took 1.3 GB and 2 s): refused, like the ones Pillow itself stops, as too large."""
    bomb = png_bomb(9000, 9000)
    assert len(bomb) < 100_000
    r = post_open311(client, photo(bomb, "bomb.png", "image/png"))
    assert r.status_code == 400, r.content[:300]
    assert TOO_MANY_PIXELS in r.json()[0]["description"]
    r = post_public(client, [good(), photo(png_bomb(20000, 20000, rows=10), "huge.png", "image/png")])
    assert r.status_code == 400 and TOO_MANY_PIXELS in r.content.decode()
    with pytest.raises(DomainError) as exc:
        images.clean_image(photo(png_bomb(8000, 7501), "x.png"))
    assert exc.value.code == "photo_pixels"
    nothing_written()


@pytest.mark.django_db
def test_size_limit_is_per_photo_and_reported_clearly(client, people):
    over = photo(b"\xff\xd8" + bytes(images.MAX_BYTES - 1), "big.jpg")
    r = post_public(client, [good(), over])
    assert r.status_code == 400 and TOO_LARGE in r.content.decode()
    nothing_written()


@pytest.mark.django_db
def test_more_than_nine_photos_is_refused_everywhere_and_writes_nothing(client, people):
    ten = [good(name=f"{i}.jpg") for i in range(10)]
    r = post_public(client, ten)
    assert r.status_code == 400 and "At most 9 photos per step." in r.content.decode()
    r = post_open311(client, [good(name=f"{i}.jpg") for i in range(10)])
    assert r.status_code == 400 and "At most 9 photos" in r.json()[0]["description"]
    data = {"type": "07001", "description": "小广告", "lat": LZ_LAT, "lon": LZ_LON}
    r = api(people, "demo-inspector").post(
        "/api/v1/cases", {**data, "photos": [good(name=f"{i}.jpg") for i in range(10)]}, format="multipart"
    )
    assert r.status_code == 400, r.content
    nothing_written()


# ------------------------------------------------------------------------------------------------
# what is not a photo, or a damaged one


def bad_files() -> dict[str, tuple[SimpleUploadedFile, str | None]]:
    """Each bad file with the message it must get (None: a photo with damaged metadata, which is
    dropped anyway: stored)."""
    jpeg = encoded(Image.new("RGB", (400, 300), RED), "JPEG")
    png = encoded(Image.new("RGB", (400, 300), RED), "PNG")
    frames = [Image.new("RGB", (10, 10), c) for c in (RED, BLUE)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    heic = struct.pack(">I", 24) + b"ftypheic" + bytes(4) + b"mif1heic" + bytes(200)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    return {
        "truncated jpeg": (photo(jpeg[: len(jpeg) // 2]), UNREADABLE),
        "truncated png": (photo(png[:-40], "t.png", "image/png"), UNREADABLE),
        "png with a broken checksum": (photo(bad_crc_png(), "c.png", "image/png"), UNREADABLE),
        "text called jpeg": (photo(b"hello, this is not a photo\n" * 20), UNREADABLE),
        "svg": (photo(svg, "x.svg.png", "image/png"), UNREADABLE),
        "html": (photo(b"<html><script>alert(1)</script></html>", "x.jpg"), UNREADABLE),
        "zero bytes": (photo(b"", "empty.jpg"), UNREADABLE),
        "animated gif": (photo(gif.getvalue(), "a.jpg"), WRONG_TYPE),
        "tiff": (photo(encoded(Image.new("RGB", (8, 8)), "TIFF"), "t.jpg"), WRONG_TYPE),
        "heic from a phone": (photo(heic, "IMG_0001.HEIC", "image/heic"), WRONG_TYPE),
        # Orientation to apply and a damaged tag: Pillow's exif_transpose raised TypeError (a 500)
        "jpeg with odd exif": (photo(encoded(Image.new("RGB", (24, 16)), "JPEG", exif=odd_exif())), None),
        "webp with odd exif": (photo(encoded(Image.new("RGB", (24, 16)), "WEBP", exif=odd_exif())), None),
        "png with odd exif": (photo(encoded(Image.new("RGB", (24, 16)), "PNG", exif=odd_exif())), None),
    }


@pytest.mark.django_db
def test_bad_files_get_a_precise_400_and_leave_nothing(client, people):
    """Through the citizens' form, each bad file as the second of two photos. A PNG with a broken
    checksum (SyntaxError in Pillow) and EXIF with a damaged tag (TypeError) ended as server errors;
    a phone's HEIC photo was called unreadable."""
    got = {}
    for label, (upload, message) in bad_files().items():
        r = post_public(client, [good(), upload])
        if message is None:
            got[label] = (r.status_code, "stored" if r.status_code == 302 else "?")
            continue
        html = r.content.decode()
        got[label] = (r.status_code, message if message in html else "?")
    expected = {
        label: (400, message) if message else (302, "stored") for label, (_u, message) in bad_files().items()
    }
    assert got == expected
    assert Case.objects.count() == 3 and Attachment.objects.count() == 6  # the three with odd EXIF
    for a, img, _raw in (x for c in Case.objects.all() for x in stored_images(c)):
        assert a.stage == "report" and img.format in ("JPEG", "PNG", "WEBP")
    assert {(a.width, a.height) for a in Attachment.objects.all()} == {(64, 48), (16, 24)}  # turned upright


@pytest.mark.django_db
def test_bad_photos_through_the_staff_api_and_actions_are_a_400(client, people):
    inspector, handler = api(people, "demo-inspector"), api(people, "demo-handler")
    data = {"type": "07001", "description": "小广告", "lat": LZ_LAT, "lon": LZ_LON}
    r = inspector.post(
        "/api/v1/cases", {**data, "photos": [good(), photo(bad_crc_png())]}, format="multipart"
    )
    assert r.status_code == 400 and r.json() == {"detail": UNREADABLE, "code": "photo_unreadable"}
    r = inspector.post("/api/v1/cases", {**data, "photos": [photo(b"", "e.jpg")]}, format="multipart")
    assert r.status_code == 400, r.content
    assert not Case.objects.exists() and media_files() == []

    case = in_handling(people)
    events = CaseEvent.objects.filter(case=case).count()
    url = f"/api/v1/cases/{case.number}/actions"
    body = {"action": "report_done", "note": "已清理", "photos": [good(), good(), photo(bad_crc_png())]}
    r = handler.post(url, body, format="multipart")
    assert r.status_code == 400 and r.json()["code"] == "photo_unreadable"
    client.force_login(people["demo-handler"])
    r = client.post(
        reverse("cases:act", args=[case.number]),
        {"action": "report_done", "note": "已清理", "photos": [good(), good(), photo(b"not a photo")]},
    )
    assert r.status_code == 400 and UNREADABLE in r.content.decode()
    case.refresh_from_db()
    assert case.state == State.HANDLING and CaseEvent.objects.filter(case=case).count() == events
    assert not Attachment.objects.exists() and media_files() == []


# ------------------------------------------------------------------------------------------------
# what a stored photo keeps


@pytest.mark.django_db
def test_stored_photos_are_upright_and_carry_no_metadata(client, people):
    """GPS, camera serial, owner, XMP, ICC, JPEG comments and PNG text chunks: none survives, read back
    with Pillow and searched for in the stored bytes; the orientation was applied before."""
    sources = {fmt: sideways(fmt) for fmt in ("JPEG", "PNG", "WEBP")}
    for fmt, data in sources.items():  # the test files carry what they should
        with Image.open(io.BytesIO(data)) as img:
            assert img.getexif()[0x0112] == 6 and "icc_profile" in img.info, fmt
        assert b"SERIAL-0042" in data and b"Secret" in data and b"GPSLatitude" in data, fmt
    uploads = [photo(data, f"p.{fmt.lower()}", f"image/{fmt.lower()}") for fmt, data in sources.items()]
    assert post_public(client, uploads).status_code == 302
    stored = stored_images(Case.objects.get())
    assert [img.format for _a, img, _r in stored] == ["JPEG", "PNG", "WEBP"]
    for a, img, raw in stored:
        assert img.size == (40, 80) == (a.width, a.height), a.file.name
        assert not dict(img.getexif()), a.file.name
        kept = set(img.info) & {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "Comment"}
        assert not kept, a.file.name
        assert not getattr(img, "text", {}), a.file.name
        assert [s for s in SECRETS if s in raw] == [], a.file.name
        rgb = img.convert("RGB")
        top, bottom = rgb.getpixel((20, 10)), rgb.getpixel((20, 70))
        assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0], (a.file.name, top, bottom)


@pytest.mark.django_db
def test_staff_api_and_open311_strip_gps_too(client, people):
    data = {"type": "07001", "description": "小广告", "lat": LZ_LAT, "lon": LZ_LON}
    r = api(people, "demo-inspector").post(
        "/api/v1/cases", {**data, "photos": [photo(jpeg_with_gps())]}, format="multipart"
    )
    assert r.status_code == 201, r.content
    assert post_open311(client, photo(jpeg_with_gps())).status_code == 200
    for case in Case.objects.all():
        [(_a, img, raw)] = stored_images(case)
        assert not dict(img.getexif()) and b"Test Camera" not in raw and b"Exif" not in raw


@pytest.mark.django_db
def test_photos_that_are_fine_keep_what_they_show(people):
    """Alpha, a palette, CMYK, an animation's first frame and a 1 x 100000 strip: stored, in a format
    that matches the name, at most MAX_SIDE on a side."""
    frames = [Image.new("RGB", (30, 20), c) for c in (RED, BLUE)]
    anim = io.BytesIO()
    frames[0].save(anim, "WEBP", save_all=True, append_images=frames[1:])
    palette = Image.new("P", (30, 20))
    palette.putpalette([*RED, *BLUE] * 128)
    uploads = [
        photo(encoded(Image.new("RGBA", (30, 20), (*RED, 80)), "PNG"), "a.png"),
        photo(encoded(palette, "PNG"), "p.png"),
        photo(encoded(Image.new("CMYK", (30, 20), (0, 200, 200, 0)), "JPEG")),
        photo(anim.getvalue(), "anim.webp"),
        photo(encoded(Image.new("RGB", (1, 100_000), RED), "PNG"), "strip.png"),
    ]
    case = staff_report(people, uploads)
    got = [(img.format, img.mode, img.size, Path(a.file.name).suffix) for a, img, _r in stored_images(case)]
    assert got == [
        ("PNG", "RGBA", (30, 20), ".png"),
        ("PNG", "P", (30, 20), ".png"),
        ("JPEG", "RGB", (30, 20), ".jpg"),
        ("WEBP", "RGB", (30, 20), ".webp"),
        ("PNG", "RGB", (1, images.MAX_SIDE), ".png"),
    ]
    [(_a, img, _r)] = stored_images(case)[:1]
    assert img.getpixel((0, 0)) == (*RED, 80)
    assert stored_images(case)[1][1].convert("RGB").getpixel((0, 0)) == RED


# ------------------------------------------------------------------------------------------------
# names and places


def raw_multipart(fields: dict, files: list[tuple[str, bytes, bytes]]) -> tuple[bytes, str]:
    """A multipart body written by hand: file names go out exactly as given (the test client would
    clean them)."""
    boundary = b"----cityopsreview"
    out = []
    for k, v in fields.items():
        out.append(
            b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
            % (boundary, k.encode(), str(v).encode())
        )
    for field, filename, data in files:
        out.append(
            b'--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n%s\r\n" % (boundary, field.encode(), filename, data)
        )
    out.append(b"--%s--\r\n" % boundary)
    return b"".join(out), f"multipart/form-data; boundary={boundary.decode()}"


@pytest.mark.django_db
def test_the_uploader_cannot_steer_where_a_photo_goes(client, people):
    """Paths, a NUL and a long name in the file name change nothing: the stored name is the case's,
    the stage's, the event's and the photo's number, with the extension of the format found."""
    from cityops.open311.services import ensure_demo_key

    ensure_demo_key()
    jpeg = encoded(Image.new("RGB", (20, 20), RED), "JPEG")
    names = [
        b"../../../../tmp/evil.php",
        b"..\\..\\evil.jpg",
        b"a\x00b.jpg",
        b"x" * 300 + b".jpg",
        b"/etc/passwd",
    ]
    fields = {"api_key": OPEN311_KEY, "service_code": "06010", "lat": LZ_LAT, "long": LZ_LON}
    url = "/open311/v2/requests.json"
    # a name longer than Django reads in a part's header: the body cannot be read, a 400
    body, content_type = raw_multipart(fields, [("media", b"x" * 20000 + b".jpg", jpeg)])
    r = client.generic("POST", url, body, content_type=content_type)
    assert r.status_code == 400 and not Case.objects.exists()
    body, content_type = raw_multipart(fields, [("media", n, jpeg) for n in names])
    r = client.generic("POST", url, body, content_type=content_type)
    assert r.status_code == 200, r.content[:300]
    case = Case.objects.get()
    event = CaseEvent.objects.get(case=case)
    month = case.number[:7]
    expected = [f"cases/{month}/{case.number}/report-report-{event.pk}-{i}.jpg" for i in range(1, 6)]
    assert [a.file.name for a in Attachment.objects.order_by("pk")] == expected
    root = Path(settings.MEDIA_ROOT)
    assert [p.relative_to(root).as_posix() for p in media_files()] == expected


# ------------------------------------------------------------------------------------------------
# all or nothing


@pytest.mark.django_db
def test_a_bad_third_photo_stores_nothing_on_any_channel(client, people):
    three = lambda: [good(RED, "1.jpg"), good(BLUE, "2.jpg"), photo(bad_crc_png(), "3.png")]  # noqa: E731
    assert post_public(client, three()).status_code == 400
    assert post_open311(client, three()).status_code == 400
    data = {"type": "07001", "description": "小广告", "lat": LZ_LAT, "lon": LZ_LON, "photos": three()}
    assert api(people, "demo-inspector").post("/api/v1/cases", data, format="multipart").status_code == 400
    client.force_login(people["demo-inspector"])
    form = {
        "type": "matter:07001",
        "description": "小广告",
        "lat": LZ_LAT,
        "lon": LZ_LON,
        "urgency": "normal",
    }
    assert client.post(reverse("cases:report"), {**form, "photos": three()}).status_code == 400
    nothing_written()


class _FailingStorage:
    """The default storage, failing on the ``fail_at``-th file it is asked to save (a full disk)."""

    def __init__(self, monkeypatch, fail_at: int):
        self.calls = 0
        storage_class = type(storages["default"])  # the configured one: core.storage.MediaStorage
        real = storage_class._save

        def _save(storage, name, content):
            self.calls += 1
            if self.calls == fail_at:
                raise OSError(28, "No space left on device")
            return real(storage, name, content)

        monkeypatch.setattr(storage_class, "_save", _save)


@pytest.mark.django_db
def test_a_storage_failure_rolls_back_and_removes_the_files_already_written(people, monkeypatch):
    """The third of three files cannot be written: the rows roll back, and the two files written
    before are removed (on disk, nothing would ever point at them)."""
    failing = _FailingStorage(monkeypatch, fail_at=3)
    with pytest.raises(OSError):
        staff_report(people, [good(RED), good(BLUE), good()])
    assert failing.calls == 3
    nothing_written()

    monkeypatch.undo()
    case = in_handling(people)
    events = CaseEvent.objects.filter(case=case).count()
    _FailingStorage(monkeypatch, fail_at=2)
    with pytest.raises(OSError):
        act(people, case, Action.REPORT_DONE, "demo-handler", photos=[good(), good()], note="已清理")
    case.refresh_from_db()
    assert case.state == State.HANDLING and CaseEvent.objects.filter(case=case).count() == events
    assert not Attachment.objects.exists() and media_files() == []


@pytest.mark.django_db
def test_a_failure_after_the_photos_are_stored_removes_them(people, monkeypatch):
    """The reporter's follow row is written after the photos; when it fails, no photo stays behind."""

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Follow.objects, "create", broken)
    data = services.ReportInput(
        source=Source.PUBLIC,
        kind="matter",
        type_code="06010",
        description="垃圾",
        lat=LZ_LAT,
        lon=LZ_LON,
        reporter_phone="13800000001",
    )
    with pytest.raises(RuntimeError):
        services.case_report(data=data, photos=[good(RED), good(BLUE)], actor=None, now=timezone.now())
    assert not Case.objects.exists() and not Attachment.objects.exists()
    assert media_files() == []


@pytest.mark.django_db
def test_an_action_checks_its_photos_before_it_locks_the_case(people, monkeypatch):
    """Decoding nine phone photos takes seconds; inside the transaction the case's row (and on SQLite
    the database's one write lock) was held all that time. The report already checks them first."""
    from django.db import connection

    case = in_handling(people)
    outside = len(connection.atomic_blocks)  # the test's own transaction
    seen = []
    real = images.clean_image

    def spy(upload, **kw):
        seen.append(len(connection.atomic_blocks) > outside)
        return real(upload, **kw)

    monkeypatch.setattr(services, "clean_image", spy)
    act(people, case, Action.REPORT_DONE, "demo-handler", photos=[good(), good()], note="已清理")
    staff_report(people, [good()])
    assert seen == [False, False, False]


@pytest.mark.django_db
def test_each_photo_is_served_as_the_kind_it_was_stored(people, client):
    """PNG and WebP photos are kept as they came: the staff page, the staff API and Open311 say so (they
    said JPEG for every photo)."""
    from rest_framework.authtoken.models import Token

    kinds = {
        "p.png": ("PNG", "image/png"),
        "w.webp": ("WEBP", "image/webp"),
        "j.jpg": ("JPEG", "image/jpeg"),
    }
    uploads = [
        photo(encoded(Image.new("RGB", (32, 24), (9, 90, 200)), f), name, t) for name, (f, t) in kinds.items()
    ]
    case = staff_report(people, photos=uploads)
    Case.objects.filter(pk=case.pk).update(is_public=True)
    dispatcher = people["demo-dispatcher"]
    client.force_login(dispatcher)
    token = Token.objects.get_or_create(user=dispatcher)[0].key
    for p in Attachment.objects.filter(case=case):
        want = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}[p.file.name.rpartition(".")[2]]
        answers = [
            client.get(reverse("cases:photo", args=[case.number, p.pk])),
            client.get(f"/api/v1/photos/{p.pk}", HTTP_AUTHORIZATION=f"Token {token}"),
            client.get(f"/open311/media/{case.number}/{p.pk}"),
        ]
        for r in answers:
            assert r.status_code == 200 and r["Content-Type"] == want, (p.file.name, r.status_code)
            assert Image.open(io.BytesIO(b"".join(r.streaming_content))).format == want[6:].upper()
    assert {p.file.name.rpartition(".")[2] for p in Attachment.objects.filter(case=case)} == {
        "png",
        "webp",
        "jpg",
    }


def _profile_with_red_and_green_swapped() -> bytes:
    """sRGB's profile with the red and green primaries exchanged: a colour space other than sRGB whose
    pure red is sRGB's green, so a conversion shows in the pixels."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = struct.unpack(">I", data[128:132])[0]
    entries = {bytes(data[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, green = entries[b"rXYZ"], entries[b"gXYZ"]
    data[red + 4 : red + 12], data[green + 4 : green + 12] = (
        data[green + 4 : green + 12],
        data[red + 4 : red + 12],
    )
    return bytes(data)


def _desc_replaced(icc: bytes, text: str) -> bytes:
    """The profile with its description (UTF-16) overwritten at the same length, so it no longer says
    sRGB."""
    old = "sRGB built-in".encode("utf-16-be")
    at = icc.index(old)
    return icc[:at] + text.ljust(13)[:13].encode("utf-16-be") + icc[at + len(old) :]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_pixels_of_another_colour_profile_are_stored_in_srgb(fmt):
    """The profile is dropped with the rest of the metadata: its pixels are converted to sRGB first (a
    wide-gamut phone photo stored without its profile looked dull). sRGB-tagged and profile-less photos
    keep their pixels; a profile the colour engine cannot read keeps them too."""
    swapped = _desc_replaced(_profile_with_red_and_green_swapped(), "Swapped test")
    red = Image.new("RGB", (64, 48), (255, 0, 0))

    def stored(**params):
        clean = images.clean_image(photo(encoded(red, fmt, **params), f"p.{fmt.lower()}"))
        with Image.open(io.BytesIO(clean.content.read())) as img:
            assert "icc_profile" not in img.info
            return img.convert("RGB").getpixel((32, 24))

    r, g, b = stored(icc_profile=swapped)
    assert g > 200 and r < 80 and b < 80, (r, g, b)  # that space's red is sRGB's green
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for params in ({"icc_profile": srgb}, {}, {"icc_profile": b"not a colour profile" * 8}):
        r, g, b = stored(**params)
        assert r > 240 and g < 20 and b < 20, (params.keys(), (r, g, b))
