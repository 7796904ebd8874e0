"""Checks uploaded photos and re-encodes them without metadata (GPS, camera, EXIF)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from cityops.core.errors import DomainError

MAX_BYTES = 15 * 1024 * 1024
MAX_SIDE = 2560
ALLOWED = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "MPO": "jpg"}
Image.MAX_IMAGE_PIXELS = 60_000_000


@dataclass(frozen=True)
class CleanImage:
    content: ContentFile
    width: int
    height: int


def clean_image(upload, *, name: str = "photo") -> CleanImage:
    """Validate an uploaded image and return a metadata-free copy, upright and at most MAX_SIDE wide."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise DomainError(_("A photo may be at most 15 MB."), code="photo_too_large")
    raw = upload.read()
    if len(raw) > MAX_BYTES:
        raise DomainError(_("A photo may be at most 15 MB."), code="photo_too_large")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            probe.verify()
        if fmt not in ALLOWED:
            raise DomainError(_("Photos must be JPEG, PNG or WebP images."), code="photo_type")
        with Image.open(io.BytesIO(raw)) as img:
            img = ImageOps.exif_transpose(img)
            img.thumbnail((MAX_SIDE, MAX_SIDE))
            if img.mode not in ("RGB", "L") and fmt in ("JPEG", "MPO"):
                img = img.convert("RGB")
            # A fresh image carries pixels only: no EXIF, GPS, XMP or ICC comments survive.
            clean = Image.new(img.mode, img.size)
            clean.putdata(list(img.getdata())) if img.mode == "P" else clean.paste(img)
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
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DomainError(_("This file is not a readable image."), code="photo_unreadable") from exc
    return CleanImage(ContentFile(out.getvalue(), name=f"{name}.{ext}"), width, height)
