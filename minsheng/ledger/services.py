"""Writes to the evidence ledger: anchoring evidence, signing checkpoints, witnesses' cosignatures,
erasing an actor's link.

`anchor(...)` is the one call other features use ("anchor this disbursement"); inside a
transaction prefer sending the `ledger.anchor` event (`minsheng.ledger.events.anchor_on_commit`),
which anchors after commit so nothing is anchored for a change that rolled back.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.errors import Conflict, NotFound, ValidationFailed
from minsheng.ledger import canonical, keys, note, registry, tree
from minsheng.ledger.models import ActorSalt, Checkpoint, Cosignature, Leaf, Log, LogKey, Witness

log = logging.getLogger(__name__)


def log_default() -> Log:
    """The log named by LEDGER_ORIGIN, created with LEDGER_HASH on first use."""
    obj, _created = Log.objects.get_or_create(
        origin=settings.LEDGER_ORIGIN, defaults={"hash_alg": settings.LEDGER_HASH}
    )
    return obj


def actor_commitment(hash_alg: str, salt: bytes, actor_id: int) -> str:
    data = salt + str(actor_id).encode()
    h = hashlib.sha256(data) if hash_alg == "sha256" else hashlib.new("sm3", data)
    return h.hexdigest()


def _pending(
    *,
    log_obj: Log,
    kind: str,
    project_code: str,
    record: models.Model | tuple[str, str],
    digest: str | None,
    actor_role: str,
    actor: Any,
    at: Any,
) -> tree.Pending:
    errors: dict[str, list[Any]] = {}
    if isinstance(record, models.Model):
        label, record_id = registry.label_of(record), str(record.pk)
        if digest is None:
            try:
                digest = registry.digest(record, log_obj.hash_alg)
            except LookupError:
                errors["record"] = [_("该类记录未登记为可存证类型，请提供摘要。")]
            except OSError:
                errors["record"] = [_("记录的文件无法读取，不能存证。")]
        if actor is None and registry.actor_id(record) is not None:
            actor = registry.actor_id(record)
    else:
        label, record_id = record
    if digest is None and "record" not in errors:
        errors["digest"] = [_("请提供记录摘要。")]
    actor_id = getattr(actor, "pk", actor)
    if not actor_role and actor is not None and hasattr(actor, "role"):
        actor_role = actor.role
    salt = secrets.token_bytes(16) if actor_id is not None else None
    statement = canonical.Statement(
        kind=kind,
        project_code=str(project_code),
        record_model=label,
        record_id=record_id,
        digest_alg=log_obj.hash_alg,
        digest=(digest or "").lower(),
        actor_role=actor_role or "",
        actor_commitment=actor_commitment(log_obj.hash_alg, salt, actor_id) if salt else "",
        time=canonical.format_time(at or timezone.now()),
    )
    if not errors:
        try:
            canonical.validate(statement)
        except canonical.StatementError as exc:
            errors["statement"] = [_("存证内容格式有误：%(e)s") % {"e": exc}]
    if errors:
        raise ValidationFailed(fields=errors)
    return tree.Pending(statement, salt, actor_id)


def anchor(
    *,
    kind: str,
    project_code: str,
    record: models.Model | tuple[str, str],
    digest: str | None = None,
    actor_role: str = "",
    actor: Any = None,
    at: Any = None,
    log_obj: Log | None = None,
) -> Leaf:
    """Append one evidence statement; returns its leaf. Idempotent: anchoring the same (type,
    record, digest) again returns the existing leaf. `record` is a model instance of a registered
    type (its digest is computed) or a ("app.model", id) pair with an explicit `digest`. `actor` is
    a user or a user id: only a salted commitment to it enters the leaf."""
    log_obj = log_obj or log_default()
    item = _pending(
        log_obj=log_obj,
        kind=kind,
        project_code=project_code,
        record=record,
        digest=digest,
        actor_role=actor_role,
        actor=actor,
        at=at,
    )
    return tree.append(log_obj.pk, [item])[0]


def anchor_many(items: list[dict[str, Any]], *, log_obj: Log | None = None) -> list[Leaf]:
    """Batched `anchor`: many statements, one transaction, one head update."""
    log_obj = log_obj or log_default()
    pending = [
        _pending(log_obj=log_obj, **{"digest": None, "actor_role": "", "actor": None, "at": None, **i})
        for i in items
    ]
    return tree.append(log_obj.pk, pending)


def actor_erase(*, actor_id: int) -> int:
    """Forget which leaves a person is committed in: delete their salts. Leaves and proofs stay valid."""
    deleted, _detail = ActorSalt.objects.filter(actor_id=actor_id).delete()
    return deleted


# ---------------------------------------------------------------------------------------------
# checkpoints


def checkpoint_create(*, log_obj: Log | None = None, force: bool = False) -> Checkpoint | None:
    """Sign the current head when the tree has grown since the last checkpoint (or `force`).
    The head root is first recomputed from stored nodes: a tampered head is never signed."""
    log_obj = log_obj or log_default()
    head = Log.objects.get(pk=log_obj.pk)
    last = Checkpoint.objects.filter(log=head).order_by("-size").first()
    if last is not None and last.size >= head.size and not force:
        return None
    if last is not None and last.size == head.size:
        return last
    root = tree.root_at(head, head.size)
    if root != bytes(head.root):
        log.error("ledger: head root of %s does not match its stored nodes; not signing", head.origin)
        raise Conflict(_("日志头与存储的节点不一致，已拒绝签发检查点，请运行完整性校验。"))
    signer = keys.signer()
    _publish_current_key(head, signer)
    body = note.Checkpoint(head.origin, head.size, root).body
    text = note.sign_note(body, signer)
    try:
        with transaction.atomic():
            return Checkpoint.objects.create(
                log=head, size=head.size, root=root, note=text, key_id=signer.id.hex()
            )
    except IntegrityError:  # another process signed the same size first
        return Checkpoint.objects.get(log=head, size=head.size)


def _publish_current_key(head: Log, signer: note.Signer) -> LogKey:
    """Record the signing key as published (from now on), and refuse a key that was rotated out."""
    row, _created = LogKey.objects.get_or_create(
        log=head, key_id=signer.id.hex(), defaults={"vkey": signer.verifier.vkey, "valid_from": timezone.now()}
    )
    if row.valid_until is not None:
        raise keys.SigningKeyRetired()
    return row


@transaction.atomic
def key_rotate(*, new: note.Signer, log_obj: Log | None = None) -> LogKey:
    """Retire the configured signing key in favour of `new`: the new key signs an endorsement of the
    old one (its validity and the last tree size it signed) so verifiers keep trusting the checkpoints
    it made. Afterwards the old key signs nothing; configure `new` as LEDGER_SIGNING_KEY and restart."""
    log_obj = log_obj or log_default()
    head = Log.objects.select_for_update().get(pk=log_obj.pk)
    old = keys.signer()
    if new.name != head.origin:
        raise ValidationFailed(fields={"key": [_("新密钥的名称须与日志标识（LEDGER_ORIGIN）一致。")]})
    if new.alg == bytes([note.ALG_COSIGNATURE_V1]):
        raise ValidationFailed(fields={"key": [_("见证方密钥不能用作日志签名密钥。")]})
    if new.id == old.id:
        raise ValidationFailed(fields={"key": [_("新密钥与当前签名密钥相同。")]})
    now = timezone.now()
    first = Checkpoint.objects.filter(log=head, key_id=old.id.hex()).order_by("created_at").first()
    row = _publish_current_key(head, old)
    if first is not None and first.created_at < row.valid_from:
        row.valid_from = first.created_at
    signed = Checkpoint.objects.filter(log=head, key_id=old.id.hex())
    last_size = signed.order_by("-size").values_list("size", flat=True).first() or 0
    row.valid_until, row.last_size = now, last_size
    row.endorsement = note.sign_note(
        keys.endorsement_body(head.origin, row.vkey, row.valid_from, now, last_size), new
    )
    row.save(update_fields=["valid_from", "valid_until", "last_size", "endorsement"])
    created, _c = LogKey.objects.update_or_create(
        log=head, key_id=new.id.hex(),
        defaults={"vkey": new.verifier.vkey, "valid_from": now, "valid_until": None, "endorsement": ""},
    )
    log.warning("ledger: signing key %s retired in favour of %s", row.vkey, created.vkey)
    return created


# ---------------------------------------------------------------------------------------------
# witnesses


def witness_register(*, name: str, vkey: str, description: str = "") -> Witness:
    try:
        verifier = note.parse_verifier(vkey)
    except note.NoteError:
        raise ValidationFailed(fields={"vkey": [_("公钥格式无效。")]}) from None
    if verifier.alg != b"\x04" or verifier.name != name:
        raise ValidationFailed(
            fields={"vkey": [_("见证方公钥须为 cosignature/v1 类型，且名称与见证方标识一致。")]}
        )
    witness, _created = Witness.objects.update_or_create(
        name=name, defaults={"vkey": verifier.vkey, "description": description, "active": True}
    )
    return witness


MAX_CLOCK_SKEW = 600


@transaction.atomic
def cosignature_add(*, log_obj: Log | None = None, size: Any, line: str) -> Cosignature:
    """Store a witness's cosignature of the checkpoint at `size`, after verifying it against the
    witness's registered key. Only registered, active witnesses are accepted."""
    log_obj = log_obj or log_default()
    try:
        size = int(size)
        sig = note.parse_note("x\n\n" + line.strip() + "\n").signatures[0]
    except (TypeError, ValueError, note.NoteError):
        raise ValidationFailed(fields={"cosignature": [_("见证签名格式无效。")]}) from None
    witness = Witness.objects.filter(name=sig.name, active=True).first()
    if witness is None:
        raise ValidationFailed(fields={"cosignature": [_("未登记的见证方。")]})
    checkpoint = Checkpoint.objects.select_for_update().filter(log=log_obj, size=size).first()
    if checkpoint is None:
        raise NotFound(_("没有该大小的检查点。"))
    body = note.parse_note(checkpoint.note).body
    try:
        timestamp = note.verify_cosignature(body, note.parse_verifier(witness.vkey), sig)
    except note.NoteError:
        raise ValidationFailed(fields={"cosignature": [_("见证签名验证失败。")]}) from None
    if abs(timestamp - time.time()) > MAX_CLOCK_SKEW:
        raise ValidationFailed(fields={"cosignature": [_("见证签名时间与本机时间相差过大。")]})
    cosig, created = Cosignature.objects.get_or_create(
        checkpoint=checkpoint, witness=witness, defaults={"timestamp": timestamp, "line": sig.line.strip()}
    )
    if not created and timestamp > cosig.timestamp:
        cosig.timestamp, cosig.line = timestamp, sig.line.strip()
        cosig.save(update_fields=["timestamp", "line"])
    checkpoint.note = note.add_signature(checkpoint.note, sig.line)
    checkpoint.save(update_fields=["note"])
    return cosig


def witness_push(checkpoint: Checkpoint | None = None, *, urls: list[str] | None = None) -> dict[str, Any]:
    """Push a checkpoint (default: the newest) to every configured tlog-witness (LEDGER_WITNESSES)
    and store the cosignatures they return. Returns {url: witness names or an error text}."""
    from minsheng.ledger import witness

    urls = settings.LEDGER_WITNESSES if urls is None else urls
    if checkpoint is None:
        checkpoint = Checkpoint.objects.filter(log=log_default()).order_by("-size").first()
    if checkpoint is None or not urls:
        return {}
    head = checkpoint.log
    results: dict[str, Any] = {}
    for url in urls:
        # Start from the newest size this witness co-signed here; a 409 corrects us.
        old = _witness_known_size(head, url)
        try:
            lines = witness.push(
                url,
                checkpoint_note=checkpoint.note,
                size=checkpoint.size,
                old=old,
                proof_from=lambda first, size=checkpoint.size: tree.consistency_proof(head, first, size),
            )
            names = []
            for line in lines:
                cosig = cosignature_add(log_obj=head, size=checkpoint.size, line=line)
                names.append(cosig.witness.name)
            Witness.objects.filter(name__in=names).update(url=url)
            results[url] = names
        except (witness.WitnessError, ValidationFailed, NotFound) as exc:
            log.warning("ledger: witness %s did not co-sign size %d: %s", url, checkpoint.size, exc)
            results[url] = str(getattr(exc, "message", exc))
    return results


def _witness_known_size(head: Log, url: str) -> int:
    size = (
        Cosignature.objects.filter(checkpoint__log=head, witness__url=url)
        .order_by("-checkpoint__size")
        .values_list("checkpoint__size", flat=True)
        .first()
    )
    return size or 0
