"""The log's signing key: from LEDGER_SIGNING_KEY (or LEDGER_SIGNING_KEY_FILE), in signed-note
private-key form. In development a key is generated into the data directory on first use (and the
log says so); in production nothing is signed without a configured key."""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from minsheng.core.errors import Conflict
from minsheng.ledger import note

log = logging.getLogger(__name__)


class SigningKeyRetired(Conflict):
    code = "ledger_key_retired"
    default_message = _("配置的签名密钥已被轮换停用，请改用新的签名密钥（LEDGER_SIGNING_KEY）后重启。")


class SigningKeyMissing(Conflict):
    code = "ledger_key_missing"
    default_message = _("未配置证据日志签名密钥（LEDGER_SIGNING_KEY），不能签发检查点。")


def _dev_key_path() -> Path:
    return Path(settings.DATA_DIR) / "ledger-signing.key"


@lru_cache(maxsize=4)
def _load(configured: str, origin: str, production: bool) -> note.Signer:
    if configured:
        signer = note.parse_signer(configured)
    elif production:
        raise SigningKeyMissing()
    else:
        path = _dev_key_path()
        if path.exists():
            signer = note.parse_signer(path.read_text(encoding="utf-8"))
        else:
            signer = note.generate(origin)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(signer.skey + "\n")
            log.warning(
                "ledger: generated a development signing key at %s (set LEDGER_SIGNING_KEY in "
                "production); public key %s",
                path,
                signer.verifier.vkey,
            )
    if signer.name != origin:
        raise note.NoteError(f"the signing key is named {signer.name!r} but LEDGER_ORIGIN is {origin!r}")
    return signer


def signer() -> note.Signer:
    return _load(settings.LEDGER_SIGNING_KEY, settings.LEDGER_ORIGIN, settings.PRODUCTION)


def verifier() -> note.Verifier:
    if settings.LEDGER_PUBLIC_KEY:
        return note.parse_verifier(settings.LEDGER_PUBLIC_KEY)
    return signer().verifier


# ---------------------------------------------------------------------------------------------
# rotation: several log keys over time

ROTATION = "minsheng-key-rotation/v1"


@dataclass(frozen=True)
class TrustedKey:
    """A log key and what it may have signed. The current key (from the settings) is unbounded; a
    retired key is bounded by its endorsement: the time span and the last tree size it signed."""

    verifier: note.Verifier
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    last_size: int | None = None

    @property
    def current(self) -> bool:
        return self.valid_until is None

    def covers(self, when: dt.datetime | None, size: int) -> bool:
        if self.last_size is not None and size > self.last_size:
            return False
        if when is not None and self.valid_until is not None and when > self.valid_until:
            return False
        return not (when is not None and self.valid_from is not None and when < self.valid_from)


def endorsement_body(
    origin: str, vkey: str, valid_from: dt.datetime, valid_until: dt.datetime, last_size: int
) -> str:
    """What the new key signs about the key it replaces (a signed-note body)."""
    return (
        # Whole seconds, widened outwards (start down, end up) so the span covers what the key signed.
        f"{origin}\n{ROTATION}\nkey {vkey}\nvalid {math.floor(valid_from.timestamp())} "
        f"{math.ceil(valid_until.timestamp())}\n"
        f"last-size {last_size}\n"
    )


def parse_endorsement(body: str) -> tuple[str, str, dt.datetime, dt.datetime, int]:
    lines = body.split("\n")
    try:
        origin, kind, key_line, valid_line, size_line, end = lines
        if kind != ROTATION or end != "" or not key_line.startswith("key "):
            raise ValueError
        _v, start, until = valid_line.split(" ")
        _s, size = size_line.split(" ")
        if _v != "valid" or _s != "last-size":
            raise ValueError
        return (
            origin,
            key_line[4:],
            dt.datetime.fromtimestamp(int(start), dt.UTC),
            dt.datetime.fromtimestamp(int(until), dt.UTC),
            int(size),
        )
    except ValueError:
        raise note.NoteError("not a key rotation endorsement") from None


def trusted(log_obj) -> list[TrustedKey]:
    """The current key, then every retired key reachable through endorsements from it (newest first).
    Rows in the database alone are not trusted: each retired key needs its successor's signature."""
    from minsheng.ledger.models import LogKey

    current = verifier()
    out = [TrustedKey(current)]
    known = {current.id}
    pending = [r for r in LogKey.objects.filter(log=log_obj).order_by("-valid_from") if r.endorsement]
    progress = True
    while pending and progress:
        progress = False
        for row in list(pending):
            for key in list(out):
                try:
                    body = note.verify_note(row.endorsement, key.verifier).body
                    origin, vkey, start, until, size = parse_endorsement(body)
                    old = note.parse_verifier(vkey)
                except note.NoteError:
                    continue
                if origin == log_obj.origin and old.name == origin and old.id not in known:
                    out.append(TrustedKey(old, start, until, size))
                    known.add(old.id)
                    progress = True
                pending.remove(row)
                break
    return out


def signing_key(keys: list[TrustedKey], text: str, when: dt.datetime | None, size: int) -> note.Verifier:
    """The trusted key that signed the note `text` (a checkpoint of `size`, made at `when`), or NoteError."""
    parsed = note.parse_note(text)
    ids = {(s.name, s.key_id) for s in parsed.signatures}
    for key in keys:
        if (key.verifier.name, key.verifier.id) in ids:
            if not key.covers(when, size):
                raise note.NoteError("signed by a retired log key outside its validity")
            note.verify_note(text, key.verifier)
            return key.verifier
    raise note.NoteError("note is not signed by a published log key")
