"""Shamir sharing and the bid envelope, without a database."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minsheng.procurement import sealing

secrets_ = st.binary(min_size=1, max_size=48)


@st.composite
def k_n(draw):
    n = draw(st.integers(min_value=2, max_value=7))
    k = draw(st.integers(min_value=2, max_value=n))
    return k, n


def test_gf256_multiplication_is_a_field():
    for a in range(1, 256):
        assert sealing.gf_mul(a, sealing.gf_div(1, a)) == 1
    assert sealing.gf_mul(0x57, 0x83) == 0xC1  # FIPS-197 §4.2 example


@settings(max_examples=60, deadline=None)
@given(secret=secrets_, kn=k_n(), data=st.data())
def test_any_k_shares_reconstruct_the_secret(secret, kn, data):
    k, n = kn
    shares = sealing.split(secret, k=k, n=n)
    chosen = data.draw(st.permutations(shares)).copy()[: data.draw(st.integers(min_value=k, max_value=n))]
    assert sealing.combine(chosen) == secret


@settings(max_examples=60, deadline=None)
@given(secret=secrets_, other=st.data(), kn=k_n())
def test_k_minus_one_shares_are_consistent_with_every_secret(secret, other, kn):
    """k − 1 shares reveal nothing checkable: for any other candidate secret there is a k-th share that,
    with the same k − 1, reconstructs exactly that candidate."""
    k, n = kn
    candidate = other.draw(st.binary(min_size=len(secret), max_size=len(secret)))
    shares = sealing.split(secret, k=k, n=n)
    known = shares[: k - 1]
    missing_x = shares[k - 1].index
    forged_value = bytes(
        sealing.interpolate_at([(0, candidate[b])] + [(s.index, s.value[b]) for s in known], missing_x)
        for b in range(len(secret)))
    assert sealing.combine([*known, sealing.Share(missing_x, forged_value)]) == candidate


def test_fewer_than_k_shares_do_not_give_the_key():
    secret = bytes(range(32))
    shares = sealing.split(secret, k=3, n=5)
    for pair in itertools.combinations(shares, 2):
        assert sealing.combine(list(pair)) != secret


def test_share_text_round_trips_and_catches_a_typing_slip():
    share = sealing.split(b"\x01" * 32, k=2, n=3)[1]
    text = share.encode("17")
    assert sealing.parse_share(text) == ("17", share)
    slipped = text[:12] + ("0" if text[12] != "0" else "1") + text[13:]
    with pytest.raises(sealing.SealingError):
        sealing.parse_share(slipped)
    with pytest.raises(sealing.SealingError):
        sealing.parse_share("not a share")


def test_duplicate_share_indices_are_refused():
    share = sealing.split(b"secret", k=2, n=2)[0]
    with pytest.raises(sealing.SealingError):
        sealing.combine([share, share])


def test_canonical_form_is_rfc8785():
    assert sealing.canonical({"b": "二", "a": [1, "x"]}) == '{"a":[1,"x"],"b":"二"}'.encode()


def test_sealed_document_opens_with_the_key_and_recommits():
    pair = sealing.generate_key_pair()
    doc = {"price": "1234567.00", "technical": "方案"}
    sealed = sealing.seal(doc, public_key=pair.public, aad=b"t|s")
    opened = sealing.unseal(private_key=pair.private, ephemeral_public_key=sealed.ephemeral_public_key,
                            nonce=sealed.nonce, ciphertext=sealed.ciphertext, aad=b"t|s")
    assert opened.document == doc
    assert opened.commitment == sealed.commitment == sealing.commitment(sealing.canonical(doc), sealed.salt)
    assert b"1234567" not in sealed.ciphertext


@pytest.mark.parametrize("what", ["ciphertext", "nonce", "aad", "key"])
def test_altered_envelope_does_not_open(what):
    pair = sealing.generate_key_pair()
    sealed = sealing.seal({"price": "1.00"}, public_key=pair.public, aad=b"t|s")
    args = {"private_key": pair.private, "ephemeral_public_key": sealed.ephemeral_public_key,
            "nonce": sealed.nonce, "ciphertext": sealed.ciphertext, "aad": b"t|s"}
    if what == "ciphertext":
        args["ciphertext"] = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    elif what == "nonce":
        args["nonce"] = bytes(12)
    elif what == "aad":
        args["aad"] = b"t|other-supplier"
    else:
        args["private_key"] = sealing.generate_key_pair().private
    with pytest.raises(sealing.SealingError):
        sealing.unseal(**args)


def test_commitment_depends_on_the_salt():
    body = sealing.canonical({"price": "100.00"})
    assert sealing.commitment(body, b"a" * 16) != sealing.commitment(body, b"b" * 16)
