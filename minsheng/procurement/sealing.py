"""Sealed bids: the cryptography, with no ORM (docs/decisions/0005-sealed-bids.md).

- A tender's sealing key is an X25519 key pair. The private key is split at once with Shamir's secret
  sharing over GF(256) (byte by byte, k-of-n) and forgotten; only the public key is kept.
- A bid document is canonicalised (RFC 8785), committed to as SHA-256(canonical ‖ salt), and encrypted
  to the tender's public key: ephemeral X25519, HKDF-SHA256, AES-256-GCM, with the tender and supplier
  bound in as associated data so a ciphertext cannot be moved to another bid row.
- At the opening k shares rebuild the private key in memory; each bid is decrypted and re-committed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
SALT_BYTES = 16
NONCE_BYTES = 12
HKDF_INFO = b"minsheng sealed bid v1"
SHARE_PREFIX = "MSK1"


class SealingError(Exception):
    """A share, key or ciphertext that does not check out."""


# ---------------------------------------------------------------------------------------------
# GF(256) with the AES polynomial x^8 + x^4 + x^3 + x + 1, generator 3.

_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    # multiply by the generator 3 = x + 1
    _x ^= ((_x << 1) ^ (0x11B if _x & 0x80 else 0)) & 0x1FF
    _x &= 0xFF
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


def gf_mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def gf_div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("division by zero in GF(256)")
    if a == 0:
        return 0
    return _EXP[(_LOG[a] - _LOG[b]) % 255]


def _eval(coefficients: list[int], x: int) -> int:
    """Horner's rule; coefficients[0] is the constant term (the secret byte)."""
    y = 0
    for c in reversed(coefficients):
        y = gf_mul(y, x) ^ c
    return y


def interpolate_at(points: list[tuple[int, int]], x: int) -> int:
    """The value at `x` of the polynomial of degree < len(points) through `points` (Lagrange)."""
    total = 0
    for i, (xi, yi) in enumerate(points):
        num, den = 1, 1
        for j, (xj, _yj) in enumerate(points):
            if i != j:
                num = gf_mul(num, x ^ xj)
                den = gf_mul(den, xi ^ xj)
        total ^= gf_mul(yi, gf_div(num, den))
    return total


@dataclass(frozen=True)
class Share:
    index: int  # x coordinate, 1..255
    value: bytes  # one y per secret byte

    def encode(self, label: str = "") -> str:
        """`MSK1-<label>-<index>-<hex>-<check>`: the text an official keeps; the check catches typing slips."""
        body = f"{SHARE_PREFIX}-{label}-{self.index}-{self.value.hex()}"
        return f"{body}-{hashlib.sha256(body.encode()).hexdigest()[:6]}"


def share_digest(text: str) -> str:
    """What the database keeps of a share: its SHA-256, to recognise it at the opening."""
    return hashlib.sha256(text.strip().encode()).hexdigest()


def parse_share(text: str) -> tuple[str, Share]:
    parts = text.strip().split("-")
    if len(parts) != 5 or parts[0] != SHARE_PREFIX:
        raise SealingError("not a key share")
    prefix, label, index, value, check = parts
    body = "-".join((prefix, label, index, value))
    if hashlib.sha256(body.encode()).hexdigest()[:6] != check.lower():
        raise SealingError("share check digits do not match")
    try:
        share = Share(int(index), bytes.fromhex(value))
    except ValueError:
        raise SealingError("malformed share") from None
    if not 1 <= share.index <= 255:
        raise SealingError("share index out of range")
    return label, share


def split(secret: bytes, *, k: int, n: int) -> list[Share]:
    """Shamir k-of-n over GF(256): any k shares give the secret, k − 1 say nothing about it."""
    if not 1 <= k <= n <= 255:
        raise ValueError("need 1 <= k <= n <= 255")
    polys = [[byte, *secrets.token_bytes(k - 1)] for byte in secret]
    return [Share(x, bytes(_eval(p, x) for p in polys)) for x in range(1, n + 1)]


def combine(shares: list[Share]) -> bytes:
    """The secret from (at least k) distinct shares; with fewer than k the result is unrelated noise."""
    if not shares:
        raise SealingError("no shares")
    xs = [s.index for s in shares]
    if len(set(xs)) != len(xs):
        raise SealingError("duplicate share index")
    length = len(shares[0].value)
    if any(len(s.value) != length for s in shares):
        raise SealingError("shares of different lengths")
    return bytes(
        interpolate_at([(s.index, s.value[b]) for s in shares], 0) for b in range(length)
    )


# ---------------------------------------------------------------------------------------------
# keys and envelopes


@dataclass(frozen=True)
class KeyPair:
    private: bytes
    public: bytes


def generate_key_pair() -> KeyPair:
    key = X25519PrivateKey.generate()
    return KeyPair(
        key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()),
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
    )


def public_of(private: bytes) -> bytes:
    try:
        key = X25519PrivateKey.from_private_bytes(private)
    except ValueError:
        raise SealingError("malformed private key") from None
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def canonical(document: dict[str, Any]) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme."""
    return rfc8785.dumps(document)


def commitment(canonical_bytes: bytes, salt: bytes) -> str:
    return hashlib.sha256(canonical_bytes + salt).hexdigest()


def _aead_key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=ephemeral_public + recipient_public, info=HKDF_INFO
    ).derive(shared)


@dataclass(frozen=True)
class Sealed:
    ephemeral_public_key: bytes
    nonce: bytes
    ciphertext: bytes
    commitment: str
    salt: bytes


def seal(document: dict[str, Any], *, public_key: bytes, aad: bytes) -> Sealed:
    """Commit to and encrypt a bid document. The salt travels inside the ciphertext (and to the bidder in
    the receipt), so the commitment alone does not let anyone guess a price by trying candidates."""
    salt = secrets.token_bytes(SALT_BYTES)
    body = canonical(document)
    envelope = canonical({"document": document, "salt": salt.hex()})
    ephemeral = X25519PrivateKey.generate()
    eph_public = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_key))
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = AESGCM(_aead_key(shared, eph_public, public_key)).encrypt(nonce, envelope, aad)
    return Sealed(eph_public, nonce, ciphertext, commitment(body, salt), salt)


@dataclass(frozen=True)
class Opened:
    document: dict[str, Any]
    salt: bytes
    commitment: str  # recomputed from the decrypted document


def unseal(*, private_key: bytes, ephemeral_public_key: bytes, nonce: bytes, ciphertext: bytes,
           aad: bytes) -> Opened:
    """Decrypt a sealed bid and recompute its commitment. Raises SealingError when the ciphertext, nonce,
    ephemeral key or associated data were altered (AES-GCM authenticates all of them)."""
    try:
        key = X25519PrivateKey.from_private_bytes(private_key)
        shared = key.exchange(X25519PublicKey.from_public_bytes(bytes(ephemeral_public_key)))
        recipient = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        plain = AESGCM(_aead_key(shared, bytes(ephemeral_public_key), recipient)).decrypt(
            bytes(nonce), bytes(ciphertext), aad)
        envelope = json.loads(plain)
        document, salt = envelope["document"], bytes.fromhex(envelope["salt"])
    except (InvalidTag, ValueError, KeyError, TypeError):
        raise SealingError("the sealed bid does not decrypt") from None
    return Opened(document, salt, commitment(canonical(document), salt))
