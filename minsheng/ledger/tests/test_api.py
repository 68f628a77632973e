"""The /ledger/v1/ HTTP contract."""

from __future__ import annotations

import base64

import pytest

from minsheng.ledger import merkle, note, services
from minsheng.ledger.models import Leaf

pytestmark = pytest.mark.django_db
SHA = merkle.Hasher("sha256")


def _grow(n: int, code: str) -> None:
    services.anchor_many(
        [
            {
                "kind": "inspection",
                "project_code": code,
                "record": ("construction.inspection", str(i)),
                "digest": f"{i:064x}",
            }
            for i in range(n)
        ]
    )


def test_checkpoint_is_a_signed_note_in_plain_text(client, anchored, signer):
    resp = client.get("/ledger/v1/checkpoint")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/plain")
    signed = note.verify_note(resp.content.decode(), signer.verifier)
    cp = note.parse_checkpoint(signed.body)
    assert cp.origin == signer.name and cp.size == 2


def test_no_checkpoint_yet_is_a_json_404(client, db):
    resp = client.get("/ledger/v1/checkpoint")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


def test_entry_returns_the_exact_leaf_bytes_and_the_decoded_statement(client, anchored):
    body = client.get("/ledger/v1/entries/1").json()
    leaf = Leaf.objects.get(index=1)
    assert base64.b64decode(body["leaf"]) == bytes(leaf.data)
    assert base64.b64decode(body["leaf_hash"]) == SHA.leaf(bytes(leaf.data))
    assert body["index"] == 1 and body["data"]["type"] == "document"


def test_inclusion_and_consistency_proofs_verify(client, anchored):
    _grow(30, anchored["project"].code)
    services.checkpoint_create()
    for index, size in ((0, 1), (1, 2), (5, 32), (31, 32), (17, 20)):
        body = client.get(f"/ledger/v1/proof/inclusion?index={index}&tree_size={size}").json()
        assert (body["index"], body["tree_size"]) == (index, size)
        merkle.verify_inclusion(
            SHA,
            index,
            size,
            base64.b64decode(body["leaf_hash"]),
            [base64.b64decode(p) for p in body["audit_path"]],
            base64.b64decode(body["root_hash"]),
        )
    for first, second in ((1, 32), (2, 32), (7, 19), (32, 32)):
        body = client.get(f"/ledger/v1/proof/consistency?first={first}&second={second}").json()
        merkle.verify_consistency(
            SHA,
            first,
            second,
            base64.b64decode(body["first_root"]),
            base64.b64decode(body["second_root"]),
            [base64.b64decode(p) for p in body["proof"]],
        )


@pytest.mark.parametrize(
    "url",
    [
        "/ledger/v1/entries/2",
        "/ledger/v1/entries/-1",
        "/ledger/v1/entries/x",
        "/ledger/v1/entries/99999999999999999999",
        "/ledger/v1/proof/inclusion?index=2&tree_size=2",
        "/ledger/v1/proof/inclusion?index=0&tree_size=3",
        "/ledger/v1/proof/inclusion?index=0&tree_size=0",
        "/ledger/v1/proof/inclusion?index=a&tree_size=1",
        "/ledger/v1/proof/inclusion?tree_size=1",
        "/ledger/v1/proof/consistency?first=0&second=2",
        "/ledger/v1/proof/consistency?first=2&second=1",
        "/ledger/v1/proof/consistency?first=1&second=3",
        "/ledger/v1/proof/consistency?first=1.5&second=2",
        "/ledger/v1/receipts/7",
    ],
)
def test_malformed_or_out_of_range_parameters_are_400_json(client, anchored, url):
    resp = client.get(url)
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["code"] == "invalid" and err["fields"]


def test_keys_publish_the_log_and_witness_keys(client, anchored, signer):
    w = note.generate("audit.example", cosigner=True)
    services.witness_register(name="audit.example", vkey=w.verifier.vkey)
    body = client.get("/ledger/v1/keys").json()
    assert body["log"] == {
        "origin": signer.name,
        "hash": "sha256",
        "algorithm": "ed25519",
        "vkey": signer.verifier.vkey,
    }
    assert body["witnesses"][0]["vkey"] == w.verifier.vkey


def test_receipt_is_a_json_download(client, anchored):
    resp = client.get("/ledger/v1/receipts/1")
    assert resp.status_code == 200 and "attachment" in resp["Content-Disposition"]
    assert resp.json()["format"] == "minsheng-evidence-receipt/v1"
