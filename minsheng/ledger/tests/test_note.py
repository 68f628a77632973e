"""Signed notes, checkpoints, cosignatures and canonical statements (no database)."""

from __future__ import annotations

import base64
import datetime as dt
from unittest import mock

import pytest

from minsheng.ledger import canonical, note
from minsheng.ledger.note import NoteError

# Go's golang.org/x/mod/sumdb/note documentation example key and signed text.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)


def test_key_ids_and_formats_match_the_go_note_package() -> None:
    signer = note.parse_signer(GO_SKEY)
    assert signer.verifier.vkey == GO_VKEY
    assert signer.skey == GO_SKEY
    signed = note.sign_note(GO_TEXT, signer)
    assert note.verify_note(signed, note.parse_verifier(GO_VKEY)).body == GO_TEXT
    assert signed.startswith(GO_TEXT + "\n\u2014 PeterNeumann ")


def test_tampered_body_signature_or_key_is_refused() -> None:
    signer = note.generate("minsheng.local/ledger")
    text = note.sign_note("a\nb\n", signer)
    v = signer.verifier
    with pytest.raises(NoteError):
        note.verify_note(text.replace("a\n", "c\n", 1), v)
    with pytest.raises(NoteError):
        note.verify_note(text, note.generate("minsheng.local/ledger").verifier)
    line = text.split("\n\n")[1]
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[10] ^= 1
    with pytest.raises(NoteError):
        note.verify_note(
            "a\nb\n\n\u2014 minsheng.local/ledger " + base64.b64encode(bytes(blob)).decode() + "\n", v
        )
    for bad in ("a\nb\n", "a\r\nb\n\n" + line, "\n\n" + line, "a\n\n- x AAAAAAAA\n"):
        with pytest.raises(NoteError):
            note.verify_note(bad, v)
    with pytest.raises(NoteError):
        note.parse_verifier(v.vkey.replace(v.id.hex(), "00000000"))
    with pytest.raises(NoteError):
        note.parse_signer("PRIVATE+KEY+x+00000000+AAAA")


def test_checkpoint_round_trip_and_malformed_bodies() -> None:
    cp = note.Checkpoint("minsheng.local/ledger", 42, b"\x07" * 32)
    assert cp.body == "minsheng.local/ledger\n42\n" + base64.b64encode(b"\x07" * 32).decode() + "\n"
    assert note.parse_checkpoint(cp.body) == cp
    for bad in (
        "o\n042\n" + base64.b64encode(b"1" * 32).decode() + "\n",
        "o\n1\nAAAA\n",
        "o\n1\n",
        "o\n-1\n" + base64.b64encode(b"1" * 32).decode() + "\n",
    ):
        with pytest.raises(NoteError):
            note.parse_checkpoint(bad)


def test_cosignature_v1_signs_time_and_body() -> None:
    witness = note.generate("audit.qingxi.gov.cn", cosigner=True)
    body = note.Checkpoint("o", 3, b"\x01" * 32).body
    sig = note.cosign(body, witness, 1_767_225_600)
    assert sig.key_id == note.key_id(witness.name, b"\x04", witness.public)
    assert note.verify_cosignature(body, witness.verifier, sig) == 1_767_225_600
    with pytest.raises(NoteError):
        note.verify_cosignature(body.replace("3", "4"), witness.verifier, sig)
    forged = note.Signature(sig.name, sig.key_id, (1).to_bytes(8, "big") + sig.raw[8:])
    with pytest.raises(NoteError):
        note.verify_cosignature(body, witness.verifier, forged)
    signed = note.sign_note(body, note.generate("o"))
    with_cosig = note.add_signature(signed, sig.line)
    assert note.parse_note(with_cosig).signatures[-1] == sig


def test_sm2_signatures_verify_and_take_the_nonce_from_secrets() -> None:
    signer = note.generate("gm.example/ledger", "sm2")
    again = note.parse_signer(signer.skey)
    assert again.public == signer.public
    with (
        mock.patch("random.randint", side_effect=AssertionError("random used")),
        mock.patch("random.choice", side_effect=AssertionError("random used")),
        mock.patch("minsheng.ledger.note.secrets.randbelow", wraps=note.secrets.randbelow) as rb,
    ):
        text = note.sign_note("hello\n", signer)
    assert rb.called
    assert note.verify_note(text, note.parse_verifier(signer.verifier.vkey)).body == "hello\n"
    with pytest.raises(NoteError):
        note.verify_note(text.replace("hello", "hellO"), signer.verifier)


def _statement(**kw) -> canonical.Statement:
    base = dict(
        kind="document",
        project_code="2026-990102-47-01-000001".replace("-", "")[:24],
        record_model="projects.document",
        record_id="7",
        digest_alg="sha256",
        digest="ab" * 32,
        actor_role="dept_officer",
        actor_commitment="cd" * 32,
        time=canonical.format_time(dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)),
    )
    base.update(kw)
    return canonical.Statement(**base)


def test_statement_bytes_are_rfc8785_and_round_trip() -> None:
    s = _statement()
    leaf = canonical.statement_bytes(s)
    assert leaf.startswith(b'{"actor":{"commitment":"' + b"cd" * 32 + b'","role":"dept_officer"},"digest":')
    assert b" " not in leaf and leaf.endswith(b'"v":1}')
    assert canonical.parse(leaf) == s
    with pytest.raises(canonical.StatementError):
        canonical.parse(leaf.replace(b'{"actor"', b'{ "actor"'))
    for bad in (
        dict(digest="zz"),
        dict(kind="Bad Kind"),
        dict(record_model="Document"),
        dict(time="now"),
        dict(digest_alg="md5"),
    ):
        with pytest.raises(canonical.StatementError):
            canonical.statement_bytes(_statement(**bad))


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "v": st.just(1),
            "type": _text,
            "project": _text,
            "record": st.fixed_dictionaries({"model": _text, "id": _text}),
            "digest": st.fixed_dictionaries({"alg": _text, "value": _text}),
            "actor": st.fixed_dictionaries({"role": _text, "commitment": _text}),
            "time": _text,
        }
    )
)
def test_the_fast_statement_encoding_is_byte_identical_to_rfc8785(value) -> None:
    import rfc8785

    assert canonical.statement_json(value) == rfc8785.dumps(value)
