"""Core models: the division tree, departments, the audit trail, per-jurisdiction settings,
in-app notifications and the scheduler lock."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.IntegerChoices):
    PROVINCE = 1, _("省")
    CITY = 2, _("市")
    COUNTY = 3, _("县/区")
    TOWNSHIP = 4, _("乡镇/街道")
    VILLAGE = 5, _("村/社区")


# Statistical code length per level: GB/T 2260 gives 6 digits down to county; the statistical
# division codes extend them to 9 (township) and 12 (village/community) digits.
CODE_LENGTH = {
    DivisionLevel.PROVINCE: 6,
    DivisionLevel.CITY: 6,
    DivisionLevel.COUNTY: 6,
    DivisionLevel.TOWNSHIP: 9,
    DivisionLevel.VILLAGE: 12,
}


class Division(models.Model):
    """One administrative division. `path` is the chain of ids from the root (`/1/7/42/`) so a
    whole subtree is one indexed prefix query."""

    code = models.CharField(_("统计代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.PositiveSmallIntegerField(_("层级"), choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def region_code(self) -> str:
        """The 6-digit GB/T 2260 code of this division's county (or itself above county)."""
        return self.code[:6]

    def is_within(self, other: Division) -> bool:
        """True when self is `other` or lies below it."""
        return self.path.startswith(other.path)


class DepartmentKind(models.TextChoices):
    DRC = "drc", _("发展改革")
    FINANCE = "finance", _("财政")
    HOUSING = "housing", _("住房和城乡建设")
    TRANSPORT = "transport", _("交通运输")
    EDUCATION = "education", _("教育")
    HEALTH = "health", _("卫生健康")
    CIVIL = "civil", _("民政")
    WATER = "water", _("水利")
    ECOLOGY = "ecology", _("生态环境")
    AUDIT = "audit", _("审计")
    NATURAL_RESOURCES = "natres", _("自然资源")
    AGRICULTURE = "agri", _("农业农村")
    CULTURE = "culture", _("文化和旅游")
    SPORT = "sport", _("体育")
    HR = "hr", _("人力资源和社会保障")
    EMERGENCY = "emergency", _("应急管理")
    DATA = "data", _("数据资源")
    PETITION = "petition", _("信访")
    DISABLED = "disabled", _("残联")
    GOVOFFICE = "govoffice", _("政府办公室")
    TOWNSHIP = "township", _("乡镇人民政府/街道办事处")


# Departments whose officers oversee every project in their division subtree, whatever its lead:
# the investment authority approves the gates, finance pays, audit checks.
OVERSEEING_KINDS = frozenset(
    {DepartmentKind.DRC, DepartmentKind.FINANCE, DepartmentKind.AUDIT, DepartmentKind.GOVOFFICE}
)


class Department(models.Model):
    division = models.ForeignKey(
        Division, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="departments"
    )
    kind = models.CharField(_("部门类别"), max_length=16, choices=DepartmentKind.choices)
    name = models.CharField(_("名称"), max_length=64)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["division__code", "kind"]
        constraints = [models.UniqueConstraint(fields=["division", "kind"], name="department_one_kind_per_division")]

    def __str__(self) -> str:
        return self.name


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("The audit trail is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit trail is append-only.")


class AuditEvent(models.Model):
    """One write made through a service. Append-only: the model refuses updates and deletes, and a
    database trigger (see the migration) refuses them from any other client too."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人"), max_length=128)
    actor_role = models.CharField(_("角色"), max_length=32, blank=True)
    action = models.CharField(_("操作"), max_length=64)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象编号"), max_length=64)
    object_repr = models.CharField(_("对象"), max_length=255)
    project_code = models.CharField(_("项目代码"), max_length=24, blank=True, db_index=True)
    division_path = models.CharField(max_length=255, blank=True, db_index=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit trail is append-only.")


class JurisdictionSetting(models.Model):
    """A rule that varies by place (thresholds, approval tiers …), versioned and sourced.
    The setting that applies to a division is the one on its nearest ancestor (or itself), valid
    on the date in question; a row with no division is the national default."""

    key = models.CharField(_("规则"), max_length=64, db_index=True)
    division = models.ForeignKey(Division, verbose_name=_("适用区划"), null=True, blank=True, on_delete=models.PROTECT)
    value = models.JSONField(_("取值"))
    source = models.CharField(_("依据"), max_length=255)
    needs_verification = models.BooleanField(_("待核实"), default=False)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("地方规则")
        verbose_name_plural = _("地方规则")
        ordering = ["key", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.key} @ {self.division or _('全国')} ({self.valid_from})"


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=48)
    text = models.CharField(max_length=255)
    link = models.CharField(max_length=255, blank=True)
    dedupe_key = models.CharField(max_length=128, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=~models.Q(dedupe_key=""), name="notification_dedupe"
            )
        ]

    def __str__(self) -> str:
        return self.text


class SchedulerLock(models.Model):
    """Only one `minsheng scheduler` may run: the holder refreshes `heartbeat_at`; another
    scheduler takes over only when the heartbeat is stale."""

    name = models.CharField(max_length=32, primary_key=True)
    holder = models.CharField(max_length=128)
    heartbeat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.holder}"
