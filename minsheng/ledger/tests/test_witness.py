"""Witnesses: `minsheng ledger witness` checks consistency before co-signing; the log accepts only
registered witnesses' valid cosignatures and serves them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from minsheng.core.errors import ValidationFailed
from minsheng.ledger import note, services, witness
from minsheng.ledger.models import Checkpoint, Cosignature

pytestmark = pytest.mark.django_db


def _fetch_via(client):
    def fetch(method: str, url: str, body: bytes | None):
        path = url.split("testserver", 1)[1]
        resp = (
            client.get(path) if method == "GET" else client.post(path, body, content_type="application/json")
        )
        return resp.status_code, resp.content

    return fetch


def _grow(code: str, start: int, n: int) -> None:
    services.anchor_many(
        [
            {
                "kind": "inspection",
                "project_code": code,
                "record": ("construction.inspection", str(i)),
                "digest": f"{i:064x}",
            }
            for i in range(start, start + n)
        ]
    )


@pytest.fixture
def auditor():
    w = note.generate("audit.qingxi.example", cosigner=True)
    services.witness_register(name=w.name, vkey=w.verifier.vkey, description="青溪市审计局")
    return w


def test_witness_cosigns_after_checking_consistency(client, anchored, auditor, signer, tmp_path):
    state = tmp_path / "state.json"
    fetch = _fetch_via(client)
    first = witness.run(
        base_url="http://testserver", witness=auditor, log_key=signer.verifier, state_path=state, fetch=fetch
    )
    assert first == {"origin": signer.name, "size": 2, "previous": None}
    _grow(anchored["project"].code, 0, 7)
    services.checkpoint_create()
    second = witness.run(
        base_url="http://testserver", witness=auditor, log_key=signer.verifier, state_path=state, fetch=fetch
    )
    assert second["size"] == 9 and second["previous"] == 2
    assert Cosignature.objects.count() == 2
    served = client.get("/ledger/v1/checkpoint").content.decode()
    sig = next(s for s in note.parse_note(served).signatures if s.name == auditor.name)
    note.verify_cosignature(note.parse_note(served).body, auditor.verifier, sig)
    assert json.loads(state.read_text())["size"] == 9


def test_witness_refuses_a_rewritten_history(client, anchored, auditor, signer, tmp_path):
    state = tmp_path / "state.json"
    fetch = _fetch_via(client)
    witness.run(
        base_url="http://testserver", witness=auditor, log_key=signer.verifier, state_path=state, fetch=fetch
    )
    # The witness remembers a different root for size 2 than the log now proves from: a fork.
    saved = json.loads(state.read_text())
    saved["root"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    state.write_text(json.dumps(saved))
    _grow(anchored["project"].code, 0, 3)
    services.checkpoint_create()
    with pytest.raises(witness.WitnessError, match="not consistent"):
        witness.run(
            base_url="http://testserver",
            witness=auditor,
            log_key=signer.verifier,
            state_path=state,
            fetch=fetch,
        )
    assert Cosignature.objects.count() == 1
    assert Path(state).read_text() == json.dumps(saved)


def test_witness_refuses_a_checkpoint_not_signed_by_the_log(client, anchored, auditor, tmp_path):
    with pytest.raises(witness.WitnessError, match="checkpoint rejected"):
        witness.run(
            base_url="http://testserver",
            witness=auditor,
            log_key=note.generate(anchored["project"].code and "test.minsheng.local/ledger").verifier,
            state_path=tmp_path / "s.json",
            fetch=_fetch_via(client),
        )


def test_log_accepts_only_registered_witnesses_with_valid_cosignatures(client, anchored, auditor):
    body = note.parse_note(Checkpoint.objects.get().note).body
    stranger = note.generate("stranger.example", cosigner=True)
    for line, size in (
        (note.cosign(body, stranger, int(time.time())).line, 2),
        (note.cosign(body.replace("\n2\n", "\n3\n"), auditor, int(time.time())).line, 2),
        (note.cosign(body, auditor, int(time.time()) - 3600).line, 2),
        ("garbage", 2),
    ):
        resp = client.post(
            "/ledger/v1/witness",
            json.dumps({"size": size, "cosignature": line}),
            content_type="application/json",
        )
        assert resp.status_code == 400, line
        assert resp.json()["error"]["fields"]["cosignature"]
    resp = client.post("/ledger/v1/witness", "not json", content_type="application/json")
    assert resp.status_code == 400
    good = note.cosign(body, auditor, int(time.time())).line
    resp = client.post(
        "/ledger/v1/witness", json.dumps({"size": 99, "cosignature": good}), content_type="application/json"
    )
    assert resp.status_code == 404
    assert not Cosignature.objects.exists()


def test_only_cosignature_keys_can_be_registered(db):
    with pytest.raises(ValidationFailed):
        services.witness_register(name="w", vkey=note.generate("w").verifier.vkey)
    with pytest.raises(ValidationFailed):
        services.witness_register(name="w", vkey="nonsense")
