"""Inspection photos: type checked by content (core.files), then re-encoded without EXIF so no
phone metadata (owner, device serial, exact location history) reaches anything public. The time and
place the app recorded are kept as fields, not in the file."""

from __future__ import annotations

import io
from typing import IO

from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from minsheng.core.errors import ValidationFailed
from minsheng.core.files import check_upload

IMAGE_TYPES = {"image/jpeg", "image/png"}
MAX_PIXELS = 40_000_000


def clean_photo(fileobj: IO[bytes], name: str) -> bytes:
    """The photo as a JPEG without any metadata; refuses anything that is not a readable image."""
    checked = check_upload(fileobj, name)
    if checked.content_type not in IMAGE_TYPES:
        raise ValidationFailed(fields={"photo": [_("照片须为 JPEG 或 PNG 图片。")]})
    try:
        with Image.open(fileobj) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ValidationFailed(fields={"photo": [_("照片像素过多。")]})
            img.load()
            rgb = img.convert("RGB")  # drops alpha and palette; EXIF is not carried over
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValidationFailed(fields={"photo": [_("照片无法读取，或文件已损坏。")]}) from None
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=85)
    return out.getvalue()
