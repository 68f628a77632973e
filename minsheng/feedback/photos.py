"""Citizen photos: only real JPEG/PNG/WebP images under the size limit, re-encoded from their pixels so
that no EXIF (GPS position, camera serial, time) survives into anything stored or shown."""

from __future__ import annotations

import io
from typing import IO

from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from minsheng.core.errors import ValidationFailed

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def clean_photo(fileobj: IO[bytes], *, size: int) -> ContentFile:
    """A stripped copy of the upload, or ValidationFailed on the `photo` field."""
    if size > MAX_BYTES:
        raise ValidationFailed(fields={"photo": [_("照片不能超过 5 MB。")]})
    data = fileobj.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationFailed(fields={"photo": [_("照片不能超过 5 MB。")]})
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format or ""
            if fmt not in FORMATS:
                raise ValidationFailed(fields={"photo": [_("只接受 JPEG、PNG 或 WebP 格式的照片。")]})
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed(fields={"photo": [_("照片像素过大。")]})
            probe.load()
            image = ImageOps.exif_transpose(probe)
            # A fresh image holds pixels only: no EXIF, XMP or ICC text comes along.
            if image.mode not in ("RGB", "RGBA", "L", "LA"):
                image = image.convert("RGBA")
            clean = Image.frombytes(image.mode, image.size, image.tobytes())
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed(fields={"photo": [_("文件不是有效的图片。")]}) from None
    if fmt == "JPEG" and clean.mode not in ("RGB", "L"):
        clean = clean.convert("RGB")
    out = io.BytesIO()
    clean.save(out, format=fmt)
    return ContentFile(out.getvalue(), name=f"photo.{FORMATS[fmt]}")


def content_type(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower()
    return {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}.get(
        ext, "application/octet-stream")
