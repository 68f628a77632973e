"""The evidence log's storage: a head row per log, leaves, perfect subtree nodes, signed checkpoints,
witnesses and their cosignatures, erasable actor salts, and verification runs.

Only the head row is ever updated (under a lock, by one appender at a time); leaves, nodes and
checkpoints are insert-only. Tampering with any of them by someone with database access is what
`minsheng ledger verify` detects.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HashAlgorithm(models.TextChoices):
    SHA256 = "sha256", "SHA-256"
    SM3 = "sm3", "SM3"


class Log(models.Model):
    """One transparency log and its head: size, root and the right edge (the perfect subtrees
    covering [0, size), concatenated left to right) so an append needs no other read."""

    origin = models.CharField(_("日志标识"), max_length=128, unique=True)
    hash_alg = models.CharField(
        _("哈希算法"), max_length=8, choices=HashAlgorithm.choices, default=HashAlgorithm.SHA256
    )
    size = models.BigIntegerField(_("条目数"), default=0)
    root = models.BinaryField(_("根哈希"), max_length=32, default=b"")
    edge = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("证据日志")
        verbose_name_plural = _("证据日志")

    def __str__(self) -> str:
        return self.origin


class Leaf(models.Model):
    """One appended evidence statement. `data` is the exact leaf (RFC 8785 JSON); the other
    columns repeat some of its fields for lookups only — verification trusts `data` alone."""

    # No separate index on log: every index below starts with it.
    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="leaves", db_index=False)
    index = models.BigIntegerField(_("序号"))
    data = models.BinaryField()
    leaf_hash = models.BinaryField(max_length=32)
    kind = models.CharField(_("证据类型"), max_length=48)
    project_code = models.CharField(_("项目代码"), max_length=24)
    record_model = models.CharField(max_length=64)
    record_id = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("上链时间"), default=timezone.now)

    class Meta:
        verbose_name = _("证据条目")
        verbose_name_plural = _("证据条目")
        ordering = ["log_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["log", "index"], name="ledger_leaf_index_unique"),
            # Events are delivered at least once: the same evidence is anchored once. Led by the record, so
            # the same index finds a record's leaves (receipts, the evidence timeline): one wide index to
            # keep up on every append instead of two.
            models.UniqueConstraint(
                fields=["log", "record_model", "record_id", "kind", "digest"], name="ledger_leaf_dedupe_by_record"
            ),
        ]
        # Equality lookups only (no LIKE): a plain index, not Django's extra pattern-ops twin on PostgreSQL.
        indexes = [models.Index(fields=["project_code"], name="ledger_leaf_project")]

    def __str__(self) -> str:
        return f"#{self.index} {self.kind} {self.project_code}"


class Node(models.Model):
    """A perfect subtree hash, level ≥ 1 (level 0 is `Leaf.leaf_hash`), stored once it completes."""

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="+", db_index=False)
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["log", "level", "index"], name="ledger_node_unique")]

    def __str__(self) -> str:
        return f"({self.level}, {self.index})"


class ActorSalt(models.Model):
    """The salt behind a leaf's actor commitment H(salt ‖ actor id). Deleting the row erases the
    link to the person (个人信息保护法 right to erasure) while the leaf and every proof stay valid."""

    leaf = models.OneToOneField(Leaf, on_delete=models.CASCADE, primary_key=True, related_name="salt")
    salt = models.BinaryField(max_length=32)
    actor_id = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"salt of {self.leaf_id}"


class Checkpoint(models.Model):
    """A signed checkpoint (C2SP signed note) of the log at `size`, with the witnesses'
    cosignatures appended to `note` as they arrive."""

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="checkpoints")
    size = models.BigIntegerField(_("条目数"))
    root = models.BinaryField(max_length=32)
    note = models.TextField()
    key_id = models.CharField(max_length=8)
    created_at = models.DateTimeField(_("签发时间"), default=timezone.now)

    class Meta:
        verbose_name = _("签名检查点")
        verbose_name_plural = _("签名检查点")
        ordering = ["log_id", "-size"]
        constraints = [models.UniqueConstraint(fields=["log", "size"], name="ledger_checkpoint_size_unique")]

    def __str__(self) -> str:
        return f"{self.log} @ {self.size}"


class LogKey(models.Model):
    """A public key the log signs (or signed) checkpoints with, and when. The current key comes from
    the settings; a retired key is trusted only through its `endorsement`: a signed note by the key
    that replaced it, stating the old key, its validity and the last tree size it signed — so nobody
    with database access alone can add a key (see `keys.trusted`)."""

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="keys")
    vkey = models.CharField(_("公钥"), max_length=255)
    key_id = models.CharField(max_length=8)
    valid_from = models.DateTimeField(_("启用时间"), default=timezone.now)
    valid_until = models.DateTimeField(_("停用时间"), null=True, blank=True)
    last_size = models.BigIntegerField(null=True, blank=True)
    endorsement = models.TextField(blank=True)

    class Meta:
        verbose_name = _("日志签名公钥")
        verbose_name_plural = _("日志签名公钥")
        ordering = ["log_id", "valid_from"]
        constraints = [models.UniqueConstraint(fields=["log", "key_id"], name="ledger_logkey_once")]

    def __str__(self) -> str:
        return self.vkey


class Witness(models.Model):
    """Another body (e.g. the audit bureau) that checks consistency and co-signs checkpoints."""

    name = models.CharField(_("见证方标识"), max_length=128, unique=True)
    vkey = models.CharField(_("公钥"), max_length=255)
    description = models.CharField(_("单位"), max_length=128, blank=True)
    # The tlog-witness add-checkpoint URL this witness answered at (set when a push succeeds).
    url = models.CharField(_("见证服务地址"), max_length=255, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("见证方")
        verbose_name_plural = _("见证方")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="cosignatures")
    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="cosignatures")
    timestamp = models.BigIntegerField()
    line = models.CharField(max_length=255)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("见证签名")
        verbose_name_plural = _("见证签名")
        constraints = [models.UniqueConstraint(fields=["checkpoint", "witness"], name="ledger_cosig_once")]

    def __str__(self) -> str:
        return f"{self.witness} @ {self.checkpoint}"


class VerificationRun(models.Model):
    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="verifications")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True)
    size = models.BigIntegerField(default=0)
    ok = models.BooleanField(default=False)
    problems = models.JSONField(default=list)

    class Meta:
        verbose_name = _("完整性校验")
        verbose_name_plural = _("完整性校验")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.log} {self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"
