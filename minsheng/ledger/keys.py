"""The log's signing key: from LEDGER_SIGNING_KEY (or LEDGER_SIGNING_KEY_FILE), in signed-note
private-key form. In development a key is generated into the data directory on first use (and the
log says so); in production nothing is signed without a configured key."""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from minsheng.core.errors import Conflict
from minsheng.ledger import note

log = logging.getLogger(__name__)


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
