"""Evidence receipts and the standalone offline verifier."""

from __future__ import annotations

import base64
import copy
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from minsheng.ledger import note, selectors, services, verify_receipt
from minsheng.ledger.tests.conftest import PDF

pytestmark = pytest.mark.django_db
VERIFIER = Path(verify_receipt.__file__)


@pytest.fixture
def receipt(anchored):
    return selectors.receipt(1)


def _check(r, **kw):
    return verify_receipt.verify(r, **kw)


def test_a_real_receipt_verifies_with_the_pinned_key_and_the_original_file(receipt, signer, tmp_path):
    original = tmp_path / "p.pdf"
    original.write_bytes(PDF)
    notes = _check(receipt, pinned_key=signer.verifier.vkey, file=original)
    assert any("文件与存证摘要一致" in n for n in notes)


def test_the_standalone_file_runs_on_its_own_with_only_the_standard_library(receipt, signer, tmp_path):
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt, ensure_ascii=False), encoding="utf-8")
    isolated = tmp_path / "verify_receipt.py"
    isolated.write_bytes(VERIFIER.read_bytes())
    # -I: isolated mode, no project on the path; only site-packages (for `cryptography`).
    ok = subprocess.run(
        [sys.executable, "-I", str(isolated), str(path), "--key", signer.verifier.vkey],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "校验通过" in ok.stdout
    receipt["statement"]["record"]["id"] = "999"
    path.write_text(json.dumps(receipt), encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, "-I", str(isolated), str(path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert bad.returncode == 1 and "校验失败" in bad.stdout


def test_the_management_command_uses_the_same_code(receipt, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(receipt), encoding="utf-8")
    out = io.StringIO()
    call_command("ledger", "verify-receipt", str(path), stdout=out)
    assert "校验通过" in out.getvalue()
    receipt["index"] = 0
    path.write_text(json.dumps(receipt), encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        call_command("ledger", "verify-receipt", str(path), stdout=io.StringIO())
    assert exc.value.code == 1


def _flip_b64(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


TAMPERS = {
    "format": lambda r: r.__setitem__("format", "other/v1"),
    "hash": lambda r: r.__setitem__("hash", "sm3"),
    "statement": lambda r: r["statement"].__setitem__("project", "990102000000000000000000"),
    "statement digest": lambda r: r["statement"]["digest"].__setitem__("value", "00" * 32),
    "leaf": lambda r: r.__setitem__("leaf", _flip_b64(r["leaf"])),
    "index": lambda r: r.__setitem__("index", 0),
    "index type": lambda r: r.__setitem__("index", "1"),
    "tree_size": lambda r: r.__setitem__("tree_size", 3),
    "proof element": lambda r: r["inclusion_proof"].__setitem__(0, _flip_b64(r["inclusion_proof"][0])),
    "proof extra": lambda r: r["inclusion_proof"].append(r["inclusion_proof"][0]),
    "proof missing": lambda r: r["inclusion_proof"].pop(),
    "checkpoint root": lambda r: r.__setitem__(
        "checkpoint",
        r["checkpoint"].replace(r["checkpoint"].split("\n")[2], _flip_b64(r["checkpoint"].split("\n")[2])),
    ),
    "checkpoint size": lambda r: r.__setitem__("checkpoint", r["checkpoint"].replace("\n2\n", "\n3\n", 1)),
    "checkpoint signature": lambda r: r.__setitem__("checkpoint", r["checkpoint"][:-10] + "AAAAAAAAA\n"),
    "log key": lambda r: r.__setitem__(
        "log_key", note.generate(r["checkpoint"].split("\n")[0]).verifier.vkey
    ),
}


@pytest.mark.parametrize("field", sorted(TAMPERS))
def test_each_tampered_field_is_rejected(receipt, field):
    bad = copy.deepcopy(receipt)
    TAMPERS[field](bad)
    with pytest.raises(verify_receipt.ReceiptError):
        _check(bad)


def test_a_wrong_original_file_is_rejected(receipt, tmp_path):
    other = tmp_path / "other.pdf"
    other.write_bytes(PDF + b" ")
    with pytest.raises(verify_receipt.ReceiptError):
        _check(receipt, file=other)


def test_a_receipt_checked_with_another_published_key_fails(receipt):
    with pytest.raises(verify_receipt.ReceiptError):
        _check(receipt, pinned_key=note.generate(receipt["checkpoint"].split("\n")[0]).verifier.vkey)


def test_receipt_carries_witness_cosignatures_that_verify(anchored, receipt):
    import time

    w = note.generate("audit.example", cosigner=True)
    services.witness_register(name="audit.example", vkey=w.verifier.vkey)
    body = note.parse_note(receipt["checkpoint"]).body
    services.cosignature_add(size=2, line=note.cosign(body, w, int(time.time())).line)
    r = selectors.receipt(1)
    assert r["witness_keys"] == [w.verifier.vkey]
    assert any("audit.example" in n for n in _check(r))
    r["checkpoint"] = receipt["checkpoint"]  # cosignature stripped
    with pytest.raises(verify_receipt.ReceiptError):
        _check(r)


def test_no_receipt_before_a_checkpoint_covers_the_entry(anchored, client):
    services.anchor(
        kind="inspection",
        project_code=anchored["project"].code,
        record=("construction.inspection", "1"),
        digest="ab" * 32,
    )
    resp = client.get("/ledger/v1/receipts/2")
    assert resp.status_code == 404 and "检查点" in resp.json()["error"]["message"]
