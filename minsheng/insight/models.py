"""Red flags (风险线索) computed from tenders, contracts and payments, and internal-audit samples of payments.

A red flag is a reason to look, never a finding: an auditor confirms or dismisses it with a comment. Each flag is
about one subject (a tender, bid, contract, payment, department or supplier) and routed to a named owner.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Department
from minsheng.projects.models import Project


class FlagKind(models.TextChoices):
    SHORT_PERIOD = "short_period", _("投标期过短")
    SINGLE_BID = "single_bid", _("仅一家投标")
    IDENTICAL_PRICES = "identical_prices", _("投标报价雷同")
    CLOSE_TO_WINNER = "close_to_winner", _("报价与中标价过于接近")
    LATE_BID_WON = "late_bid_won", _("逾期投标中标")
    OTHERS_DISQUALIFIED = "others_disqualified", _("除中标人外均被否决")
    LOWEST_DISQUALIFIED = "lowest_disqualified", _("最低价法下最低报价被否决")
    HEAVY_DISCOUNT = "heavy_discount", _("报价大幅低于最高限价")
    TAMPERED_BID = "tampered_bid", _("投标文件校验失败")
    AWARD_CONTRACT_CHANGE = "award_contract_change", _("合同金额偏离中标金额")
    CHANGE_ORDERS = "change_orders", _("中标后合同变更")
    SPLIT_NEAR_THRESHOLD = "split_near_threshold", _("金额略低于必须招标限额")
    SPLIT_SAME_SUPPLIER = "split_same_supplier", _("同一供应商短期内多次签约")
    SPLIT_SEQUENTIAL = "split_sequential", _("同类采购编号连续")
    DUPLICATE_INVOICE = "duplicate_invoice", _("重复发票")
    BENFORD_DEPARTMENT = "benford_department", _("部门支付金额首位数字异常")
    BENFORD_SUPPLIER = "benford_supplier", _("供应商收款金额首位数字异常")


class Severity(models.TextChoices):
    LOW = "low", _("提示")
    MEDIUM = "medium", _("关注")
    HIGH = "high", _("重点")


SEVERITY_ORDER = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}


class FlagStatus(models.TextChoices):
    OPEN = "open", _("待核查")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("已排除")


class RedFlag(models.Model):
    kind = models.CharField(_("类型"), max_length=32, choices=FlagKind.choices, db_index=True)
    severity = models.CharField(_("等级"), max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    # What the flag is about: "procurement.tender", "procurement.bid", "procurement.contract",
    # "finance.paymentrequest", "core.department" or "procurement.supplier", and its primary key.
    subject_type = models.CharField(_("对象类型"), max_length=40)
    subject_id = models.BigIntegerField(_("对象编号"))
    subject_label = models.CharField(_("对象"), max_length=160, blank=True)
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="red_flags", verbose_name=_("项目")
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="red_flags",
        verbose_name=_("部门"),
    )
    # The division subtree that may see the flag (the project's, or the department's division).
    division_path = models.CharField(max_length=255, db_index=True, default="")
    reason = models.TextField(_("理由"))
    figures = models.JSONField(_("数据"), default=dict)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="red_flags",
        verbose_name=_("责任人"),
    )
    status = models.CharField(_("状态"), max_length=12, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    comment = models.TextField(_("核查意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("风险线索")
        verbose_name_plural = _("风险线索")
        ordering = ["-computed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject_type", "subject_id"], name="redflag_one_per_subject")
        ]
        indexes = [models.Index(fields=["status", "severity"], name="redflag_status_severity_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject_label}"


class AuditSample(models.Model):
    """A reproducible random sample of payments drawn for checking (财政抽查): the seed and frame are kept."""

    title = models.CharField(_("抽查名称"), max_length=128)
    seed = models.BigIntegerField(_("随机种子"))
    size = models.PositiveIntegerField(_("样本量"))
    division_path = models.CharField(max_length=255, default="")
    # The frame: which payments could be drawn (filters as given), and how many there were.
    frame = models.JSONField(_("抽样范围"), default=dict)
    frame_count = models.PositiveIntegerField(_("总体数量"), default=0)
    stratify_by_department = models.BooleanField(_("按部门分层"), default=False)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drawn_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("资金抽查")
        verbose_name_plural = _("资金抽查")
        ordering = ["-drawn_at", "-id"]

    def __str__(self) -> str:
        return self.title


class FindingResult(models.TextChoices):
    PENDING = "pending", _("待检查")
    COMPLIANT = "compliant", _("合规")
    ISSUE = "issue", _("发现问题")


class AuditSampleItem(models.Model):
    sample = models.ForeignKey(AuditSample, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    payment = models.ForeignKey("finance.PaymentRequest", on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("结论"), max_length=12, choices=FindingResult.choices, default=FindingResult.PENDING)
    finding = models.TextField(_("检查发现"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sample", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "payment"], name="audit_sample_payment_unique"),
            models.UniqueConstraint(fields=["sample", "position"], name="audit_sample_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sample} #{self.position}"
