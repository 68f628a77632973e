"""Devices, readings, rejected-reading counters, alarm rules (data from standards) and alarms."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Division
from minsheng.projects.models import Project
from minsheng.telemetry.metrics import DeviceKind


def hash_credential(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Device(models.Model):
    """A sensor bound to a project and a place. Only the SHA-256 of its credential is stored."""

    device_id = models.SlugField(_("设备编号"), max_length=64, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=DeviceKind.choices)
    name = models.CharField(_("名称"), max_length=128)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="devices")
    location = models.CharField(_("安装位置"), max_length=128, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    household = models.CharField(_("用水户"), max_length=64, blank=True)
    small_supply = models.BooleanField(
        _("小型供水工程"), default=False,
        help_text=_("小型集中式供水或分散式供水（GB 5749-2022 对其浑浊度等指标另有限值）"))
    credential_hash = models.CharField(max_length=64, editable=False)
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("负责人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    offline_after_minutes = models.PositiveIntegerField(_("离线判定（分钟）"), default=30)
    last_seen_at = models.DateTimeField(_("最近上报"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("监测设备")
        verbose_name_plural = _("监测设备")
        ordering = ["device_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.device_id})"

    def set_credential(self) -> str:
        """A new credential; returned once, only its hash is kept."""
        raw = "dev_" + secrets.token_urlsafe(24)
        self.credential_hash = hash_credential(raw)
        return raw

    def is_offline(self, now=None) -> bool:
        now = now or timezone.now()
        if self.last_seen_at is None:
            return True
        return (now - self.last_seen_at).total_seconds() > self.offline_after_minutes * 60


class Reading(models.Model):
    """One value. Idempotent on (device, time, metric): a redelivered message stores nothing twice.

    The hot table. Its only index is that key (device, time, metric), which serves both the dedup on
    insert and a device's readings by time. No database-level foreign key to the device (a device is
    never deleted, and ingest checks it exists): the per-row reference check halved insert speed. On
    PostgreSQL the table is partitioned by month on `time` (migration 0004, `storage.py`) and has no
    primary-key index either: a partitioned key must include `time`, and (id, time) would only cost."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="readings", db_constraint=False,
                               db_index=False)
    time = models.DateTimeField()
    metric = models.CharField(max_length=24)
    value = models.FloatField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "time", "metric"], name="reading_once")]

    def __str__(self) -> str:
        return f"{self.device_id} {self.time:%Y-%m-%d %H:%M:%S} {self.metric}={self.value}"


class Rollup(models.Model):
    """Readings of one device and metric summed over a bucket (a minute, an hour), kept by ingest in
    the same transaction as the readings, from the rows it actually inserted (so redelivery adds
    nothing). Charts read these; the mean is total / count."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="+", db_constraint=False,
                               db_index=False)
    metric = models.CharField(max_length=24)
    bucket = models.DateTimeField()
    count = models.PositiveIntegerField()
    total = models.FloatField()
    minimum = models.FloatField()
    maximum = models.FloatField()

    class Meta:
        abstract = True

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


class ReadingMinute(Rollup):
    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "metric", "bucket"], name="reading_minute_key")]
        indexes = [models.Index(fields=["bucket"], name="reading_minute_bucket_idx")]

    def __str__(self) -> str:
        return f"{self.device_id} {self.metric} {self.bucket:%Y-%m-%d %H:%M} n={self.count}"


class ReadingHour(Rollup):
    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "metric", "bucket"], name="reading_hour_key")]
        indexes = [models.Index(fields=["bucket"], name="reading_hour_bucket_idx")]

    def __str__(self) -> str:
        return f"{self.device_id} {self.metric} {self.bucket:%Y-%m-%d %H:%M} n={self.count}"


class BackgroundStation(models.Model):
    """A reference (background) air-quality device for a district: a site's PM10 is judged net of it
    ("site minus background"). The station nearest a site's division wins."""

    division = models.ForeignKey(Division, verbose_name=_("所在区县"), on_delete=models.PROTECT,
                                 related_name="+")
    device = models.OneToOneField(Device, verbose_name=_("背景站设备"), on_delete=models.PROTECT,
                                  related_name="background_for")
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("背景站")
        verbose_name_plural = _("背景站")

    def __str__(self) -> str:
        return f"{self.division} {self.device}"


class RejectReason(models.TextChoices):
    MALFORMED = "malformed", _("格式错误")
    UNKNOWN_DEVICE = "unknown_device", _("未登记的设备")
    BAD_CREDENTIAL = "bad_credential", _("设备凭据错误")
    UNKNOWN_METRIC = "unknown_metric", _("未知指标")
    WRONG_UNIT = "wrong_unit", _("单位不符")
    OUT_OF_RANGE = "out_of_range", _("超出物理量程")
    CLOCK_SKEW = "clock_skew", _("时间偏差过大")


class RejectCount(models.Model):
    """Rejected readings counted per day and reason (and device when known)."""

    day = models.DateField()
    reason = models.CharField(max_length=16, choices=RejectReason.choices)
    device_id = models.CharField(max_length=64, blank=True)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "reason", "device_id"], name="reject_count_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.reason} {self.device_id}: {self.count}"


class Severity(models.TextChoices):
    CRITICAL = "critical", _("紧急")
    MAJOR = "major", _("重要")
    MINOR = "minor", _("次要")
    WARNING = "warning", _("预警")


class AlarmRule(models.Model):
    """A limit from a standard, as data: which metric of which kind of device, the limit, the hours it
    applies, where (region) and when (validity), and the standard and clause it comes from."""

    code = models.SlugField(_("规则代码"), max_length=48)
    name = models.CharField(_("名称"), max_length=128)
    device_kind = models.CharField(_("设备类型"), max_length=16, choices=DeviceKind.choices, blank=True)  # blank: all
    metric = models.CharField(_("指标"), max_length=24, blank=True)  # blank: the device-offline rule
    comparator = models.CharField(_("比较"), max_length=2, choices=[(">", ">"), ("<", "<")], default=">")
    limit = models.FloatField(_("限值"), null=True, blank=True)
    hour_from = models.PositiveSmallIntegerField(_("起始时（含）"), null=True, blank=True)
    hour_to = models.PositiveSmallIntegerField(_("截止时（不含）"), null=True, blank=True)
    severity = models.CharField(_("级别"), max_length=8, choices=Severity.choices)
    standard = models.CharField(_("标准"), max_length=64)
    clause = models.CharField(_("条款"), max_length=64, blank=True)
    division = models.ForeignKey(Division, verbose_name=_("适用区划"), null=True, blank=True, on_delete=models.PROTECT)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)
    needs_verification = models.BooleanField(_("待核实"), default=False)
    # Windowed rules (run by the scheduler over the minute roll-ups, not per reading): the mean over
    # the window, net of the district's background station if so, against the limit; an alarm also
    # when a day has more exceeding windows than allowed.
    window_minutes = models.PositiveSmallIntegerField(_("统计时段（分钟）"), null=True, blank=True)
    net_of_background = models.BooleanField(_("扣除背景站"), default=False)
    daily_allowance = models.PositiveSmallIntegerField(_("每日允许超标次数"), null=True, blank=True)
    # None: any device; True: only small water supplies; False: all but small water supplies.
    small_supply = models.BooleanField(_("适用于小型供水"), null=True, blank=True)

    class Meta:
        verbose_name = _("报警规则")
        verbose_name_plural = _("报警规则")
        ordering = ["device_kind", "code", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["code", "division", "valid_from"], name="alarm_rule_version")]

    def __str__(self) -> str:
        return f"{self.name}（{self.standard} {self.clause}）"


class AlarmStatus(models.TextChoices):
    ACTIVE = "active", _("告警中")
    CLEARED = "cleared", _("已恢复")


class Alarm(models.Model):
    """One alarm per (type, originator) while open; repeat readings update it. It closes once it is
    both cleared and acknowledged; a later exceedance then opens a new one."""

    alarm_type = models.CharField(_("类型"), max_length=48)
    device = models.ForeignKey(Device, verbose_name=_("设备"), on_delete=models.PROTECT, related_name="alarms")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="alarms")
    rule = models.ForeignKey(AlarmRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    severity = models.CharField(_("级别"), max_length=8, choices=Severity.choices)
    status = models.CharField(_("状态"), max_length=8, choices=AlarmStatus.choices, default=AlarmStatus.ACTIVE)
    acknowledged = models.BooleanField(_("已确认"), default=False)
    closed = models.BooleanField(default=False, db_index=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("处理人"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    message = models.CharField(_("说明"), max_length=255)
    value = models.FloatField(_("最近读数"), null=True, blank=True)
    count = models.PositiveIntegerField(_("触发次数"), default=1)
    first_at = models.DateTimeField(_("首次发生"))
    last_at = models.DateTimeField(_("最近发生"))
    cleared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("升级层级"), default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("报警")
        verbose_name_plural = _("报警")
        ordering = ["closed", "-last_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["alarm_type", "device"], condition=models.Q(closed=False),
                                    name="one_open_alarm_per_type_and_device"),
        ]

    def __str__(self) -> str:
        return self.message


class AlarmEvent(models.Model):
    """One change of an alarm (raised, acknowledged, cleared, assigned, commented). Never edited:
    each is anchored in the evidence ledger."""

    alarm = models.ForeignKey(Alarm, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    action = models.CharField(max_length=16)
    comment = models.TextField(blank=True)
    state = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.alarm_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
