"""C2SP signed notes, tlog checkpoints and tlog cosignatures. Pure: no ORM, no Django.

- signed-note (c2sp.org/signed-note): ``body`` (UTF-8, ends with a newline), a blank line, then one
  line per signature: ``— <key name> <base64(key ID ‖ signature)>``. The key ID is the first four
  bytes of SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key). Ed25519 is type 0x01; keys are
  written as Go's ``golang.org/x/mod/sumdb/note`` does: ``<name>+<hex id>+<base64(0x01 ‖ public)>``
  and ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>``.
- tlog-checkpoint (c2sp.org/tlog-checkpoint): body ``<origin>\\n<tree size>\\n<base64 root>\\n``.
- tlog-cosignature (c2sp.org/tlog-cosignature), cosignature/v1: type 0x04; the witness signs
  ``cosignature/v1\\ntime <unix seconds>\\n`` + checkpoint body with Ed25519, and the note signature
  is key ID ‖ uint64 big-endian timestamp ‖ 64-byte signature.
- SM2 (GB/T 32918, SM3 digest, default ID 1234567812345678) is a *local* extension for 国密
  deployments: type 0xff followed by the ASCII tag ``sm2`` (no registered signed-note type exists);
  the signature is r ‖ s (64 bytes). The nonce comes from `secrets`, never from `random`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
ALG_SM2 = b"\xffsm2"
SIG_PREFIX = "\u2014 "  # em dash, space
_NAME = re.compile(r"^[^\s+]+$")


class NoteError(ValueError):
    """A note, key or checkpoint is malformed, or a signature does not verify."""


def key_id(name: str, alg: bytes, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + alg + public).digest()[:4]


def _b64d(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("invalid base64") from None


def _check_name(name: str) -> None:
    if not name or not _NAME.match(name):
        raise NoteError("key names must be non-empty and contain no spaces or '+'")


# ---------------------------------------------------------------------------------------------
# SM2 (gmssl), nonce from secrets

_SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


def _sm2(private_hex: str, public_hex: str):
    from gmssl.sm2 import CryptSM2

    return CryptSM2(private_key=private_hex, public_key=public_hex)


def sm2_public_from_private(private: bytes) -> bytes:
    crypt = _sm2(private.hex(), "")
    return bytes.fromhex(crypt._kg(int(private.hex(), 16), crypt.ecc_table["g"]))


def sm2_sign(private: bytes, public: bytes, message: bytes) -> bytes:
    crypt = _sm2(private.hex(), public.hex())
    while True:
        nonce = f"{secrets.randbelow(_SM2_N - 1) + 1:064x}"  # never `random`: a guessable K leaks the key
        sig = crypt.sign_with_sm3(message, nonce)
        if sig:
            return bytes.fromhex(sig)


def sm2_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(signature) != 64 or len(public) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < _SM2_N and 0 < s < _SM2_N):
        return False
    try:
        return bool(_sm2("", public.hex()).verify_with_sm3(signature.hex(), message))
    except (ValueError, ZeroDivisionError, TypeError):
        return False


# ---------------------------------------------------------------------------------------------
# keys


@dataclass(frozen=True)
class Verifier:
    name: str
    alg: bytes  # signature type: b"\x01", b"\x04" or ALG_SM2
    public: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.alg, self.public)

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(self.alg + self.public).decode()}"

    @property
    def algorithm(self) -> str:
        return {b"\x01": "ed25519", b"\x04": "ed25519-cosignature/v1", ALG_SM2: "sm2"}[self.alg]

    def verify(self, message: bytes, signature: bytes) -> bool:
        if self.alg == ALG_SM2:
            return sm2_verify(self.public, message, signature)
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    alg: bytes
    private: bytes
    public: bytes

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.alg, self.public)

    @property
    def id(self) -> bytes:
        return self.verifier.id

    @property
    def skey(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.id.hex()}+{base64.b64encode(self.alg + self.private).decode()}"

    def sign(self, message: bytes) -> bytes:
        if self.alg == ALG_SM2:
            return sm2_sign(self.private, self.public, message)
        return Ed25519PrivateKey.from_private_bytes(self.private).sign(message)


def generate(name: str, algorithm: str = "ed25519", *, cosigner: bool = False) -> Signer:
    """A new key pair. `cosigner` gives a witness key (cosignature/v1, Ed25519 only)."""
    _check_name(name)
    if algorithm == "sm2":
        if cosigner:
            raise NoteError("cosignature/v1 keys are Ed25519")
        private = (secrets.randbelow(_SM2_N - 2) + 1).to_bytes(32, "big")
        return Signer(name, ALG_SM2, private, sm2_public_from_private(private))
    if algorithm != "ed25519":
        raise NoteError(f"unknown signature algorithm {algorithm!r}")
    key = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return Signer(name, bytes([ALG_COSIGNATURE_V1 if cosigner else ALG_ED25519]), seed, public)


def _split_alg(blob: bytes) -> tuple[bytes, bytes]:
    if blob[:4] == ALG_SM2:
        return ALG_SM2, blob[4:]
    if blob[:1] in (b"\x01", b"\x04"):
        return blob[:1], blob[1:]
    raise NoteError("unsupported key type")


def parse_signer(skey: str) -> Signer:
    parts = skey.strip().split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise NoteError("not a signed-note private key (PRIVATE+KEY+name+id+key)")
    name, hex_id, blob = parts[2], parts[3], _b64d(parts[4])
    _check_name(name)
    alg, private = _split_alg(blob)
    if len(private) != 32:
        raise NoteError("private key has the wrong length")
    if alg == ALG_SM2:
        public = sm2_public_from_private(private)
    else:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        public = (
            Ed25519PrivateKey.from_private_bytes(private)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
    signer = Signer(name, alg, private, public)
    if signer.id.hex() != hex_id.lower():
        raise NoteError("key ID does not match the key")
    return signer


def parse_verifier(vkey: str) -> Verifier:
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("not a signed-note verifier key (name+id+key)")
    name, hex_id, blob = parts[0], parts[1], _b64d(parts[2])
    _check_name(name)
    alg, public = _split_alg(blob)
    if len(public) != (64 if alg == ALG_SM2 else 32):
        raise NoteError("public key has the wrong length")
    verifier = Verifier(name, alg, public)
    if verifier.id.hex() != hex_id.lower():
        raise NoteError("key ID does not match the key")
    return verifier


# ---------------------------------------------------------------------------------------------
# notes


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    raw: bytes  # after the key ID

    @property
    def line(self) -> str:
        return f"{SIG_PREFIX}{self.name} {base64.b64encode(self.key_id + self.raw).decode()}\n"


@dataclass(frozen=True)
class Note:
    body: str
    signatures: list[Signature]

    @property
    def text(self) -> str:
        return self.body + "\n" + "".join(s.line for s in self.signatures)


def parse_note(text: str) -> Note:
    if "\r" in text or not text.endswith("\n"):
        raise NoteError("a note must use \\n line endings and end with a newline")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no signature block")
    body, sig_block = text[: split + 1], text[split + 2 :]
    if not body.strip():
        raise NoteError("note body is empty")
    signatures = []
    for line in sig_block.splitlines():
        if not line.startswith(SIG_PREFIX):
            raise NoteError("malformed signature line")
        rest = line[len(SIG_PREFIX) :]
        name, _, b64 = rest.partition(" ")
        _check_name(name)
        blob = _b64d(b64)
        if len(blob) < 5:
            raise NoteError("signature too short")
        signatures.append(Signature(name, blob[:4], blob[4:]))
    if not signatures:
        raise NoteError("note has no signatures")
    return Note(body, signatures)


def sign_note(body: str, signer: Signer) -> str:
    if not body.endswith("\n"):
        raise NoteError("note body must end with a newline")
    sig = Signature(signer.name, signer.id, signer.sign(body.encode()))
    return Note(body, [sig]).text


def verify_note(text: str, verifier: Verifier) -> Note:
    """Parse `text` and require a valid signature by `verifier` (other signatures are ignored)."""
    note = parse_note(text)
    for sig in note.signatures:
        if sig.name == verifier.name and sig.key_id == verifier.id and verifier.alg != b"\x04":
            if verifier.verify(note.body.encode(), sig.raw):
                return note
            raise NoteError("signature does not verify")
    raise NoteError("note is not signed by the expected key")


def add_signature(text: str, line: str) -> str:
    """Append a signature line (e.g. a cosignature) to a signed note, dropping duplicates."""
    note = parse_note(text)
    extra = parse_note("x\n\n" + line).signatures[0]
    kept = [s for s in note.signatures if (s.name, s.key_id) != (extra.name, extra.key_id)]
    return Note(note.body, [*kept, extra]).text


# ---------------------------------------------------------------------------------------------
# checkpoints and cosignatures


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        ext = "".join(f"{e}\n" for e in self.extensions)
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n{ext}"


def parse_checkpoint(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("checkpoint body needs origin, size and root lines")
    origin, size_text, root_text, *ext = lines[:-1]
    if not origin or not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_text):
        raise NoteError("checkpoint origin or size is malformed")
    if any(not e for e in ext):
        raise NoteError("empty checkpoint extension line")
    root = _b64d(root_text)
    if len(root) != 32:
        raise NoteError("checkpoint root must be 32 bytes")
    return Checkpoint(origin, int(size_text), root, tuple(ext))


def cosignature_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosign(body: str, witness: Signer, timestamp: int) -> Signature:
    if witness.alg != b"\x04":
        raise NoteError("witness keys sign cosignature/v1 (type 0x04)")
    sig = witness.sign(cosignature_message(body, timestamp))
    return Signature(witness.name, witness.id, timestamp.to_bytes(8, "big") + sig)


def verify_cosignature(body: str, witness: Verifier, sig: Signature) -> int:
    """Return the cosignature's timestamp, or raise NoteError."""
    if witness.alg != b"\x04" or sig.name != witness.name or sig.key_id != witness.id or len(sig.raw) != 72:
        raise NoteError("not a cosignature by this witness")
    timestamp = int.from_bytes(sig.raw[:8], "big")
    if not witness.verify(cosignature_message(body, timestamp), sig.raw[8:]):
        raise NoteError("cosignature does not verify")
    return timestamp
