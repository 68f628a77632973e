"""The witness client: what another body (e.g. the audit bureau) runs to co-sign the log.

It fetches the newest checkpoint, verifies the log's signature, and — when it has seen an earlier
checkpoint — fetches and verifies a consistency proof from that size. Only then does it co-sign
(cosignature/v1) and post the cosignature back; the new size and root become its state. A log
that forks or rewrites history can never get this witness's signature again.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
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
    log_key: note.Verifier | Sequence[note.Verifier],
    state_path: Path,
    fetch: Fetch = http_fetch,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Fetch the newest checkpoint, check it is signed by one of the log's pinned keys (every key it has
    published: after a rotation, checkpoints come signed by the new one) and consistent with the last one
    seen, then co-sign it."""
    pinned = [log_key] if isinstance(log_key, note.Verifier) else list(log_key)
    if not pinned or len({k.name for k in pinned}) != 1:
        raise WitnessError("give the log's public key(s), all with the log's name")
    base = base_url.rstrip("/")
    status, body = fetch("GET", f"{base}/ledger/v1/checkpoint", None)
    if status != 200:
        raise WitnessError(f"could not fetch the checkpoint (HTTP {status})")
    text = body.decode("utf-8")
    signed, last_error = None, None
    for key in pinned:
        try:
            signed = note.verify_note(text, key)
            cp = note.parse_checkpoint(signed.body)
            break
        except note.NoteError as exc:
            signed, last_error = None, exc
    if signed is None:
        raise WitnessError(f"checkpoint rejected: {last_error}")
    if cp.origin != pinned[0].name:
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


# ---------------------------------------------------------------------------------------------
# The C2SP tlog-witness protocol (c2sp.org/tlog-witness): the witness side as a small HTTP server,
# the log side as a client pushing each new checkpoint.

SIZE_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"


class WitnessService:
    """`add-checkpoint` for the logs this witness follows (origin → trusted log keys, hash). State —
    the latest size and root co-signed per origin — lives in a JSON file, written before answering;
    check and update happen under one lock, so the witness never co-signs two inconsistent trees."""

    def __init__(
        self,
        *,
        witness: note.Signer,
        logs: dict[str, list[note.Verifier]],
        state_path: Path,
        hashes: dict[str, str] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.witness, self.logs, self.state_path = witness, logs, state_path
        self.hashes, self.now = hashes or {}, now
        self._lock = threading.Lock()

    def _load(self) -> dict[str, dict[str, Any]]:
        if not self.state_path.exists():
            return {}
        return json.loads(self.state_path.read_text(encoding="utf-8"))

    def _save(self, state: dict[str, dict[str, Any]]) -> None:
        tmp = self.state_path.with_suffix(self.state_path.suffix + ".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        tmp.replace(self.state_path)

    def add_checkpoint(self, body: bytes) -> Reply:
        try:
            text = body.decode("utf-8")
            head, sep, signed_note = text.partition("\n\n")
            lines = head.split("\n")
            if not sep or not lines[0].startswith("old ") or len(lines) - 1 > MAX_PROOF_LINES:
                raise ValueError
            old_text = lines[0][4:]
            if not old_text.isdigit() or old_text != str(int(old_text)):
                raise ValueError
            old = int(old_text)
            proof = [base64.b64decode(x, validate=True) for x in lines[1:]]
            parsed = note.parse_note(signed_note)
            cp = note.parse_checkpoint(parsed.body)
        except (ValueError, note.NoteError):
            return Reply(400, b"malformed add-checkpoint request\n")
        keys = self.logs.get(cp.origin)
        if keys is None:
            return Reply(404, b"unknown log origin\n")
        if not any(self._signed_by(signed_note, k) for k in keys):
            return Reply(403, b"checkpoint is not signed by a known key of this log\n")
        if old > cp.size:
            return Reply(400, b"old size is larger than the checkpoint size\n")
        with self._lock:
            state = self._load()
            known = state.get(cp.origin, {"size": 0, "root": ""})
            if old != known["size"]:
                return Reply(409, f"{known['size']}\n".encode(), SIZE_TYPE)
            if old == cp.size:
                if proof or (old and base64.b64decode(known["root"]) != cp.root):
                    return Reply(422, b"same size, different root or a non-empty proof\n")
            elif old == 0:
                if proof:
                    return Reply(422, b"a proof from size 0 must be empty\n")
            else:
                try:
                    merkle.verify_consistency(
                        merkle.Hasher(self.hashes.get(cp.origin, "sha256")),
                        old,
                        cp.size,
                        base64.b64decode(known["root"]),
                        cp.root,
                        proof,
                    )
                except merkle.ProofError as exc:
                    return Reply(422, f"consistency proof does not verify: {exc}\n".encode())
            state[cp.origin] = {"size": cp.size, "root": base64.b64encode(cp.root).decode()}
            self._save(state)
        sig = note.cosign(parsed.body, self.witness, int(self.now()))
        return Reply(200, sig.line.encode())

    @staticmethod
    def _signed_by(text: str, key: note.Verifier) -> bool:
        try:
            note.verify_note(text, key)
        except note.NoteError:
            return False
        return True


def serve(service: WitnessService, host: str, port: int, *, ready: Callable[[int], None] | None = None) -> None:
    """Serve `POST /add-checkpoint` until interrupted."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.rstrip("/").rsplit("/", 1)[-1] != "add-checkpoint":
                self._send(Reply(404, b"not found\n"))
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > 1 << 20:
                self._send(Reply(400, b"request too large\n"))
                return
            self._send(service.add_checkpoint(self.rfile.read(length)))

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, fmt: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer((host, port), Handler)
    if ready is not None:
        ready(httpd.server_address[1])
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()


def add_checkpoint_body(old: int, proof: list[bytes], checkpoint_note: str) -> bytes:
    lines = [f"old {old}"] + [base64.b64encode(p).decode() for p in proof]
    return ("\n".join(lines) + "\n\n" + checkpoint_note).encode()


def push(
    url: str,
    *,
    checkpoint_note: str,
    size: int,
    old: int,
    proof_from: Callable[[int], list[bytes]],
    fetch: Fetch | None = None,
) -> list[str]:
    """Submit a checkpoint to a tlog-witness at `url` (its add-checkpoint endpoint) starting from the
    size we believe it has; on 409 retry once from the size it reports. Returns the cosignature lines."""
    fetch = fetch or _post_text
    for _attempt in range(2):
        proof = proof_from(old) if 0 < old < size else []
        status, raw = fetch("POST", url, add_checkpoint_body(old, proof, checkpoint_note))
        if status == 200:
            return [line for line in raw.decode("utf-8").splitlines() if line.startswith(note.SIG_PREFIX)]
        if status == 409:
            try:
                reported = int(raw.decode("ascii").strip())
            except ValueError:
                raise WitnessError(f"{url}: 409 without a size") from None
            if reported > size or reported == old:
                raise WitnessError(f"{url}: witness has seen size {reported}, the log is at {size}")
            old = reported
            continue
        raise WitnessError(f"{url}: HTTP {status}: {raw.decode('utf-8', 'replace').strip()}")
    raise WitnessError(f"{url}: the witness's size kept changing")


def _post_text(method: str, url: str, body: bytes | None) -> tuple[int, bytes]:
    if not url.startswith(("http://", "https://")):
        raise WitnessError("only http(s) URLs are supported")
    req = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - scheme checked
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - scheme checked
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError as exc:
        raise WitnessError(f"{url}: {exc}") from None
