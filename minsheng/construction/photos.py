"""Inspection photos: type checked by content (core.files), then re-encoded without EXIF so no
phone metadata (owner, device serial, exact location history) reaches anything public. The time and
place the app recorded are kept as fields, not in the file."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from minsheng.core.errors import ValidationFailed
from minsheng.core.files import check_upload

IMAGE_TYPES = {"image/jpeg", "image/png"}
MAX_PIXELS = 40_000_000


GPS_IFD = 0x8825
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003


@dataclass(frozen=True)
class CameraRecord:
    """What the camera wrote into the file (EXIF), read before the file is stripped."""

    taken_at: dt.datetime | None = None  # EXIF has no time zone: read as the site's (Beijing) time
    latitude: Decimal | None = None
    longitude: Decimal | None = None


def _degrees(value: Any, ref: Any) -> Decimal | None:
    try:
        d, m, s = (Decimal(str(float(x))) for x in value)
        number = (d + m / 60 + s / 3600).quantize(Decimal("0.000001"))
    except (TypeError, ValueError, InvalidOperation, ZeroDivisionError):
        return None
    return -number if str(ref).upper() in ("S", "W") else number


def camera_record(img: Image.Image) -> CameraRecord:
    try:
        return _camera_record(img)
    except Exception:  # a broken EXIF block loses the record, not the photo
        return CameraRecord()


def _camera_record(img: Image.Image) -> CameraRecord:
    exif = img.getexif()
    gps = exif.get_ifd(GPS_IFD) if exif else {}
    lat = _degrees(gps.get(2), gps.get(1)) if gps.get(2) else None
    lng = _degrees(gps.get(4), gps.get(3)) if gps.get(4) else None
    if (lat is not None and not -90 <= lat <= 90) or (lng is not None and not -180 <= lng <= 180):
        lat = lng = None
    taken = None
    raw = (exif.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL) if exif else None) or None
    if raw:
        try:
            naive = dt.datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
            taken = timezone.make_aware(naive, timezone.get_default_timezone())
        except ValueError:
            taken = None
    return CameraRecord(taken, lat, lng)


def clean_photo(fileobj: IO[bytes], name: str) -> bytes:
    """The photo as a JPEG without any metadata; refuses anything that is not a readable image."""
    return clean_photo_with_record(fileobj, name)[0]


def clean_photo_with_record(fileobj: IO[bytes], name: str) -> tuple[bytes, CameraRecord]:
    """The stripped JPEG, and the camera's own time and place (EXIF) kept for the record."""
    checked = check_upload(fileobj, name)
    if checked.content_type not in IMAGE_TYPES:
        raise ValidationFailed(fields={"photo": [_("照片须为 JPEG 或 PNG 图片。")]})
    try:
        with Image.open(fileobj) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ValidationFailed(fields={"photo": [_("照片像素过多。")]})
            img.load()
            record = camera_record(img)
            rgb = img.convert("RGB")  # drops alpha and palette; EXIF is not carried over
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValidationFailed(fields={"photo": [_("照片无法读取，或文件已损坏。")]}) from None
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=85)
    return out.getvalue(), record
