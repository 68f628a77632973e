"""Signing-key rotation: the new key endorses the old one, verification and receipts accept
checkpoints of any published key within its validity, and a retired key signs nothing more."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from minsheng.ledger import keys, note, selectors, services, verification, verify_receipt
from minsheng.ledger.models import Checkpoint, LogKey
from minsheng.ledger.tests.conftest import TEST_ORIGIN

pytestmark = pytest.mark.django_db


def _grow(code: str, start: int, n: int) -> None:
    services.anchor_many(
        [
            {"kind": "inspection", "project_code": code, "record": ("construction.inspection", str(i)),
             "digest": f"{i:064x}"}
            for i in range(start, start + n)
        ]
    )


@pytest.fixture
def rotated(anchored, signer, settings, tmp_path):
    """Checkpoints 2 (old key) → rotation → 5 (new key)."""
    new = note.generate(TEST_ORIGIN)
    path = tmp_path / "new.key"
    path.write_text(new.skey, encoding="utf-8")
    out = io.StringIO()
    call_command("ledger", "rotate-key", "--key-file", str(path), stdout=out)
    assert new.verifier.vkey in out.getvalue()
    settings.LEDGER_SIGNING_KEY = new.skey
    _grow(anchored["project"].code, 0, 3)
    services.checkpoint_create()
    return {"old": signer, "new": new, **anchored}


def test_checkpoints_of_the_old_and_the_new_key_both_verify(rotated):
    assert sorted(Checkpoint.objects.values_list("size", "key_id")) == [
        (2, rotated["old"].id.hex()),
        (5, rotated["new"].id.hex()),
    ]
    report = verification.verify()
    assert report.ok, report.problems


def test_the_old_key_stays_published_with_its_validity(rotated, client):
    body = client.get("/ledger/v1/keys").json()
    assert body["log"]["vkey"] == rotated["new"].verifier.vkey
    published = {k["vkey"]: k for k in body["log_keys"]}
    old = published[rotated["old"].verifier.vkey]
    assert old["valid_until"] and old["last_size"] == 2 and old["endorsement"]
    assert published[rotated["new"].verifier.vkey]["valid_until"] is None
    # The endorsement is the new key's signature over the old key and its validity.
    endorsed = keys.parse_endorsement(note.verify_note(old["endorsement"], rotated["new"].verifier).body)
    assert endorsed[1] == rotated["old"].verifier.vkey and endorsed[4] == 2


def test_a_retired_key_signs_nothing_more(rotated, settings):
    settings.LEDGER_SIGNING_KEY = rotated["old"].skey
    _grow(rotated["project"].code, 10, 1)
    with pytest.raises(keys.SigningKeyRetired):
        services.checkpoint_create()


def test_a_retired_key_cannot_vouch_for_later_trees(rotated):
    # Someone holding the old key signs a larger tree after the rotation: outside its last size.
    cp = Checkpoint.objects.get(size=5)
    forged = note.sign_note(note.parse_note(cp.note).body, rotated["old"])
    with connection.cursor() as cur:
        cur.execute("UPDATE ledger_checkpoint SET note = %s, key_id = %s WHERE id = %s",
                    [forged, rotated["old"].id.hex(), cp.pk])
    report = verification.verify()
    assert [(p["what"], p["size"]) for p in report.problems] == [("checkpoint", 5)]


def test_a_key_added_in_the_database_alone_is_not_trusted(rotated):
    intruder = note.generate(TEST_ORIGIN)
    LogKey.objects.create(log=rotated["project"] and Checkpoint.objects.first().log, vkey=intruder.verifier.vkey,
                          key_id=intruder.id.hex(), endorsement=note.sign_note("x\n", intruder))
    cp = Checkpoint.objects.get(size=5)
    with connection.cursor() as cur:
        cur.execute("UPDATE ledger_checkpoint SET note = %s WHERE id = %s",
                    [note.sign_note(note.parse_note(cp.note).body, intruder), cp.pk])
    report = verification.verify()
    assert [(p["what"], p["size"]) for p in report.problems] == [("checkpoint", 5)]
    assert intruder.verifier.vkey not in [k.verifier.vkey for k in keys.trusted(Checkpoint.objects.first().log)]


def test_receipts_verify_with_any_published_key(rotated):
    receipt = selectors.receipt(1)
    assert receipt["log_key"] == rotated["new"].verifier.vkey
    pinned = [rotated["old"].verifier.vkey, rotated["new"].verifier.vkey]
    verify_receipt.verify(receipt, pinned_key=pinned)
    # A receipt from before the rotation names the old key, which is still accepted when pinned.
    old_receipt = dict(receipt, checkpoint=Checkpoint.objects.get(size=2).note, tree_size=2,
                       log_key=rotated["old"].verifier.vkey)
    from minsheng.ledger import tree

    old_receipt["inclusion_proof"] = [selectors.b64(h) for h in tree.inclusion_proof(
        Checkpoint.objects.first().log, 1, 2)]
    verify_receipt.verify(old_receipt, pinned_key=pinned)
    with pytest.raises(verify_receipt.ReceiptError):
        verify_receipt.verify(old_receipt, pinned_key=[rotated["new"].verifier.vkey])


def test_rotation_refuses_the_same_key_or_a_witness_key(anchored, signer):
    from minsheng.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.key_rotate(new=signer)
    with pytest.raises(ValidationFailed):
        services.key_rotate(new=note.generate(TEST_ORIGIN, cosigner=True))
    with pytest.raises(ValidationFailed):
        services.key_rotate(new=note.generate("other.example/log"))


def test_a_pull_witness_pinned_with_every_published_key_follows_a_rotation(rotated, client, tmp_path):
    """The witness command pins all of the log's keys (`--log-key` repeated): after the rotation the
    newest checkpoint is signed by the new key, and the witness still co-signs it; pinned with the old key
    alone, it refuses."""
    from minsheng.ledger import witness
    from minsheng.ledger.models import Cosignature
    from minsheng.ledger.tests.test_witness import _fetch_via

    auditor = note.generate("audit.qingxi.example", cosigner=True)
    services.witness_register(name=auditor.name, vkey=auditor.verifier.vkey, description="青溪市审计局")
    fetch = _fetch_via(client)
    with pytest.raises(witness.WitnessError, match="checkpoint rejected"):
        witness.run(base_url="http://testserver", witness=auditor, log_key=[rotated["old"].verifier],
                    state_path=tmp_path / "a.json", fetch=fetch)
    done = witness.run(base_url="http://testserver", witness=auditor,
                       log_key=[rotated["old"].verifier, rotated["new"].verifier],
                       state_path=tmp_path / "b.json", fetch=fetch)
    assert done["size"] == 5 and Cosignature.objects.count() == 1
