"""Tenders, sealed bids, evaluation, awards, contracts, variations, and the OCDS releases published about them.

`procurement` sits above the budget part of `finance` (a tender is created from an approved budget) and below its
payment part (a payment cites a contract milestone). See docs/decisions/0004-money-and-procurement.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.projects.models import Project, WbsItem

MONEY = {"max_digits": 14, "decimal_places": 2}


class Supplier(models.Model):
    """A company that bids and contracts; contractor accounts act for it."""

    name = models.CharField(_("单位名称"), max_length=128)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=32, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="suppliers")

    class Meta:
        verbose_name = _("供应商")
        verbose_name_plural = _("供应商")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def credit_code_valid(self) -> bool:
        """Whether the code passes the GB 32100-2015 check. Every code written since the check exists does;
        one recorded earlier may not, and is shown for correction (frozen once the supplier has bid or
        contracted: a sealed bid is bound to the code, so such a code is reviewed, not changed)."""
        from minsheng.procurement import uscc

        return uscc.is_valid(self.credit_code)


class ProcurementCategory(models.TextChoices):
    WORKS = "works", _("工程")
    GOODS = "goods", _("货物")
    SERVICES = "services", _("服务")


class Method(models.TextChoices):
    """Procurement methods of the Tendering and Government Procurement Laws, with their OCDS method."""

    OPEN = "open", _("公开招标")
    INVITED = "invited", _("邀请招标")
    NEGOTIATION = "negotiation", _("竞争性谈判")
    SINGLE_SOURCE = "single_source", _("单一来源")


class AwardCriteria(models.TextChoices):
    PRICE_ONLY = "priceOnly", _("经评审的最低投标价法")
    RATED = "ratedCriteria", _("综合评估法")


class TenderStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("公告中")
    OPENED = "opened", _("已开标")
    EVALUATED = "evaluated", _("评标完成")
    AWARDED = "awarded", _("已定标（公示期）")
    CONTRACTED = "contracted", _("已签约")
    UNSUCCESSFUL = "unsuccessful", _("流标")
    CANCELLED = "cancelled", _("已终止")


class Tender(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="tenders")
    budget_version = models.ForeignKey(
        "finance.BudgetVersion", on_delete=models.PROTECT, related_name="tenders", verbose_name=_("依据预算")
    )
    reference = models.CharField(_("招标编号"), max_length=40, unique=True)
    title = models.CharField(_("招标项目名称"), max_length=128)
    description = models.TextField(_("招标内容"), blank=True)
    category = models.CharField(_("采购类别"), max_length=12, choices=ProcurementCategory.choices)
    method = models.CharField(_("采购方式"), max_length=16, choices=Method.choices)
    method_reason = models.TextField(_("采用该方式的理由"), blank=True)
    award_criteria = models.CharField(
        _("评标办法"), max_length=16, choices=AwardCriteria.choices, default=AwardCriteria.RATED
    )
    price_weight = models.PositiveSmallIntegerField(_("价格分权重（%）"), default=30)
    value = models.DecimalField(_("最高投标限价（元）"), **MONEY)
    currency = models.CharField(max_length=3, default="CNY")
    quality_standards = models.TextField(_("质量标准"), blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=TenderStatus.choices, default=TenderStatus.DRAFT)
    published_at = models.DateTimeField(_("公告时间"), null=True, blank=True)
    clarification_deadline = models.DateTimeField(_("澄清截止"), null=True, blank=True)
    submission_start = models.DateTimeField(_("投标开始"), null=True, blank=True)
    submission_deadline = models.DateTimeField(_("投标截止（开标时间）"), null=True, blank=True)
    standstill_days = models.PositiveSmallIntegerField(_("中标公示期（日）"), default=3)
    invited_suppliers = models.ManyToManyField(Supplier, blank=True, related_name="invitations")
    # Sealed bids: bids are encrypted to this X25519 public key; its private key exists only as k-of-n shares held
    # by the opening officials (never stored here), so nobody can read a bid before the opening.
    sealing_public_key = models.BinaryField(null=True, blank=True, editable=False)
    key_threshold = models.PositiveSmallIntegerField(default=2)
    key_share_count = models.PositiveSmallIntegerField(default=3)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("招标项目")
        verbose_name_plural = _("招标项目")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="tender_value_positive"),
            models.CheckConstraint(
                condition=Q(price_weight__gte=0) & Q(price_weight__lte=100), name="tender_price_weight_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class TenderCancellation(models.Model):
    """The notice ending a published tender before award (终止招标), with its reason. Written once, never changed;
    anchored in the evidence ledger with the commitments of the bids lodged, which are never opened."""

    tender = models.OneToOneField(Tender, on_delete=models.PROTECT, related_name="cancellation")
    reason = models.TextField(_("终止理由"))
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(_("终止时间"), default=timezone.now)
    status_before = models.CharField(max_length=16, choices=TenderStatus.choices)
    # Commitments of the bids lodged and not withdrawn at the cancellation (the bids themselves stay sealed).
    bid_commitments = models.JSONField(default=list)
    ledger_index = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("终止招标公告")
        verbose_name_plural = _("终止招标公告")

    def __str__(self) -> str:
        return f"{self.tender_id} {self.reason[:40]}"


class KeyShareHolder(models.Model):
    """Who holds share i of a tender's sealing key; the share itself is handed out once and not stored."""

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="share_holders")
    index = models.PositiveSmallIntegerField()
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    share_digest = models.CharField(max_length=64)
    issued_at = models.DateTimeField(default=timezone.now)
    collected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tender", "index"], name="key_share_index_unique")]

    def __str__(self) -> str:
        return f"{self.tender_id}#{self.index}"


class Clarification(models.Model):
    """A bidder's question and the published answer (答疑澄清); the asker is never published."""

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="clarifications")
    question = models.TextField(_("问题"))
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]

    def __str__(self) -> str:
        return self.question[:40]


class BidStatus(models.TextChoices):
    SEALED = "sealed", _("已密封递交")
    WITHDRAWN = "withdrawn", _("已撤回")
    OPENED = "opened", _("已开启")
    TAMPERED = "tampered", _("校验失败")
    DISQUALIFIED = "disqualified", _("无效投标")
    WINNER = "winner", _("中标")


class Bid(models.Model):
    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="bids")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="bids")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    # Sealed content: ephemeral X25519 public key, AES-GCM nonce and ciphertext of the canonical bid document.
    ephemeral_public_key = models.BinaryField(editable=False)
    nonce = models.BinaryField(editable=False)
    ciphertext = models.BinaryField(editable=False)
    commitment = models.CharField(_("承诺摘要"), max_length=64, db_index=True)
    ledger_index = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=BidStatus.choices, default=BidStatus.SEALED)
    # Filled at the opening, from the decrypted document.
    price = models.DecimalField(_("投标报价（元）"), null=True, blank=True, **MONEY)
    content = models.JSONField(null=True, blank=True, editable=False)
    opened_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # The opening's checks: the decrypted document re-commits to `commitment`, and that equals the digest
    # anchored in the evidence ledger at submission.
    commitment_ok = models.BooleanField(_("承诺校验"), null=True)
    ledger_ok = models.BooleanField(_("存证校验"), null=True)
    disqualified_reason = models.TextField(_("无效理由"), blank=True)
    price_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    technical_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    total_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    rank = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("投标")
        verbose_name_plural = _("投标")
        ordering = ["tender", "submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tender", "supplier"], condition=~Q(status="withdrawn"), name="bid_one_live_per_supplier"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tender_id}/{self.supplier_id} {self.commitment[:12]}"


class PanelMember(models.Model):
    """An evaluation expert on a tender's panel, with the conflict-of-interest declaration made before scoring."""

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="panel")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="panels")
    is_chair = models.BooleanField(_("组长"), default=False)
    declared_at = models.DateTimeField(_("回避声明时间"), null=True, blank=True)
    has_conflict = models.BooleanField(_("存在利害关系"), default=False)
    declaration = models.TextField(_("声明内容"), blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tender", "expert"], name="panel_member_unique")]

    def __str__(self) -> str:
        return f"{self.tender_id}/{self.expert_id}"


class Score(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="scores")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    technical = models.DecimalField(_("技术分"), max_digits=6, decimal_places=2)
    comment = models.TextField(_("评审意见"), blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bid", "expert"], name="score_one_per_expert")]

    def __str__(self) -> str:
        return f"{self.bid_id}/{self.expert_id} {self.technical}"


class AwardStatus(models.TextChoices):
    STANDSTILL = "standstill", _("公示中")
    ACTIVE = "active", _("已生效")
    CANCELLED = "cancelled", _("已撤销")


class Award(models.Model):
    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="awards")
    bid = models.OneToOneField(Bid, on_delete=models.PROTECT, related_name="award")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="awards")
    value = models.DecimalField(_("中标金额（元）"), **MONEY)
    decided_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    standstill_until = models.DateTimeField(_("公示截止"))
    status = models.CharField(max_length=12, choices=AwardStatus.choices, default=AwardStatus.STANDSTILL)

    def __str__(self) -> str:
        return f"{self.tender_id} → {self.supplier_id} {self.value}"


class Complaint(models.Model):
    """A bidder's challenge (质疑) during the standstill period; it suspends contract signing until resolved."""

    class Status(models.TextChoices):
        OPEN = "open", _("处理中")
        UPHELD = "upheld", _("成立")
        DISMISSED = "dismissed", _("不成立")

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="complaints")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("质疑内容"))
    filed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(_("处理结果"), blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.text[:40]


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("履行中")
    COMPLETED = "completed", _("已完成")
    TERMINATED = "terminated", _("已解除")


class Contract(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="contracts")
    tender = models.ForeignKey(Tender, null=True, blank=True, on_delete=models.PROTECT, related_name="contracts")
    award = models.OneToOneField(Award, null=True, blank=True, on_delete=models.PROTECT, related_name="contract")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(_("合同编号"), max_length=40, unique=True)
    title = models.CharField(_("合同名称"), max_length=128)
    value = models.DecimalField(_("合同金额（元）"), **MONEY)
    currency = models.CharField(max_length=3, default="CNY")
    signed_on = models.DateField(_("签订日期"))
    period_start = models.DateField(_("履约开始"))
    period_end = models.DateField(_("履约结束"))
    quality_standards = models.TextField(_("质量标准"), blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("合同")
        verbose_name_plural = _("合同")
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="contract_value_positive"),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="contract_period"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class ContractMilestone(models.Model):
    """A payment milestone: what must be done by when, and the share of the contract paid for it."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("未到期")
        MET = "met", _("已完成")
        NOT_MET = "notMet", _("未完成")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(_("节点名称"), max_length=128)
    description = models.TextField(_("完成标准"), blank=True)
    due_date = models.DateField(_("计划完成"))
    amount = models.DecimalField(_("节点付款额（元）"), **MONEY)
    wbs_item = models.ForeignKey(WbsItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    met_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["contract", "position", "due_date", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="milestone_amount_nonnegative")]

    def __str__(self) -> str:
        return self.title


class Variation(models.Model):
    """A change order (工程变更/合同变更): its amount counts toward the cumulative share of the contract value."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已退回")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="variations")
    number = models.PositiveSmallIntegerField()
    reason = models.TextField(_("变更原因"))
    amount = models.DecimalField(_("变更金额（元，减少为负）"), **MONEY)
    days = models.IntegerField(_("工期变化（日）"), default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(_("审批意见"), blank=True)

    class Meta:
        ordering = ["contract", "number"]
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="variation_number_unique")]

    def __str__(self) -> str:
        return f"{self.contract_id} #{self.number} {self.amount}"


class OcdsRelease(models.Model):
    """One immutable OCDS release, written once per change of a contracting process and never updated."""

    ocid = models.CharField(max_length=64, db_index=True)
    release_id = models.CharField(max_length=96, unique=True)
    date = models.DateTimeField(db_index=True)
    tags = models.JSONField(default=list)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="ocds_releases")
    data = models.JSONField()

    class Meta:
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["ocid", "date"], name="ocds_ocid_date_idx")]

    def __str__(self) -> str:
        return self.release_id
