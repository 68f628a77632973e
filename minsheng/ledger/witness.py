"""The witness client: what another body (e.g. the audit bureau) runs to co-sign the log.

It fetches the newest checkpoint, verifies the log's signature, and — when it has seen an earlier
checkpoint — fetches and verifies a consistency proof from that size. Only then does it co-sign
(cosignature/v1) and post the cosignature back; the new size and root become its state. A log
that forks or rewrites history can never get this witness's signature again.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minsheng.ledger import merkle, note

Fetch = Callable[[str, str, bytes | None], tuple[int, bytes]]  # (method, url, body) -> (status, body)


class WitnessError(Exception):
    pass


def http_fetch(method: str, url: str, body: bytes | None) -> tuple[int, bytes]:
    if not url.startswith(("http://", "https://")):
        raise WitnessError("only http(s) URLs are supported")
    headers = {"Content-Type": "application/json"} if body else {}
    req = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 - scheme checked
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - scheme checked
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class State:
    origin: str
    size: int
    root: bytes

    @classmethod
    def load(cls, path: Path) -> State | None:
        if not path.exists():
            return None
        d = json.loads(path.read_text(encoding="utf-8"))
        return cls(d["origin"], int(d["size"]), base64.b64decode(d["root"]))

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(
            json.dumps(
                {"origin": self.origin, "size": self.size, "root": base64.b64encode(self.root).decode()}
            ),
            encoding="utf-8",
        )
        tmp.replace(path)


def run(
    *,
    base_url: str,
    witness: note.Signer,
    log_key: note.Verifier,
    state_path: Path,
    fetch: Fetch = http_fetch,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    base = base_url.rstrip("/")
    status, body = fetch("GET", f"{base}/ledger/v1/checkpoint", None)
    if status != 200:
        raise WitnessError(f"could not fetch the checkpoint (HTTP {status})")
    text = body.decode("utf-8")
    try:
        signed = note.verify_note(text, log_key)
        cp = note.parse_checkpoint(signed.body)
    except note.NoteError as exc:
        raise WitnessError(f"checkpoint rejected: {exc}") from None
    if cp.origin != log_key.name:
        raise WitnessError("checkpoint origin differs from the log key's name")
    state = State.load(state_path)
    hasher = merkle.Hasher("sha256")
    if state is not None:
        if state.origin != cp.origin:
            raise WitnessError("state file belongs to another log")
        if cp.size < state.size:
            raise WitnessError(f"log shrank from {state.size} to {cp.size}: refusing to co-sign")
        if cp.size == state.size:
            if cp.root != state.root:
                raise WitnessError("same size, different root: the log forked; refusing to co-sign")
        else:
            query = urllib.parse.urlencode({"first": state.size, "second": cp.size})
            status, raw = fetch("GET", f"{base}/ledger/v1/proof/consistency?{query}", None)
            if status != 200:
                raise WitnessError(f"could not fetch a consistency proof (HTTP {status})")
            proof = [base64.b64decode(p) for p in json.loads(raw)["proof"]]
            keys_status, keys_raw = fetch("GET", f"{base}/ledger/v1/keys", None)
            if keys_status == 200 and json.loads(keys_raw)["log"].get("hash") == "sm3":
                hasher = merkle.Hasher("sm3")
            try:
                merkle.verify_consistency(hasher, state.size, cp.size, state.root, cp.root, proof)
            except merkle.ProofError as exc:
                raise WitnessError(
                    f"not consistent with the last checkpoint seen ({exc}); refusing to co-sign"
                ) from None
    sig = note.cosign(signed.body, witness, int(now()))
    status, raw = fetch(
        "POST",
        f"{base}/ledger/v1/witness",
        json.dumps({"size": cp.size, "cosignature": sig.line.strip()}).encode(),
    )
    if status not in (200, 201):
        raise WitnessError(
            f"the log refused the cosignature (HTTP {status}): {raw.decode('utf-8', 'replace')}"
        )
    State(cp.origin, cp.size, cp.root).save(state_path)
    return {"origin": cp.origin, "size": cp.size, "previous": state.size if state else None}
