"""Writes to the device registry. (Readings are written by `ingest`, alarms by `alarms`.)"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.models import User
from minsheng.core import audit
from minsheng.core.errors import NotFound, PermissionDenied, ValidationFailed
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible
from minsheng.projects.services import can_manage
from minsheng.telemetry.metrics import DeviceKind
from minsheng.telemetry.models import Device

_DEVICE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{2,63}$")


@transaction.atomic
def device_register(*, actor: User | None, project: Project, device_id: str, kind: str, name: str,
                    location: str = "", latitude: Any = None, longitude: Any = None, household: str = "",
                    offline_after_minutes: int = 30) -> tuple[Device, str]:
    """Register a device and issue its credential (returned once; only the hash is kept). `actor`
    None means the operator at the command line (`minsheng simulate`), recorded as the system."""
    if actor is not None:
        if not projects_visible(actor).filter(pk=project.pk).exists():
            raise NotFound()
        if not can_manage(actor, project):
            raise PermissionDenied()
    errors: dict[str, list[Any]] = {}
    if not _DEVICE_ID.match(device_id or ""):
        errors["device_id"] = [_("设备编号须为 3–64 位小写字母、数字、下划线或连字符。")]
    if kind not in DeviceKind.values:
        errors["kind"] = [_("设备类型无效。")]
    if not (name or "").strip():
        errors["name"] = [_("请填写名称。")]
    if not 1 <= int(offline_after_minutes) <= 10080:
        errors["offline_after_minutes"] = [_("离线判定须在 1 分钟到 7 天之间。")]
    if errors:
        raise ValidationFailed(fields=errors)
    device = Device(device_id=device_id, kind=kind, name=name.strip()[:128], project=project,
                    location=location.strip()[:128], latitude=latitude, longitude=longitude,
                    household=household.strip()[:64], offline_after_minutes=offline_after_minutes)
    raw = device.set_credential()
    try:
        with transaction.atomic():
            device.save()
    except IntegrityError:
        raise ValidationFailed(fields={"device_id": [_("该设备编号已登记。")]}) from None
    audit.record(actor=actor, action="device.register", obj=device,
                 after=audit.snapshot(device, ["device_id", "kind", "name", "project_id", "location"]),
                 project_code=project.code, division_path=project.division_path)
    return device, raw


@transaction.atomic
def device_rotate_credential(*, actor: User | None, device: Device) -> str:
    if actor is not None and not can_manage(actor, device.project):
        raise PermissionDenied()
    device = Device.objects.select_for_update().get(pk=device.pk)
    raw = device.set_credential()
    device.save(update_fields=["credential_hash"])
    audit.record(actor=actor, action="device.rotate_credential", obj=device, project_code=device.project.code,
                 division_path=device.project.division_path)
    return raw
