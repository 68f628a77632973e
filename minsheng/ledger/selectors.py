"""Reads from the evidence ledger: entries, proofs, checkpoints, keys, receipts, timelines."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from minsheng.core.errors import NotFound, ValidationFailed
from minsheng.ledger import canonical, keys, note, registry, tree
from minsheng.ledger.models import Checkpoint, Leaf, Log, LogKey, VerificationRun, Witness
from minsheng.ledger.services import log_default

RECEIPT_FORMAT = "minsheng-evidence-receipt/v1"


def b64(value: bytes) -> str:
    return base64.b64encode(bytes(value)).decode()


def head(log_obj: Log | None = None) -> Log:
    return Log.objects.get(pk=(log_obj or log_default()).pk)


def checkpoint_latest(log_obj: Log | None = None) -> Checkpoint:
    cp = Checkpoint.objects.filter(log=log_obj or log_default()).order_by("-size").first()
    if cp is None:
        raise NotFound(_("日志尚未签发检查点。"))
    return cp


def _int_param(name: str, raw: Any, minimum: int = 0) -> int:
    try:
        value = int(str(raw), 10)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={name: [_("须为非负整数。")]}) from None
    if value < minimum or value > 2**62:
        raise ValidationFailed(fields={name: [_("超出范围。")]})
    return value


def entry(index: Any, log_obj: Log | None = None) -> Leaf:
    i = _int_param("index", index)
    log_obj = head(log_obj)
    if i >= log_obj.size:
        raise ValidationFailed(fields={"index": [_("序号超出日志大小（%(n)d）。") % {"n": log_obj.size}]})
    leaf = Leaf.objects.filter(log=log_obj, index=i).first()
    if leaf is None:
        raise NotFound()
    return leaf


def entry_json(leaf: Leaf) -> dict[str, Any]:
    data = bytes(leaf.data)
    return {
        "index": leaf.index,
        "leaf": b64(data),
        "leaf_hash": b64(leaf.leaf_hash),
        "data": canonical.parse(data).as_dict(),
    }


def inclusion(index: Any, tree_size: Any, log_obj: Log | None = None) -> dict[str, Any]:
    i, n = _int_param("index", index), _int_param("tree_size", tree_size, 1)
    log_obj = head(log_obj)
    errors = {}
    if n > log_obj.size:
        errors["tree_size"] = [_("大于日志当前大小（%(n)d）。") % {"n": log_obj.size}]
    if i >= n:
        errors["index"] = [_("序号须小于 tree_size。")]
    if errors:
        raise ValidationFailed(fields=errors)
    proof, root, leaf = tree.inclusion_with_root(log_obj, i, n)
    if leaf is None:
        raise NotFound()
    return {
        "index": i,
        "tree_size": n,
        "leaf_hash": b64(leaf),
        "root_hash": b64(root),
        "audit_path": [b64(h) for h in proof],
    }


def consistency(first: Any, second: Any, log_obj: Log | None = None) -> dict[str, Any]:
    m, n = _int_param("first", first, 1), _int_param("second", second, 1)
    log_obj = head(log_obj)
    errors = {}
    if n > log_obj.size:
        errors["second"] = [_("大于日志当前大小（%(n)d）。") % {"n": log_obj.size}]
    if m > n:
        errors["first"] = [_("first 不能大于 second。")]
    if errors:
        raise ValidationFailed(fields=errors)
    proof, first_root, second_root = tree.consistency_with_roots(log_obj, m, n)
    return {
        "first": m,
        "second": n,
        "first_root": b64(first_root),
        "second_root": b64(second_root),
        "proof": [b64(h) for h in proof],
    }


def public_keys(log_obj: Log | None = None) -> dict[str, Any]:
    log_obj = log_obj or log_default()
    v = keys.verifier()
    published = {r.key_id: r for r in LogKey.objects.filter(log=log_obj)}
    log_keys = []
    for key in keys.trusted(log_obj):
        row = published.get(key.verifier.id.hex())
        start = key.valid_from or (row.valid_from if row else None)
        log_keys.append(
            {
                "vkey": key.verifier.vkey,
                "algorithm": key.verifier.algorithm,
                "valid_from": start.isoformat() if start else None,
                "valid_until": key.valid_until.isoformat() if key.valid_until else None,
                "last_size": key.last_size,
                "endorsement": row.endorsement if row and not key.current else "",
            }
        )
    return {
        "log": {"origin": log_obj.origin, "hash": log_obj.hash_alg, "algorithm": v.algorithm, "vkey": v.vkey},
        "log_keys": log_keys,
        "witnesses": [
            {"name": w.name, "vkey": w.vkey, "description": w.description}
            for w in Witness.objects.filter(active=True)
        ],
    }


def receipt(index: Any, log_obj: Log | None = None) -> dict[str, Any]:
    """Everything needed to check one entry offline: the statement, its inclusion proof in the newest
    checkpoint, that checkpoint (signed note, with cosignatures) and the public keys."""
    leaf = entry(index, log_obj)
    log_obj = head(log_obj)
    cp = Checkpoint.objects.filter(log=log_obj, size__gt=leaf.index).order_by("-size").first()
    if cp is None:
        raise NotFound(_("该条目尚未被签名检查点覆盖，请稍后再下载回执。"))
    return {
        "format": RECEIPT_FORMAT,
        "hash": log_obj.hash_alg,
        "statement": canonical.parse(bytes(leaf.data)).as_dict(),
        "leaf": b64(leaf.data),
        "index": leaf.index,
        "tree_size": cp.size,
        "inclusion_proof": [b64(h) for h in tree.inclusion_proof(log_obj, leaf.index, cp.size)],
        "checkpoint": cp.note,
        "log_key": _signing_vkey(log_obj, cp),
        "witness_keys": [w.vkey for w in Witness.objects.filter(active=True, cosignatures__checkpoint=cp)],
    }


def _signing_vkey(log_obj: Log, cp: Checkpoint) -> str:
    """The published log key that signed `cp` (after a rotation, possibly a retired one)."""
    try:
        return keys.signing_key(keys.trusted(log_obj), cp.note, cp.created_at, cp.size).vkey
    except note.NoteError:
        return keys.verifier().vkey


def leaves_for_project(code: str, log_obj: Log | None = None) -> QuerySet[Leaf]:
    return Leaf.objects.filter(log=log_obj or log_default(), project_code=code).order_by("index")


def latest_checkpoint_size(log_obj: Log | None = None) -> int:
    cp = (
        Checkpoint.objects.filter(log=log_obj or log_default())
        .order_by("-size")
        .values_list("size", flat=True)
        .first()
    )
    return cp or 0


def timeline(code: str, log_obj: Log | None = None) -> list[dict[str, Any]]:
    """A project's evidence with a per-entry status: the leaf hashes to its stored hash, is covered by
    a signed checkpoint, and its record still has the anchored digest."""
    log_obj = head(log_obj)
    covered = latest_checkpoint_size(log_obj)
    leaves = list(leaves_for_project(code, log_obj))
    hasher = tree.hasher_for(log_obj)
    records: dict[str, dict[str, Any]] = {}
    for model in {leaf.record_model for leaf in leaves}:
        if registry.get(model):
            records[model] = registry.fetch(
                model, [leaf.record_id for leaf in leaves if leaf.record_model == model]
            )
    out = []
    for leaf in leaves:
        statement = canonical.parse(bytes(leaf.data))
        intact = hasher.leaf(bytes(leaf.data)) == bytes(leaf.leaf_hash)
        record_state = "unregistered"
        if leaf.record_model in records:
            obj = records[leaf.record_model].get(leaf.record_id)
            if obj is None:
                record_state = "missing"
            else:
                try:
                    same = registry.digest(obj, log_obj.hash_alg) == leaf.digest
                except OSError:
                    same = False
                record_state = "match" if same else "altered"
        out.append(
            {
                "leaf": leaf,
                "statement": statement,
                "intact": intact,
                "covered": leaf.index < covered,
                "record": record_state,
                "ok": intact and leaf.index < covered and record_state in ("match", "unregistered"),
            }
        )
    return out


def verification_latest(log_obj: Log | None = None) -> VerificationRun | None:
    return VerificationRun.objects.filter(log=log_obj or log_default(), finished_at__isnull=False).first()


def public_evidence(code: str, *, receipt_url) -> list[dict[str, Any]]:
    """Evidence entries for the public project page: type, time, receipt link and its QR code (SVG).
    Nothing personal: the statement holds only a role and a salted commitment."""
    import segno

    covered = latest_checkpoint_size()
    out = []
    for leaf in leaves_for_project(code).filter(index__lt=covered):
        url = receipt_url(leaf.index)
        qr = segno.make(url, error="m").svg_inline(scale=3, omitsize=True)
        out.append(
            {"index": leaf.index, "kind": kind_label(leaf.kind), "happened_at": _statement_time(leaf),
             "at": leaf.created_at, "url": url, "qr": qr}
        )
    return out


def _statement_time(leaf: Leaf) -> dt.datetime | None:
    """When the anchored event happened, as the statement itself says (it may precede anchoring)."""
    try:
        raw = json.loads(bytes(leaf.data))["time"]
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (KeyError, ValueError, TypeError):
        return None


KIND_LABELS = {
    "stage_transition": _("阶段转换"),
    "gate_approval": _("关口审批"),
    "document": _("项目文件"),
    "disbursement": _("资金拨付"),
    "measurement_signoff": _("监理计量确认"),
    "bid_commitment": _("投标承诺"),
    "material_acceptance": _("材料验收"),
    "inspection": _("检查记录"),
    "alarm": _("监测告警"),
    "evaluation": _("评价结果"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))
