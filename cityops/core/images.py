"""Checks uploaded photos and re-encodes them without metadata (GPS, camera, EXIF)."""

from __future__ import annotations

import io
import mimetypes
import struct
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.http import FileResponse
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

from cityops.core.errors import DomainError

MAX_BYTES = 15 * 1024 * 1024
MAX_SIDE = 2560
MAX_PIXELS = 60_000_000
ALLOWED = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "MPO": "jpg"}
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# What Pillow raises on a broken file besides OSError and ValueError (``Image.open`` itself takes
# them for "not this format"): a PNG with a bad checksum raised SyntaxError, a server error.
BROKEN = (UnidentifiedImageError, OSError, ValueError, SyntaxError, IndexError, TypeError, struct.error)
# EXIF Orientation -> the transposition that shows the photo upright
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _in_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """Pixels described by another colour profile (a phone's Display P3, a CMYK profile) converted to
    sRGB before the profile goes with the rest of the metadata: browsers read pixels without a
    profile as sRGB, and a wide-gamut photo stored without its own looked dull."""
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK"):
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "sRGB" in (ImageCms.getProfileDescription(source) or ""):
            return img
        mode = "RGBA" if img.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(img, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img  # a profile the colour engine cannot use: the pixels as they are


@dataclass(frozen=True)
class CleanImage:
    content: ContentFile
    width: int
    height: int


def _too_many_pixels() -> DomainError:
    return DomainError(_("A photo may be at most 60 megapixels."), code="photo_pixels")


def _wrong_type() -> DomainError:
    return DomainError(_("Photos must be JPEG, PNG or WebP images."), code="photo_type")


def clean_image(upload, *, name: str = "photo") -> CleanImage:
    """Validate an uploaded image and return a metadata-free copy, upright and at most MAX_SIDE wide.

    The pixel count is checked before anything is decoded: Pillow only warns up to twice
    ``MAX_IMAGE_PIXELS``, and an 80 KB PNG of 100 million pixels took 1.3 GB and 2 s to clean. The
    orientation is applied by hand: ``ImageOps.exif_transpose`` writes the rest of the EXIF back, and
    raised TypeError on a damaged tag of metadata that is dropped anyway.
    """
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise DomainError(_("A photo may be at most 15 MB."), code="photo_too_large")
    raw = upload.read()
    if len(raw) > MAX_BYTES:
        raise DomainError(_("A photo may be at most 15 MB."), code="photo_too_large")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            if probe.width * probe.height > MAX_PIXELS:
                raise _too_many_pixels()
            probe.verify()
        if fmt not in ALLOWED:
            raise _wrong_type()
        with Image.open(io.BytesIO(raw)) as img:
            turn = UPRIGHT.get(img.getexif().get(ExifTags.Base.Orientation, 1))
            icc = img.info.get("icc_profile")
            img.thumbnail((MAX_SIDE, MAX_SIDE))  # a JPEG is decoded at a fraction of its size
            if turn is not None:
                img = img.transpose(turn)
            img = _in_srgb(img, icc)
            if img.mode not in ("RGB", "L") and fmt in ("JPEG", "MPO"):
                img = img.convert("RGB")
            # A fresh image carries pixels only: no EXIF, GPS, XMP or ICC comments survive.
            clean = Image.new(img.mode, img.size)
            clean.paste(img)
            if img.mode == "P" and img.getpalette():
                clean.putpalette(img.getpalette())
            out = io.BytesIO()
            ext = ALLOWED[fmt]
            save_fmt = "JPEG" if ext == "jpg" else fmt
            params = {"quality": 85, "optimize": True} if save_fmt == "JPEG" else {}
            clean.save(out, save_fmt, **params)
            width, height = clean.size
    except DomainError:
        raise
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels() from exc
    except BROKEN as exc:
        if raw[4:8] == b"ftyp":  # HEIC or AVIF from a phone: an image, of a type not taken
            raise _wrong_type() from exc
        raise DomainError(_("This file is not a readable image."), code="photo_unreadable") from exc
    return CleanImage(ContentFile(out.getvalue(), name=f"{name}.{ext}"), width, height)


def photo_response(file, *, cache: str = "private") -> FileResponse:
    """A stored photo as the answer of a view that has checked its reader may see it, typed by its
    kind (PNG and WebP photos are kept as they came, not only JPEG), cached for an hour by ``cache``
    (``private``: the reader's browser only; ``public``: any cache)."""
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    response = FileResponse(file.open("rb"), content_type=content_type)
    response["Cache-Control"] = f"{cache}, max-age=3600"
    return response
