"""Zero-based budgets and funding (the part of `finance` below `procurement`), and disbursements and earned value
(the part above it: a payment cites a contract milestone). See docs/decisions/0004-money-and-procurement.md."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.projects.models import Document, Project

MONEY = {"max_digits": 14, "decimal_places": 2}


class BudgetKind(models.TextChoices):
    """The four versions a project's cost passes through, in order."""

    ESTIMATE = "estimate", _("投资估算")  # 估算, with the feasibility study
    DESIGN = "design", _("设计概算")  # 概算, with the preliminary design; caps total investment
    BUDGET = "budget", _("施工图预算")  # 预算
    FINAL = "final", _("竣工决算")  # 决算


class BudgetStatus(models.TextChoices):
    DRAFT = "draft", _("编制中")
    SUBMITTED = "submitted", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已退回")
    SUPERSEDED = "superseded", _("已被调整替代")


class CostCategory(models.TextChoices):
    """Cost composition of a construction project (建设项目总投资构成)."""

    WORKS = "works", _("建筑工程费")
    INSTALLATION = "installation", _("安装工程费")
    EQUIPMENT = "equipment", _("设备及工器具购置费")
    OTHER = "other", _("工程建设其他费用")
    CONTINGENCY = "contingency", _("预备费")
    SERVICES = "services", _("服务费")
    OPERATION = "operation", _("运营维护费")


class FundingSourceKind(models.TextChoices):
    CENTRAL = "central", _("中央资金")
    PROVINCIAL = "provincial", _("省级资金")
    CITY = "city", _("市级资金")
    COUNTY = "county", _("县级资金")
    SPECIAL_BOND = "special_bond", _("专项债券")
    SELF_RAISED = "self_raised", _("自筹资金")


class BudgetVersion(models.Model):
    """One version of a project's cost (估算/概算/预算/决算), built bottom-up from lines: no base-year figure."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="budget_versions")
    kind = models.CharField(_("类别"), max_length=12, choices=BudgetKind.choices)
    number = models.PositiveIntegerField(_("版本号"), default=1)
    status = models.CharField(_("状态"), max_length=12, choices=BudgetStatus.choices, default=BudgetStatus.DRAFT)
    total = models.DecimalField(_("合计（元）"), default=Decimal(0), **MONEY)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="successors", verbose_name=_("调整自")
    )
    note = models.TextField(_("编制说明"), blank=True)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approval_authority = models.CharField(_("审批机关"), max_length=64, blank=True)
    decision_comment = models.TextField(_("审批意见"), blank=True)

    class Meta:
        verbose_name = _("预算版本")
        verbose_name_plural = _("预算版本")
        ordering = ["project", "kind", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "kind", "number"], name="budget_version_number_unique"),
            models.UniqueConstraint(
                fields=["project", "kind"], condition=Q(status="approved"), name="budget_one_approved_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.code} {self.get_kind_display()} v{self.number}"


class BudgetLine(models.Model):
    """A zero-based line: what, how many, at what unit cost, why, and on which spending standard."""

    version = models.ForeignKey(BudgetVersion, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    category = models.CharField(_("费用类别"), max_length=16, choices=CostCategory.choices)
    item = models.CharField(_("项目内容"), max_length=128)
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("单位"), max_length=16)
    unit_cost = models.DecimalField(_("单价（元）"), **MONEY)
    amount = models.DecimalField(_("金额（元）"), **MONEY)
    justification = models.TextField(_("测算依据"))
    standard = models.CharField(_("支出标准"), max_length=255, help_text=_("如：定额编号、政府指导价、文件文号"))
    funding_source = models.CharField(
        _("资金来源"), max_length=16, choices=FundingSourceKind.choices, default=FundingSourceKind.COUNTY
    )

    class Meta:
        verbose_name = _("预算明细")
        verbose_name_plural = _("预算明细")
        ordering = ["version", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="budget_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="budget_line_unit_cost_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.quantity}{self.unit}"


class BudgetAdjustment(models.Model):
    """A 概算 adjustment: reason, the named funding source for the extra money, decided by the original approver."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已退回")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="budget_adjustments")
    original = models.ForeignKey(BudgetVersion, on_delete=models.PROTECT, related_name="adjustments_from")
    proposed = models.OneToOneField(BudgetVersion, on_delete=models.PROTECT, related_name="adjustment")
    reason = models.TextField(_("调整原因"))
    funding_source = models.CharField(_("新增资金来源"), max_length=16, choices=FundingSourceKind.choices)
    funding_document = models.CharField(_("资金来源文件"), max_length=128, blank=True)
    original_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("原审批人")
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)

    class Meta:
        verbose_name = _("概算调整")
        verbose_name_plural = _("概算调整")

    def __str__(self) -> str:
        return f"{self.project.code} adjustment v{self.proposed.number}"


class FundingCommitment(models.Model):
    """Money a level of government or the owner has committed to the project (资金计划)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="funding_commitments")
    source = models.CharField(_("资金来源"), max_length=16, choices=FundingSourceKind.choices)
    amount = models.DecimalField(_("计划金额（元）"), **MONEY)
    document = models.CharField(_("下达文件"), max_length=128, blank=True)
    committed_on = models.DateField(_("下达日期"), default=timezone.localdate)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("资金计划")
        verbose_name_plural = _("资金计划")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="funding_commitment_positive")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.amount}"


class FundingArrival(models.Model):
    """Money actually received against a commitment (资金到位)."""

    commitment = models.ForeignKey(FundingCommitment, on_delete=models.PROTECT, related_name="arrivals")
    amount = models.DecimalField(_("到位金额（元）"), **MONEY)
    arrived_on = models.DateField(_("到位日期"))
    voucher = models.CharField(_("凭证号"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("资金到位")
        verbose_name_plural = _("资金到位")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="funding_arrival_positive")]

    def __str__(self) -> str:
        return f"{self.arrived_on} {self.amount}"


class PaymentStatus(models.TextChoices):
    # A new request waits for the supervisor it names to confirm the measured quantities himself.
    AWAITING_SIGNOFF = "awaiting_signoff", _("待监理确认")
    SUBMITTED = "submitted", _("待部门审核")
    DEPT_APPROVED = "dept_approved", _("待财政审核")
    APPROVED = "approved", _("已批准拨付")
    PAID = "paid", _("已支付")
    REJECTED = "rejected", _("已退回")


class PaymentRequest(models.Model):
    """A request to pay against a contract milestone, with its evidence; department then finance approve it."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="payment_requests")
    contract = models.ForeignKey("procurement.Contract", on_delete=models.PROTECT, related_name="payment_requests")
    milestone = models.ForeignKey(
        "procurement.ContractMilestone", on_delete=models.PROTECT, related_name="payment_requests"
    )
    amount = models.DecimalField(_("申请金额（元）"), **MONEY)
    currency = models.CharField(max_length=3, default="CNY")
    invoice_number = models.CharField(_("发票号码"), max_length=32)
    invoice_amount = models.DecimalField(_("发票金额（元）"), **MONEY)
    invoice_date = models.DateField(_("开票日期"))
    measured_quantities = models.JSONField(_("计量工程量"), default=list)
    supervisor_signoff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("监理签认"),
    )
    signed_off_at = models.DateTimeField(_("监理确认时间"), null=True, blank=True)
    evidence = models.ManyToManyField(Document, blank=True, related_name="payment_requests", verbose_name=_("证明材料"))
    status = models.CharField(_("状态"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.SUBMITTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    paid_on = models.DateField(_("支付日期"), null=True, blank=True)
    payment_voucher = models.CharField(_("支付凭证号"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("拨付申请")
        verbose_name_plural = _("拨付申请")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["project", "status"], name="payment_project_status_idx"),
            models.Index(fields=["invoice_number"], name="payment_invoice_idx"),
            # The other arm of the duplicate-invoice check (payments and insight): same amount and date
            # (then the same supplier, through the contract).
            models.Index(fields=["invoice_amount", "invoice_date"], name="payment_inv_amount_date_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.project.code} {self.invoice_number} {self.amount}"


class PaymentDecision(models.Model):
    class Step(models.TextChoices):
        SUPERVISOR = "supervisor", _("监理确认")
        DEPARTMENT = "department", _("部门审核")
        FINANCE = "finance", _("财政审核")

    request = models.ForeignKey(PaymentRequest, on_delete=models.CASCADE, related_name="decisions")
    step = models.CharField(max_length=12, choices=Step.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approve = models.BooleanField()
    comment = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "step"], name="payment_one_decision_per_step")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.step} {'+' if self.approve else '-'}"


class EvmSnapshot(models.Model):
    """Earned value of one project on one day; the roll-ups and the trend chart read these."""

    class Health(models.TextChoices):
        GREEN = "green", _("正常")
        AMBER = "amber", _("预警")
        RED = "red", _("严重")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="evm_snapshots")
    as_of = models.DateField()
    bac = models.DecimalField(**MONEY)
    pv = models.DecimalField(**MONEY)
    ev = models.DecimalField(**MONEY)
    ac = models.DecimalField(**MONEY)
    spi = models.DecimalField(max_digits=8, decimal_places=4, null=True)
    # Earned-schedule SPI(t) = ES / AT: plain SPI drifts to 1.0 late in a project; health reads this one.
    spi_t = models.DecimalField(max_digits=8, decimal_places=4, null=True)
    cpi = models.DecimalField(max_digits=8, decimal_places=4, null=True)
    eac = models.DecimalField(max_digits=16, decimal_places=2, null=True)
    tcpi = models.DecimalField(max_digits=8, decimal_places=4, null=True)
    slip_days = models.IntegerField(null=True)
    health = models.CharField(max_length=8, choices=Health.choices, default=Health.GREEN)
    reasons = models.JSONField(default=list)
    # Denormalised for fast roll-ups by department and division.
    department_id_snapshot = models.IntegerField(null=True, db_index=True)
    division_path = models.CharField(max_length=255, db_index=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "as_of"], name="evm_one_snapshot_per_day")]
        indexes = [models.Index(fields=["as_of", "division_path"], name="evm_asof_division_idx")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.as_of} {self.health}"
