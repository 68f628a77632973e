"""The C2SP tlog-witness protocol against a real `minsheng ledger witness --serve` process: the log
pushes each checkpoint (`old` size, consistency proof, signed checkpoint) and stores the
cosignatures; the witness answers 409 with its size, 422 for a bad proof, 403/404 for unknown keys
or logs."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from minsheng.ledger import note, services, verification, witness
from minsheng.ledger.models import Checkpoint, Cosignature
from minsheng.ledger.tests.conftest import TEST_ORIGIN

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor():
    w = note.generate("audit.qingxi.example", cosigner=True)
    services.witness_register(name=w.name, vkey=w.verifier.vkey, description="青溪市审计局")
    return w


@pytest.fixture
def server(auditor, signer, tmp_path):
    key = tmp_path / "witness.key"
    key.write_text(auditor.skey, encoding="utf-8")
    state = tmp_path / "witness-state.json"
    env = {**os.environ, "MINSHENG_DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    cli = Path(sys.executable).parent / "minsheng"
    proc = subprocess.Popen(
        [str(cli), "ledger", "witness", "--serve", "0", "--key", str(key), "--state", str(state),
         "--name", auditor.name, "--log-key", signer.verifier.vkey],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        line = proc.stdout.readline()
        assert "listening on" in line, proc.stderr.read()
        yield {"url": line.split("listening on ", 1)[1].strip(), "state": state}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _post(url: str, body: bytes) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read()


def _grow(code: str, start: int, n: int) -> None:
    services.anchor_many(
        [
            {"kind": "inspection", "project_code": code, "record": ("construction.inspection", str(i)),
             "digest": f"{i:064x}"}
            for i in range(start, start + n)
        ]
    )


def test_the_log_pushes_checkpoints_and_stores_the_cosignatures(anchored, auditor, server, settings):
    settings.LEDGER_WITNESSES = [server["url"]]
    assert services.witness_push() == {server["url"]: [auditor.name]}
    first = Checkpoint.objects.get(size=2)
    assert Cosignature.objects.get(checkpoint=first).witness.name == auditor.name
    assert f"\u2014 {auditor.name} " in first.note
    _grow(anchored["project"].code, 0, 7)
    from minsheng.ledger import tasks

    assert tasks.checkpoint_if_grown.call() == 9  # signs and pushes, consistent with size 2
    assert Cosignature.objects.filter(checkpoint__size=9, witness__name=auditor.name).exists()
    assert json.loads(server["state"].read_text())[TEST_ORIGIN]["size"] == 9
    assert verification.verify().ok


def test_a_size_mismatch_is_a_409_with_the_witness_size_and_the_log_recovers(anchored, auditor, server):
    services.witness_push(urls=[server["url"]])
    cp = Checkpoint.objects.get(size=2)
    status, ctype, body = _post(server["url"], witness.add_checkpoint_body(0, [], cp.note))
    assert (status, ctype, body) == (409, "text/x.tlog.size", b"2\n")
    # The log forgets what the witness saw; its push starts from 0, gets 409 and retries from 2.
    Cosignature.objects.all().delete()
    _grow(anchored["project"].code, 0, 5)
    services.checkpoint_create()
    assert services.witness_push(urls=[server["url"]]) == {server["url"]: [auditor.name]}
    assert Cosignature.objects.filter(checkpoint__size=7).exists()


def test_a_bad_consistency_proof_is_a_422_and_nothing_is_cosigned(anchored, auditor, server):
    services.witness_push(urls=[server["url"]])
    _grow(anchored["project"].code, 0, 5)
    cp = services.checkpoint_create()
    status, _ctype, _body = _post(server["url"], witness.add_checkpoint_body(2, [b"\x00" * 32] * 3, cp.note))
    assert status == 422
    assert json.loads(server["state"].read_text())[TEST_ORIGIN]["size"] == 2


def test_unknown_keys_and_logs_are_refused(anchored, server):
    body = note.parse_note(Checkpoint.objects.get(size=2).note).body
    stranger = note.generate(TEST_ORIGIN)
    status, _c, _b = _post(server["url"], witness.add_checkpoint_body(0, [], note.sign_note(body, stranger)))
    assert status == 403
    other = note.generate("other.example/log")
    other_body = note.Checkpoint("other.example/log", 1, b"\x01" * 32).body
    status, _c, _b = _post(server["url"], witness.add_checkpoint_body(0, [], note.sign_note(other_body, other)))
    assert status == 404
    status, _c, _b = _post(server["url"], b"not a request")
    assert status == 400
    assert not server["state"].exists()


def test_the_witness_cosignature_is_the_c2sp_cosignature_v1(anchored, auditor, server):
    cp = Checkpoint.objects.get(size=2)
    status, _c, raw = _post(server["url"], witness.add_checkpoint_body(0, [], cp.note))
    assert status == 200
    sig = note.parse_note("x\n\n" + raw.decode()).signatures[0]
    timestamp = note.verify_cosignature(note.parse_note(cp.note).body, auditor.verifier, sig)
    assert len(sig.raw) == 72 and timestamp > 0
    assert base64.b64decode(raw.decode().split()[-1])[:4] == auditor.id
