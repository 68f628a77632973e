"""Citizen requests (12345 practice): one queue for every channel, owned by a unit from receipt to
closure (首问负责制), with a public timeline, transfers and one-time phone codes."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Department, Division


class Kind(models.TextChoices):
    ENQUIRY = "enquiry", _("咨询")
    HELP = "help", _("求助")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")
    SUGGESTION = "suggestion", _("建议")
    PRAISE = "praise", _("表扬")


# Complaints and reports name a unit or a person: they need a phone verified by a one-time code.
VERIFIED_KINDS = frozenset({Kind.COMPLAINT, Kind.REPORT})


class Category(models.TextChoices):
    ROADS = "roads", _("道路交通")
    HOUSING = "housing", _("住房与物业")
    WATER = "water", _("供水排水")
    ENVIRONMENT = "environment", _("环境污染")
    WELFARE = "welfare", _("社会救助与养老")
    EDUCATION = "education", _("教育")
    HEALTH = "health", _("医疗卫生")
    PROJECT = "project", _("民生工程项目")
    OTHER = "other", _("其他")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class Channel(models.TextChoices):
    PORTAL = "portal", _("网上")
    HOTLINE = "hotline", _("热线电话")
    PROJECT = "project", _("项目页面")
    OPEN311 = "open311", _("Open311 接口")


class VisitChannel(models.TextChoices):
    PHONE = "phone", _("电话回访")
    ONLINE = "online", _("群众网上评价")


class Status(models.TextChoices):
    RECEIVED = "received", _("已受理登记")
    ACCEPTED = "accepted", _("已签收")
    IN_PROGRESS = "in_progress", _("办理中")
    REPLIED = "replied", _("已答复")
    RETURN_VISIT = "return_visit", _("已回访")
    CLOSED = "closed", _("已办结")


OPEN_STATUSES = frozenset(set(Status) - {Status.CLOSED})


class CitizenRequest(models.Model):
    receipt_code = models.CharField(_("受理编号"), max_length=16, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    category = models.CharField(_("分类"), max_length=16, choices=Category.choices)
    urgency = models.CharField(_("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices, default=Channel.PORTAL)
    description = models.TextField(_("诉求内容"))
    address = models.CharField(_("地点"), max_length=255, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    division = models.ForeignKey(Division, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("projects.Project", verbose_name=_("相关项目"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="citizen_requests")
    name = models.CharField(_("称呼"), max_length=32, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    phone_verified = models.BooleanField(_("手机号已验证"), default=False)
    email = models.EmailField(_("电子邮箱"), blank=True)
    photo = models.ImageField(_("照片"), upload_to="feedback/%Y/%m/", blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.RECEIVED,
                              db_index=True)
    # 首问负责制: the first unit keeps tracking until closure; `owner` is the unit handling it now.
    first_responder = models.ForeignKey(Department, verbose_name=_("首问单位"), on_delete=models.PROTECT,
                                        related_name="+")
    owner = models.ForeignKey(Department, verbose_name=_("承办单位"), null=True, on_delete=models.PROTECT,
                              related_name="+")
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, db_index=True)
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    first_contact_at = models.DateTimeField(_("首次联系时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    reply = models.TextField(_("答复内容"), blank=True)
    # The SLA clock pauses only while the unit waits for the citizen.
    waiting_since = models.DateTimeField(_("等待群众补充自"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0)
    resolved = models.BooleanField(_("问题已解决"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("满意度（1–5）"), null=True, blank=True)
    visit_comment = models.CharField(_("回访意见"), max_length=500, blank=True)
    # How the last return visit was made: the unit phoned, or the citizen answered online (lookup page).
    visit_channel = models.CharField(_("回访方式"), max_length=8, blank=True,
                                     choices=VisitChannel.choices)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    escalated = models.BooleanField(_("已提级协调"), default=False)
    # Highest escalation sent per phase, e.g. {"reply": 2}: the scan only ever raises it.
    escalation = models.JSONField(default=dict, blank=True)
    closed_on_time = models.BooleanField(null=True, blank=True)
    # A near-duplicate is closed at once and follows the case it was merged into; its reporter is told
    # of every step of that case.
    personal_data_erased_at = models.DateTimeField(_("个人信息删除时间"), null=True, blank=True)
    merged_into = models.ForeignKey("self", verbose_name=_("合并到"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="duplicates")

    class Meta:
        verbose_name = _("群众诉求")
        verbose_name_plural = _("群众诉求")
        ordering = ["-created_at", "-id"]
        constraints = [
            # No open request without an owner (首问负责制): enforced by the database as well.
            models.CheckConstraint(condition=models.Q(owner__isnull=False) | models.Q(status="closed"),
                                   name="feedback_open_request_has_owner"),
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True) | models.Q(satisfaction__gte=1, satisfaction__lte=5),
                name="feedback_satisfaction_1_5"),
        ]
        indexes = [models.Index(fields=["owner", "status"], name="feedback_owner_status_idx"),
                   models.Index(fields=["phone"], name="feedback_phone_idx")]

    def __str__(self) -> str:
        return f"{self.receipt_code} {self.get_kind_display()}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 11 else ("****" if phone else "")


class RequestEvent(models.Model):
    """One step on a request's timeline. `public` steps are what the citizen sees."""

    request = models.ForeignKey(CitizenRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=32)
    text = models.TextField(blank=True)
    unit = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    public = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class CitizenNotice(models.Model):
    """One notice to the citizen in the in-app inbox (seen with the receipt code and phone)."""

    request = models.ForeignKey(CitizenRequest, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=24)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"


class IntakeStatus(models.TextChoices):
    PENDING = "pending", _("正在分派")
    REGISTERED = "registered", _("已登记")
    FAILED = "failed", _("分派失败，待人工处理")


class Intake(models.Model):
    """A submission from the public portal as received: stored with its receipt code in one INSERT, so
    the portal answers at once however many people write at the same time (after a burst main or a power
    cut, a whole district does). The registration worker (`intake.register_pending`, every few seconds)
    then registers it as a CitizenRequest with the same receipt code and `created_at` — routing, first
    responder, SLA clocks from the moment of submission, timeline, audit trail, notices — exactly as a
    synchronous submission is registered. Until then the citizen's lookup shows "正在分派".

    Every check a submission can fail (fields, place, photo, the phone's one-time code, the phone's hourly
    limit) runs before this row is written; registration cannot be refused, only retried. Once
    registered, the row keeps only what proves the receipt (code, time, idempotency key, the phone's keyed
    hash for the hourly limit): the personal data lives on in the request, under its retention rule.
    Rows older than INTAKE_KEEP_DAYS are deleted by the daily retention job."""

    receipt_code = models.CharField(_("受理编号"), max_length=16, unique=True)
    # A resent form (double click, the phone's offline queue sending again after a lost answer) carries the
    # same key and gets the first submission's receipt back instead of a second request.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    status = models.CharField(_("状态"), max_length=12, choices=IntakeStatus.choices, default=IntakeStatus.PENDING)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices, default=Channel.PORTAL)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    category = models.CharField(_("分类"), max_length=16, choices=Category.choices)
    urgency = models.CharField(_("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    description = models.TextField(_("诉求内容"), blank=True)
    address = models.CharField(_("地点"), max_length=255, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    division = models.ForeignKey(Division, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("projects.Project", verbose_name=_("相关项目"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(_("称呼"), max_length=32, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    phone_key = models.CharField(max_length=24, blank=True)  # keyed hash of the phone: the hourly limit
    phone_verified = models.BooleanField(default=False)
    email = models.EmailField(_("电子邮箱"), blank=True)
    photo = models.ImageField(_("照片"), upload_to="feedback/%Y/%m/", blank=True)
    request = models.OneToOneField(CitizenRequest, verbose_name=_("登记的诉求"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="intake")
    registered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)  # after a failed registration: not before then

    class Meta:
        verbose_name = _("待分派诉求")
        verbose_name_plural = _("待分派诉求")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], condition=~models.Q(status="registered"), name="feedback_intake_waiting_idx"),
            models.Index(fields=["phone_key", "created_at"], condition=~models.Q(phone_key=""),
                         name="feedback_intake_phone_idx"),
            models.Index(fields=["created_at"], name="feedback_intake_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_code} {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.status != IntakeStatus.REGISTERED


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("待接收")
    ACCEPTED = "accepted", _("已接收")
    DISPUTED = "disputed", _("有争议，已提交协调")
    RESOLVED = "resolved", _("已由协调机构指定")


class Transfer(models.Model):
    request = models.ForeignKey(CitizenRequest, on_delete=models.CASCADE, related_name="transfers")
    from_unit = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("转办理由"), max_length=500)
    requested_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(_("接收期限"))
    status = models.CharField(max_length=12, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    coordinator = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    coordinator_deadline = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [models.UniqueConstraint(fields=["request"], condition=models.Q(status="pending"),
                                               name="feedback_one_pending_transfer")]

    def __str__(self) -> str:
        return f"{self.from_unit_id} → {self.to_unit_id} ({self.status})"


class PhoneCode(models.Model):
    """A one-time code sent by SMS. Only a salted hash is kept; it expires and allows few attempts."""

    phone = models.CharField(max_length=20, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} {self.created_at:%Y-%m-%d %H:%M}"


class Open311Key(models.Model):
    """An `api_key` for an Open311 client system. Only its SHA-256 is stored; the key is shown once
    (`minsheng open311 create-key NAME`)."""

    name = models.CharField(_("客户端名称"), max_length=64)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 接口密钥")
        verbose_name_plural = _("Open311 接口密钥")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class SlaClock(models.Model):
    """One running SLA clock (phase) of an open request, with its thresholds already converted to
    wall-clock instants on the working-day calendar: 75 % (warning), 100 %, 150 % and 200 % (the three
    escalation steps). Written whenever the clock starts, pauses, resumes or stops (`clocks.py`), so the
    scan is an index range on `next_at` with no calendar arithmetic. `level` is how many thresholds have
    been handled (0–4); `next_at` is the next one, NULL while paused or when all are handled."""

    request = models.ForeignKey(CitizenRequest, on_delete=models.CASCADE, related_name="sla_clocks")
    phase = models.CharField(max_length=16)
    warn_at = models.DateTimeField()
    due_at = models.DateTimeField()
    step2_at = models.DateTimeField()
    step3_at = models.DateTimeField()
    level = models.PositiveSmallIntegerField(default=0)
    next_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "phase"], name="feedback_one_clock_per_phase")]
        indexes = [models.Index(fields=["next_at"], condition=models.Q(next_at__isnull=False),
                                name="feedback_clock_next_idx")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.phase} {self.level}"


class RequestTally(models.Model):
    """Counts behind the 三率 per (Beijing month of receipt, division, owner unit), kept by database
    triggers on every insert, update and delete of a request (migration 0007), so any writer — services,
    bulk loads, queryset updates — keeps them exact. Merged duplicates are not counted."""

    month = models.DateField()
    division_id = models.IntegerField()
    owner_id = models.IntegerField()  # 0: no owner
    total = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    visited = models.IntegerField(default=0)
    resolved_n = models.IntegerField(default=0)
    scored = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "division_id", "owner_id"],
                                               name="feedback_tally_key")]

    def __str__(self) -> str:
        return f"{self.month} {self.division_id} {self.owner_id}: {self.total}"


class RequestSpan(models.Model):
    """The narrow, indexed copy of each counted request's durations (microseconds from receipt to first
    contact and to closure), kept by the same triggers. Exact medians walk these indexes to the middle
    rank of each group, which the tally gives (see docs/performance.md)."""

    request_id = models.IntegerField(primary_key=True)
    month = models.DateField()
    division_id = models.IntegerField()
    owner_id = models.IntegerField()
    contact_us = models.BigIntegerField(null=True)
    closure_us = models.BigIntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=[g, f"{p}_us", *(["division_id"] if g != "division_id" else [])],
                         condition=models.Q(**{f"{p}_us__isnull": False}), name=f"feedback_span_{g[:3]}_{p[:3]}")
            for g in ("owner_id", "division_id", "month") for p in ("contact", "closure")
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.contact_us} / {self.closure_us}"
