#!/usr/bin/env python3
"""民生工程证据回执离线校验器 — offline verifier for a Minsheng evidence receipt.

One file, Python ≥ 3.11 standard library only, plus `cryptography` for Ed25519 (and `gmssl` only
for a log signed with SM2). Copy it anywhere and run:

    python verify_receipt.py receipt.json [--file 原始文件.pdf] [--key 公布的日志公钥]

It checks, without contacting the platform:
  1. the leaf is the RFC 8785 canonical JSON of the statement shown in the receipt;
  2. the statement's leaf hash is included, by the RFC 9162 audit path, in the tree whose root the
     checkpoint states;
  3. the checkpoint (a C2SP signed note) carries a valid signature of the log key — the key given
     with --key (as published by the platform / on the public page) or, failing that, the key in the
     receipt, with a warning that it should be compared with the published one;
  4. witness cosignatures (cosignature/v1) in the checkpoint by the witness keys in the receipt;
  5. with --file, that the file's digest equals the digest the statement anchors.
Exit status 0 when every check passes, 1 otherwise; each failed check is named.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

FORMAT = "minsheng-evidence-receipt/v1"
SIG_PREFIX = "\u2014 "


class ReceiptError(Exception):
    pass


def _hash(alg: str, data: bytes) -> bytes:
    if alg == "sha256":
        return hashlib.sha256(data).digest()
    if alg == "sm3":
        return hashlib.new("sm3", data).digest()
    raise ReceiptError(f"未知的哈希算法 {alg!r} / unknown hash algorithm")


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ReceiptError(f"{what} 不是 base64 字符串 / not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ReceiptError(f"{what} 不是有效的 base64 / invalid base64") from None


def canonical_statement(statement: Any) -> bytes:
    """RFC 8785 for evidence statements (ASCII keys, strings and small integers only), where it is
    byte-identical to compact, key-sorted JSON without ASCII escaping."""

    def check(v: Any) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                if not k.isascii():
                    raise ReceiptError("陈述含非 ASCII 键 / non-ASCII key in statement")
                check(x)
        elif isinstance(v, bool) or not isinstance(v, str | int) or (isinstance(v, int) and abs(v) > 2**53):
            raise ReceiptError("陈述含不允许的值 / unexpected value in statement")

    check(statement)
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def root_from_inclusion(alg: str, index: int, size: int, leaf_hash: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2."""
    if type(index) is not int or type(size) is not int or not 0 <= index < size:
        raise ReceiptError("序号不小于树大小 / index not below tree size")
    n = len(_hash(alg, b""))
    if len(leaf_hash) != n or any(len(p) != n for p in proof):
        raise ReceiptError("证明元素长度错误 / proof element of wrong length")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ReceiptError("包含证明过长 / inclusion proof too long")
        if fn & 1 or fn == sn:
            r = _hash(alg, b"\x01" + p + r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _hash(alg, b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ReceiptError("包含证明过短 / inclusion proof too short")
    return r


def _parse_vkey(vkey: str) -> tuple[str, bytes, bytes, bytes]:
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise ReceiptError("公钥格式错误 / malformed public key")
    name, hex_id, blob = parts[0], parts[1], _b64(parts[2], "公钥 / key")
    alg = blob[:4] if blob[:4] == b"\xffsm2" else blob[:1]
    public = blob[len(alg) :]
    key_id = hashlib.sha256(name.encode() + b"\n" + alg + public).digest()[:4]
    if key_id.hex() != hex_id.lower():
        raise ReceiptError("公钥标识与公钥不符 / key ID does not match the key")
    return name, alg, public, key_id


def _verify_sig(alg: bytes, public: bytes, message: bytes, sig: bytes) -> bool:
    if alg in (b"\x01", b"\x04"):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(public).verify(sig, message)
            return True
        except (InvalidSignature, ValueError):
            return False
    if alg == b"\xffsm2":
        n = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
        if len(sig) != 64 or not all(0 < int.from_bytes(x, "big") < n for x in (sig[:32], sig[32:])):
            return False
        try:
            from gmssl.sm2 import CryptSM2
        except ImportError:
            raise ReceiptError("校验 SM2 签名需要 gmssl / verifying SM2 needs gmssl") from None
        return bool(CryptSM2(private_key="", public_key=public.hex()).verify_with_sm3(sig.hex(), message))
    return False


def _parse_note(text: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    if not isinstance(text, str) or "\r" in text or not text.endswith("\n") or "\n\n" not in text:
        raise ReceiptError("检查点不是签名便笺 / checkpoint is not a signed note")
    split = text.rfind("\n\n")
    body, block = text[: split + 1], text[split + 2 :]
    sigs = []
    for line in block.splitlines():
        if not line.startswith(SIG_PREFIX) or " " not in line[len(SIG_PREFIX) :]:
            raise ReceiptError("签名行格式错误 / malformed signature line")
        name, b64 = line[len(SIG_PREFIX) :].split(" ", 1)
        blob = _b64(b64, "签名 / signature")
        if len(blob) < 5:
            raise ReceiptError("签名过短 / signature too short")
        sigs.append((name, blob[:4], blob[4:]))
    return body, sigs


def verify(
    receipt: dict[str, Any], *, pinned_key: str | list[str] | None = None, file: Path | None = None
) -> list[str]:
    """Check a receipt; returns notes (warnings) on success, raises ReceiptError naming the failure."""
    notes: list[str] = []
    if not isinstance(receipt, dict) or receipt.get("format") != FORMAT:
        raise ReceiptError(f"不是 {FORMAT} 回执 / not a receipt")
    alg = receipt.get("hash")
    leaf = _b64(receipt.get("leaf"), "leaf")
    statement = receipt.get("statement")
    if canonical_statement(statement) != leaf:
        raise ReceiptError("陈述与叶子字节不一致 / statement does not match the leaf bytes")
    if json.loads(leaf) != statement:
        raise ReceiptError("陈述与叶子字节不一致 / statement does not match the leaf bytes")
    if statement.get("digest", {}).get("alg") != alg:
        raise ReceiptError("摘要算法与日志不一致 / digest algorithm differs from the log's")
    leaf_hash = _hash(alg, b"\x00" + leaf)
    proof = receipt.get("inclusion_proof")
    if not isinstance(proof, list):
        raise ReceiptError("缺少包含证明 / inclusion proof missing")
    root = root_from_inclusion(
        alg,
        receipt.get("index"),
        receipt.get("tree_size"),
        leaf_hash,
        [_b64(p, "inclusion_proof") for p in proof],
    )

    body, sigs = _parse_note(receipt.get("checkpoint"))
    lines = body.split("\n")
    if len(lines) < 4:
        raise ReceiptError("检查点格式错误 / malformed checkpoint")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if (
        not size_text.isdigit()
        or size_text != str(int(size_text))
        or int(size_text) != receipt.get("tree_size")
    ):
        raise ReceiptError("检查点大小与证明不符 / checkpoint size differs from the proof's tree size")
    if _b64(root_text, "checkpoint root") != root:
        raise ReceiptError("包含证明算出的根与检查点不符 / proof does not lead to the checkpoint root")

    # Several published keys may be pinned (after a key rotation): the one that signed is used.
    pinned = [pinned_key] if isinstance(pinned_key, str) else list(pinned_key or [])
    key_text = receipt.get("log_key")
    if pinned:
        signer_ids = {(s[0], s[1]) for s in sigs}
        matching = [k for k in pinned if _parse_vkey(k)[0::3] in signer_ids]
        key_text = matching[0] if matching else pinned[0]
        pinned_key = key_text
    if not isinstance(key_text, str):
        raise ReceiptError("缺少日志公钥 / log key missing")
    if pinned_key is None:
        notes.append(
            "未用 --key 指定公布的日志公钥：请核对回执中的公钥与平台公布的公钥一致 / compare the log key "
            "with the published one (--key)"
        )
    elif receipt.get("log_key") and receipt["log_key"].strip() != pinned_key.strip():
        notes.append("回执所附公钥与指定公钥不同，已按指定公钥校验 / receipt key differs; checked with --key")
    name, kalg, public, key_id = _parse_vkey(key_text)
    if name != origin:
        raise ReceiptError("日志公钥名称与检查点来源不符 / key name differs from the checkpoint origin")
    signed = [s for s in sigs if s[0] == name and s[1] == key_id]
    if not signed or not _verify_sig(kalg, public, body.encode(), signed[0][2]):
        raise ReceiptError("检查点签名无效 / checkpoint signature does not verify")

    for wkey in receipt.get("witness_keys") or []:
        wname, walg, wpublic, wid = _parse_vkey(wkey)
        mine = [s for s in sigs if s[0] == wname and s[1] == wid]
        if walg != b"\x04" or not mine or len(mine[0][2]) != 72:
            raise ReceiptError(f"缺少见证方 {wname} 的有效见证签名 / witness cosignature missing")
        ts = int.from_bytes(mine[0][2][:8], "big")
        message = f"cosignature/v1\ntime {ts}\n".encode() + body.encode()
        if not _verify_sig(walg, wpublic, message, mine[0][2][8:]):
            raise ReceiptError(f"见证方 {wname} 的见证签名无效 / witness cosignature does not verify")
        notes.append(f"见证方 {wname} 已见证 / cosigned by {wname}")

    if file is not None:
        h = hashlib.sha256() if alg == "sha256" else hashlib.new("sm3")
        with open(file, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                h.update(chunk)
        if h.hexdigest() != statement["digest"]["value"]:
            raise ReceiptError("文件摘要与存证不符：文件已被改动，或不是所存证的文件 / file digest differs")
        notes.append("文件与存证摘要一致 / file matches the anchored digest")
    return notes


def main(argv: list[str] | None = None, out=sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        description="离线校验民生工程证据回执 / verify an evidence receipt offline"
    )
    parser.add_argument("receipt", type=Path)
    parser.add_argument("--file", type=Path, help="原始文件，核对其摘要 / the original file to check")
    parser.add_argument(
        "--key",
        action="append",
        help="平台公布的日志公钥，可多次给出（密钥轮换后）/ a published log public key; repeat after key rotations",
    )
    args = parser.parse_args(argv)
    try:
        receipt = json.loads(args.receipt.read_text(encoding="utf-8"))
        notes = verify(receipt, pinned_key=args.key, file=args.file)
    except (OSError, ValueError, ReceiptError) as exc:
        print(f"校验失败 / FAILED: {exc}", file=out)
        return 1
    s = receipt["statement"]
    print(
        f"校验通过 / OK: 第 {receipt['index']} 条存证（{s['type']}，项目 {s['project']}，"
        f"{s['record']['model']} #{s['record']['id']}，{s['time']}）"
        f"包含在 {receipt['tree_size']} 条的已签名日志中。",
        file=out,
    )
    for n in notes:
        print(f"  · {n}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
