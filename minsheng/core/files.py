"""Upload checks: size limit and type by content (magic bytes), never by the name alone."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from minsheng.core.errors import ValidationFailed

# (magic prefix, content type, extensions)
_SIGNATURES: list[tuple[bytes, str, tuple[str, ...]]] = [
    (b"%PDF-", "application/pdf", (".pdf",)),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",)),
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg")),
    (b"PK\x03\x04", "application/zip", (".docx", ".xlsx", ".zip", ".ofd")),
]
ALLOWED_EXTENSIONS = {ext for _sig, _ct, exts in _SIGNATURES for ext in exts}


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    size: int
    sha256: str


def check_upload(fileobj: IO[bytes], name: str) -> CheckedFile:
    """Validate and digest an uploaded file; rewinds it so it can be stored afterwards."""
    limit = settings.MINSHENG_MAX_UPLOAD_BYTES
    lower = name.lower()
    ext = lower[lower.rfind(".") :] if "." in lower else ""
    if ext not in ALLOWED_EXTENSIONS:
        raise ValidationFailed(
            fields={"file": [_("不支持的文件类型。允许：PDF、PNG、JPEG、DOCX、XLSX、OFD、ZIP。")]}
        )
    fileobj.seek(0)
    head = fileobj.read(8)
    if not head:
        raise ValidationFailed(fields={"file": [_("文件为空。")]})
    content_type = next(
        (ct for sig, ct, exts in _SIGNATURES if head.startswith(sig) and ext in exts),
        None,
    )
    if content_type is None:
        raise ValidationFailed(fields={"file": [_("文件内容与扩展名不符，或文件已损坏。")]})
    digest = hashlib.sha256(head)
    size = len(head)
    while chunk := fileobj.read(1024 * 1024):
        size += len(chunk)
        if size > limit:
            raise ValidationFailed(
                fields={"file": [_("文件过大，上限为 %(mb)d MB。") % {"mb": limit // (1024 * 1024)}]}
            )
        digest.update(chunk)
    fileobj.seek(0)
    return CheckedFile(content_type=content_type, size=size, sha256=digest.hexdigest())
