"""The project registry: one record per project for its whole life, keyed by the national code."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Department, Division
from minsheng.projects.code import parse as parse_code
from minsheng.projects.lifecycle import DocumentKind, PathKind, Slot, Stage


class Domain(models.TextChoices):
    HOUSING = "housing", _("住房保障/老旧小区改造")
    TRANSPORT = "transport", _("交通")
    EDUCATION = "education", _("教育")
    HEALTH = "health", _("医疗卫生")
    ELDERLY = "elderly", _("养老")
    CHILDCARE = "childcare", _("托幼")
    WATER = "water", _("饮水安全")
    ENVIRONMENT = "environment", _("环境治理")
    CULTURE_SPORT = "culture_sport", _("文体")
    EMPLOYMENT = "employment", _("就业")
    DIGITAL = "digital", _("数字政务")


class Project(models.Model):
    code = models.CharField(_("项目代码"), max_length=24, unique=True)
    name = models.CharField(_("项目名称"), max_length=128)
    domain = models.CharField(_("领域"), max_length=16, choices=Domain.choices, db_index=True)
    summary = models.TextField(_("建设内容"), blank=True)
    division = models.ForeignKey(
        Division, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="projects"
    )
    division_path = models.CharField(max_length=255, db_index=True, editable=False)
    lead_department = models.ForeignKey(
        Department, verbose_name=_("牵头部门"), on_delete=models.PROTECT, related_name="led_projects"
    )
    partner_departments = models.ManyToManyField(
        Department, verbose_name=_("配合部门"), blank=True, related_name="partner_projects"
    )
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("项目责任人"),
        on_delete=models.PROTECT,
        related_name="responsible_projects",
    )
    owner_unit = models.CharField(_("项目单位"), max_length=128, blank=True)
    address = models.CharField(_("建设地点"), max_length=255, blank=True)
    latitude = models.DecimalField(
        _("纬度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("经度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    is_high_impact = models.BooleanField(
        _("社会影响较大"), default=False, help_text=_("需开展民意调查、专家论证和风险评估")
    )
    is_emergency = models.BooleanField(_("应急项目"), default=False)

    beneficiaries_total = models.PositiveIntegerField(_("受益人数"), default=0)
    beneficiaries_elderly = models.PositiveIntegerField(_("其中：老年人"), default=0)
    beneficiaries_disabled = models.PositiveIntegerField(_("其中：残障人士"), default=0)
    beneficiaries_low_income = models.PositiveIntegerField(_("其中：低收入群体"), default=0)
    beneficiaries_children = models.PositiveIntegerField(_("其中：儿童"), default=0)

    estimate_amount = models.DecimalField(_("估算总投资（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    design_estimate_amount = models.DecimalField(
        _("概算总投资（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    stage = models.CharField(_("阶段"), max_length=16, choices=Stage.choices, default=Stage.RESERVE, db_index=True)
    previous_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    stage_changed_at = models.DateTimeField(_("进入本阶段"), default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)
    progress = models.DecimalField(_("形象进度（%）"), max_digits=4, decimal_places=1, default=Decimal(0))

    planned_start = models.DateField(_("计划开工"), null=True, blank=True)
    planned_end = models.DateField(_("计划完工"), null=True, blank=True)
    actual_start = models.DateField(_("实际开工"), null=True, blank=True)
    actual_end = models.DateField(_("实际完工"), null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("民生工程项目")
        verbose_name_plural = _("民生工程项目")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["division_path", "-updated_at"], name="project_scope_recent_idx"),
            models.Index(fields=["stage", "domain"], name="project_stage_domain_idx"),
            # The list's order (newest first): lets the database walk the index instead of sorting.
            models.Index(fields=["-updated_at", "-id"], name="project_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}"

    @property
    def code_display(self) -> str:
        return parse_code(self.code).display

    @property
    def total_investment(self) -> Decimal | None:
        """The approved 概算 caps total investment; before it exists, the FSR 估算 stands in."""
        return self.design_estimate_amount or self.estimate_amount


class TargetDimension(models.TextChoices):
    """Performance indicator dimensions (财预〔2020〕10号)."""

    OUTPUT_QUANTITY = "output_quantity", _("产出·数量")
    OUTPUT_QUALITY = "output_quality", _("产出·质量")
    OUTPUT_TIMELINESS = "output_timeliness", _("产出·时效")
    OUTPUT_COST = "output_cost", _("产出·成本")
    BENEFIT_ECONOMIC = "benefit_economic", _("效益·经济")
    BENEFIT_SOCIAL = "benefit_social", _("效益·社会")
    BENEFIT_ECOLOGICAL = "benefit_ecological", _("效益·生态")
    BENEFIT_SUSTAINABLE = "benefit_sustainable", _("效益·可持续影响")
    SATISFACTION = "satisfaction", _("服务对象满意度")


class PerformanceTarget(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="targets")
    dimension = models.CharField(_("维度"), max_length=24, choices=TargetDimension.choices)
    indicator = models.CharField(_("指标"), max_length=128)
    unit = models.CharField(_("单位"), max_length=16)
    comparator = models.CharField(_("比较"), max_length=2, choices=[(">=", "≥"), ("<=", "≤"), ("=", "=")], default=">=")
    target_value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=2)
    actual_value = models.DecimalField(_("实际值"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("绩效目标")
        verbose_name_plural = _("绩效目标")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.indicator} {self.comparator} {self.target_value}{self.unit}"


class MemberRole(models.TextChoices):
    SUPERVISOR = "supervisor", _("监理")
    CONTRACTOR = "contractor", _("施工单位")
    EVALUATOR = "evaluator", _("第三方评价")
    INSPECTOR = "inspector", _("巡查")


class ProjectMember(models.Model):
    """Assignment of supervisors, contractors and evaluators: the only projects they see."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("角色"), max_length=16, choices=MemberRole.choices)
    since = models.DateField(_("起始日期"), default=timezone.localdate)

    class Meta:
        verbose_name = _("项目参与人")
        verbose_name_plural = _("项目参与人")
        constraints = [models.UniqueConstraint(fields=["project", "user", "role"], name="member_once_per_role")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.project}"


def document_path(instance: Document, filename: str) -> str:
    ext = filename[filename.rfind(".") :].lower() if "." in filename else ""
    return f"projects/{instance.project.code}/{instance.sha256}{ext}"


class Document(models.Model):
    """An uploaded file. Immutable once stored: a newer version is a new row."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("文件类别"), max_length=24, choices=DocumentKind.choices)
    title = models.CharField(_("标题"), max_length=128)
    file = models.FileField(_("文件"), upload_to=document_path, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    stage = models.CharField(_("上传时阶段"), max_length=16, choices=Stage.choices)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("项目文件")
        verbose_name_plural = _("项目文件")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.title


class GateStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已退回")
    WITHDRAWN = "withdrawn", _("已撤回")


class GateRequest(models.Model):
    """A request to pass a gate; approvers fill its slots; the last approval moves the project."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="gate_requests")
    from_stage = models.CharField(max_length=16, choices=Stage.choices)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    path = models.CharField(_("程序"), max_length=24, choices=PathKind.choices, default=PathKind.FULL)
    reason = models.TextField(_("说明"), blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=GateStatus.choices, default=GateStatus.PENDING)
    required_slots = models.JSONField(default=list)
    required_level = models.PositiveSmallIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("关口申请")
        verbose_name_plural = _("关口申请")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"], condition=models.Q(status="pending"), name="one_pending_gate_per_project"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.from_stage}→{self.to_stage}"


class GateApproval(models.Model):
    request = models.ForeignKey(GateRequest, on_delete=models.PROTECT, related_name="approvals")
    slot = models.CharField(max_length=16, choices=Slot.choices)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approve = models.BooleanField()
    comment = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("关口审批")
        verbose_name_plural = _("关口审批")
        constraints = [models.UniqueConstraint(fields=["request", "slot"], name="one_decision_per_slot")]

    def __str__(self) -> str:
        return f"{self.request} {self.slot} {self.approver}"


class StageTransition(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="transitions")
    from_stage = models.CharField(max_length=16, choices=Stage.choices)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    path = models.CharField(max_length=24, choices=PathKind.choices)
    request = models.OneToOneField(GateRequest, null=True, on_delete=models.PROTECT, related_name="transition")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("阶段转换")
        verbose_name_plural = _("阶段转换")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.project} {self.from_stage}→{self.to_stage}"


class WbsItem(models.Model):
    """A sub-item of the responsibility checklist (责任清单) with one named responsible person."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="wbs_items")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    code = models.CharField(_("编号"), max_length=16)
    name = models.CharField(_("子项名称"), max_length=128)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("责任人"), on_delete=models.PROTECT, related_name="wbs_items"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wbs_items",
    )
    due_date = models.DateField(_("完成时限"), db_index=True)
    weight = models.DecimalField(
        _("权重"), max_digits=6, decimal_places=2, default=Decimal(1), validators=[MinValueValidator(Decimal("0.01"))]
    )
    progress = models.DecimalField(
        _("进度（%）"),
        max_digits=4,
        decimal_places=1,
        default=Decimal(0),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("责任清单子项")
        verbose_name_plural = _("责任清单子项")
        ordering = ["project_id", "code", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "code"], name="wbs_code_unique_in_project")]
        indexes = [
            models.Index(fields=["responsible", "due_date"], name="wbs_person_due_idx"),
            # Scoping asks "does this person hold a sub-item of this project?" once per project row;
            # without both columns SQLite may walk all of the person's items for every project.
            models.Index(fields=["project", "responsible"], name="wbs_project_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_overdue(self) -> bool:
        return self.progress < 100 and self.due_date < timezone.localdate()


class CodeSequence(models.Model):
    """The last serial issued per (year, region): codes are generated without gaps or repeats."""

    year = models.PositiveSmallIntegerField()
    region = models.CharField(max_length=6)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "region"], name="code_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.year}-{self.region}: {self.last}"
