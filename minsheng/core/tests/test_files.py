"""Upload checks: type by magic bytes, size limit, SHA-256 digest."""

from __future__ import annotations

import hashlib
import io

import pytest

from minsheng.core.errors import ValidationFailed
from minsheng.core.files import check_upload

PDF = b"%PDF-1.7\n" + b"x" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 50


def _field_message(exc) -> str:
    return str(exc.value.fields["file"][0])


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (PDF, "报告.PDF", "application/pdf"),
        (PNG, "site.png", "image/png"),
        (b"\xff\xd8\xff\xe0" + b"j" * 20, "photo.jpeg", "image/jpeg"),
        (b"PK\x03\x04" + b"z" * 20, "表格.xlsx", "application/zip"),
    ],
)
def test_known_types_are_accepted_with_size_and_digest(content, name, content_type):
    f = io.BytesIO(content)
    checked = check_upload(f, name)
    assert checked.content_type == content_type
    assert checked.size == len(content)
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert f.tell() == 0  # rewound for storing


def test_wrong_content_for_the_extension_is_refused():
    with pytest.raises(ValidationFailed) as exc:
        check_upload(io.BytesIO(b"MZ\x90\x00 this is an exe"), "fsr.pdf")
    assert _field_message(exc) == "文件内容与扩展名不符，或文件已损坏。"


def test_png_renamed_to_pdf_is_refused():
    with pytest.raises(ValidationFailed):
        check_upload(io.BytesIO(PNG), "fsr.pdf")


@pytest.mark.parametrize("name", ["virus.exe", "noext", "page.html", "a.pdf.exe"])
def test_disallowed_extensions_are_refused(name):
    with pytest.raises(ValidationFailed) as exc:
        check_upload(io.BytesIO(PDF), name)
    assert _field_message(exc).startswith("不支持的文件类型")


def test_empty_file_is_refused_as_empty():
    with pytest.raises(ValidationFailed) as exc:
        check_upload(io.BytesIO(b""), "a.pdf")
    assert _field_message(exc) == "文件为空。"


def test_oversized_file_is_refused(settings):
    settings.MINSHENG_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    big = b"%PDF-" + b"0" * (2 * 1024 * 1024)
    with pytest.raises(ValidationFailed) as exc:
        check_upload(io.BytesIO(big), "big.pdf")
    assert _field_message(exc) == "文件过大，上限为 2 MB。"


def test_file_exactly_at_the_limit_is_accepted(settings):
    settings.MINSHENG_MAX_UPLOAD_BYTES = 1024 * 1024
    exact = b"%PDF-" + b"0" * (1024 * 1024 - 5)
    assert check_upload(io.BytesIO(exact), "ok.pdf").size == 1024 * 1024
