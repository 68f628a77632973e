"""Supervision on site: daily supervision logs (监理日志), site inspections with checklist answers,
photos and confirmed progress, rectification orders (整改通知) and contractors' progress reports,
each of which must cite evidence."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.projects.models import Project, WbsItem

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class Weather(models.TextChoices):
    SUNNY = "sunny", _("晴")
    CLOUDY = "cloudy", _("多云")
    OVERCAST = "overcast", _("阴")
    RAIN = "rain", _("雨")
    SNOW = "snow", _("雪")
    WIND = "wind", _("大风")


class SupervisionLog(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="supervision_logs")
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("监理"), on_delete=models.PROTECT,
                                   related_name="+")
    date = models.DateField(_("日期"))
    weather = models.CharField(_("天气"), max_length=12, choices=Weather.choices)
    work_done = models.TextField(_("当日施工内容"))
    workers = models.PositiveIntegerField(_("作业人数"))
    quantities = models.JSONField(_("完成工程量"), default=list, blank=True)  # [{"item", "quantity", "unit"}]
    issues = models.TextField(_("发现的问题"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("监理日志")
        verbose_name_plural = _("监理日志")
        ordering = ["-date", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "supervisor", "date"], name="one_log_per_day")]

    def __str__(self) -> str:
        return f"{self.project.code} {self.date}"


class InspectorKind(models.TextChoices):
    SUPERVISOR = "supervisor", _("监理")
    INSPECTOR = "inspector", _("乡镇巡查员")
    OFFICER = "officer", _("主管部门")


class SiteInspection(models.Model):
    """One visit to the site. Immutable once recorded: it is anchored in the evidence ledger."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="inspections")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("检查人"), on_delete=models.PROTECT,
                                  related_name="+")
    inspector_kind = models.CharField(_("检查人身份"), max_length=12, choices=InspectorKind.choices)
    village_representative = models.CharField(_("随同村民代表"), max_length=64, blank=True)
    inspected_at = models.DateTimeField(_("检查时间"))
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    checklist = models.JSONField(_("检查项"), default=dict)  # {question: "ok" | "defect" | "na"}
    notes = models.TextField(_("检查意见"), blank=True)
    passed = models.BooleanField(_("检查合格"))
    recorded_at = models.DateTimeField(default=timezone.now)
    # The phone's idempotency key: a draft synced twice (a retry after a dropped connection) is
    # stored once. Null for inspections recorded in the console form.
    client_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("现场检查")
        verbose_name_plural = _("现场检查")
        ordering = ["-inspected_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project.code} {self.inspected_at:%Y-%m-%d}"


class ConfirmedProgress(models.Model):
    """Progress of one sub-item as seen on site during an inspection: the evidenced progress."""

    inspection = models.ForeignKey(SiteInspection, on_delete=models.PROTECT, related_name="confirmed")
    wbs_item = models.ForeignKey(WbsItem, on_delete=models.PROTECT, related_name="+")
    progress = models.DecimalField(_("核实进度（%）"), max_digits=4, decimal_places=1, validators=PERCENT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["inspection", "wbs_item"], name="confirm_item_once")]

    def __str__(self) -> str:
        return f"{self.wbs_item_id}: {self.progress}%"


def photo_path(instance: InspectionPhoto, filename: str) -> str:
    return f"inspections/{instance.inspection.project.code}/{instance.sha256}.jpg"


class InspectionPhoto(models.Model):
    """A photo with the time and place it was taken (from the phone), stored without EXIF."""

    inspection = models.ForeignKey(SiteInspection, on_delete=models.PROTECT, related_name="photos")
    file = models.FileField(upload_to=photo_path, max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    taken_at = models.DateTimeField(_("拍摄时间"))
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6)
    caption = models.CharField(_("说明"), max_length=128, blank=True)
    # Where and when the camera itself says the photo was taken (EXIF), kept for the record only:
    # the stored file has no EXIF at all.
    exif_taken_at = models.DateTimeField(null=True, blank=True, editable=False)
    exif_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True, editable=False)
    exif_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True, editable=False)
    # Uploaded after the inspection was recorded (the phone syncs photos one by one): such a photo
    # is anchored in the ledger on its own, not as part of the inspection's content.
    added_later = models.BooleanField(default=False, editable=False)
    client_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("检查照片")
        verbose_name_plural = _("检查照片")

    def __str__(self) -> str:
        return self.caption or self.sha256[:12]


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("整改中")
    ESCALATED = "escalated", _("逾期已上报")
    CLOSED = "closed", _("已复查销号")


class Rectification(models.Model):
    """整改通知: a defect sent to the contractor with a deadline; a passing re-inspection closes it."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="rectifications")
    inspection = models.ForeignKey(SiteInspection, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="rectifications")
    defect = models.TextField(_("问题描述"))
    contractor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("整改责任人"), on_delete=models.PROTECT,
                                   related_name="+")
    deadline = models.DateField(_("整改期限"))
    status = models.CharField(_("状态"), max_length=12, choices=RectificationStatus.choices,
                              default=RectificationStatus.OPEN, db_index=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    escalated_at = models.DateTimeField(null=True, blank=True)
    reinspection = models.ForeignKey(SiteInspection, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="closed_rectifications")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("整改通知")
        verbose_name_plural = _("整改通知")
        ordering = ["deadline", "id"]

    def __str__(self) -> str:
        return self.defect[:40]

    @property
    def is_overdue(self) -> bool:
        return self.status != RectificationStatus.CLOSED and self.deadline < timezone.localdate()


class ProgressReport(models.Model):
    """A contractor's reported progress of one sub-item, citing the evidence it rests on."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="progress_reports")
    wbs_item = models.ForeignKey(WbsItem, on_delete=models.PROTECT, related_name="+")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    period_end = models.DateField(_("截至日期"))
    progress = models.DecimalField(_("上报进度（%）"), max_digits=4, decimal_places=1, validators=PERCENT,
                                   default=Decimal(0))
    inspections = models.ManyToManyField(SiteInspection, blank=True, related_name="+")
    logs = models.ManyToManyField(SupervisionLog, blank=True, related_name="+")
    photos = models.ManyToManyField(InspectionPhoto, blank=True, related_name="+")
    sensor_devices = models.JSONField(_("引用的传感器"), default=list, blank=True)  # device ids
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("进度上报")
        verbose_name_plural = _("进度上报")
        ordering = ["-period_end", "-id"]

    def __str__(self) -> str:
        return f"{self.wbs_item_id} {self.period_end}: {self.progress}%"


class ObservationKind(models.TextChoices):
    PROGRESS = "progress", _("施工进度")
    QUALITY = "quality", _("工程质量")
    SAFETY = "safety", _("安全文明施工")
    WATER = "water", _("用水与水质")
    OTHER = "other", _("其他")


class VillageObservation(models.Model):
    """What a village representative (村民代表) saw on a project in their own village. Seen by the
    project's supervisor and owner; anchored in the evidence ledger, never edited."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="village_observations")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("村民代表"), on_delete=models.PROTECT,
                               related_name="+")
    village = models.ForeignKey("core.Division", verbose_name=_("所在村"), on_delete=models.PROTECT,
                                related_name="+")
    kind = models.CharField(_("类别"), max_length=12, choices=ObservationKind.choices)
    text = models.TextField(_("看到的情况"))
    concern = models.BooleanField(_("需要处理"), default=False)
    observed_at = models.DateTimeField(_("时间"), default=timezone.now)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("村民代表监督记录")
        verbose_name_plural = _("村民代表监督记录")
        ordering = ["-observed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project.code} {self.observed_at:%Y-%m-%d}"


def observation_photo_path(instance: ObservationPhoto, filename: str) -> str:
    return f"observations/{instance.observation.project.code}/{instance.sha256}.jpg"


class ObservationPhoto(models.Model):
    """A photo a village representative took with an observation: checked and stored without EXIF
    (construction.photos), as inspection photos are. Shown to the officers who can see the project."""

    observation = models.ForeignKey(VillageObservation, on_delete=models.PROTECT, related_name="photos")
    file = models.FileField(upload_to=observation_photo_path, max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    caption = models.CharField(_("说明"), max_length=128, blank=True)
    # What the camera wrote (EXIF), kept for the record only: the stored file has no EXIF at all.
    exif_taken_at = models.DateTimeField(null=True, blank=True, editable=False)
    exif_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True, editable=False)
    exif_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True, editable=False)
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("监督照片")
        verbose_name_plural = _("监督照片")
        ordering = ["uploaded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["observation", "sha256"], name="observation_photo_once")]

    def __str__(self) -> str:
        return self.caption or self.sha256[:12]
