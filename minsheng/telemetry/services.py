"""Writes to the device registry and the districts' background stations. (Readings are written by
`ingest`, alarms by `alarms`.)"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.models import User
from minsheng.accounts.roles import Role
from minsheng.core import audit
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.models import DepartmentKind, Division
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible
from minsheng.projects.services import can_manage
from minsheng.telemetry.metrics import DeviceKind
from minsheng.telemetry.models import BackgroundStation, Device

_DEVICE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{2,63}$")
# Devices on a water supply: only these can belong to a small supply (GB 5749-2022, relaxed limits).
SUPPLY_KINDS = frozenset({DeviceKind.WATER_METER, DeviceKind.FLOW_METER, DeviceKind.WATER_QUALITY})
# Officers who look after a district's air: environment (生态环境) and housing (住建, site dust).
BACKGROUND_KINDS = frozenset({DepartmentKind.ECOLOGY, DepartmentKind.HOUSING})


@transaction.atomic
def device_register(*, actor: User | None, project: Project, device_id: str, kind: str, name: str,
                    location: str = "", latitude: Any = None, longitude: Any = None, household: str = "",
                    offline_after_minutes: int = 30, small_supply: bool = False) -> tuple[Device, str]:
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
    if small_supply and kind not in SUPPLY_KINDS:
        errors["small_supply"] = [_("只有供水类设备（水表、总表、水质监测仪）可以标为小型供水工程。")]
    if errors:
        raise ValidationFailed(fields=errors)
    device = Device(device_id=device_id, kind=kind, name=name.strip()[:128], project=project,
                    location=location.strip()[:128], latitude=latitude, longitude=longitude,
                    household=household.strip()[:64], offline_after_minutes=offline_after_minutes,
                    small_supply=bool(small_supply))
    raw = device.set_credential()
    try:
        with transaction.atomic():
            device.save()
    except IntegrityError:
        raise ValidationFailed(fields={"device_id": [_("该设备编号已登记。")]}) from None
    audit.record(actor=actor, action="device.register", obj=device,
                 after=audit.snapshot(device, ["device_id", "kind", "name", "project_id", "location", "small_supply"]),
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


# ---------------------------------------------------------------------------------------------
# background (reference) air stations: a site's PM10 is judged net of its district's station


def can_manage_background(user: User, division: Division) -> bool:
    """An environment or housing department officer for his division and those below it; a system
    administrator anywhere."""
    if not user.is_active:
        return False
    if user.is_superuser or user.role == Role.SYSADMIN:
        return True
    if user.role != Role.DEPT_OFFICER or user.department_id is None or user.division_id is None:
        return False
    return user.department.kind in BACKGROUND_KINDS and division.path.startswith(user.division.path)


@transaction.atomic
def background_designate(*, actor: User | None, division: Division, device: Device) -> BackgroundStation:
    """Make a dust (PM10) device in `division` its background station, replacing the one it had. A
    device already serving another division is not taken from it. `actor` None is the operator at
    the command line (`minsheng telemetry background`)."""
    if actor is not None and not can_manage_background(actor, division):
        raise PermissionDenied(_("只有本辖区生态环境或住建部门的经办人可以管理背景站。"))
    device = Device.objects.select_for_update().select_related("project").get(pk=device.pk)
    if actor is not None and not can_manage_background(actor, device.project.division):
        raise NotFound()
    errors: dict[str, list[Any]] = {}
    if device.kind != DeviceKind.DUST:
        errors["device"] = [_("背景站须为扬尘（PM10）监测设备。")]
    elif not device.project.division_path.startswith(division.path):
        errors["device"] = [_("背景站设备须位于该区划内。")]
    elif not device.active:
        errors["device"] = [_("该设备已停用。")]
    if errors:
        raise ValidationFailed(fields=errors)
    station = BackgroundStation.objects.filter(device=device).select_related("division").first()
    if station is not None and station.division_id != division.pk:
        raise Conflict(_("该设备已是%(division)s的背景站，请先在那里移除。") % {"division": station.division.name})
    for old in BackgroundStation.objects.filter(division=division).exclude(device=device).select_related("device"):
        _station_removed(actor, old, replaced=True)
    before = audit.snapshot(station) if station is not None else None
    if station is None:
        station = BackgroundStation.objects.create(division=division, device=device, active=True)
    elif not station.active:
        station.active = True
        station.save(update_fields=["active"])
    audit.record(actor=actor, action="background_station.designate", obj=station, before=before,
                 after=audit.snapshot(station) | {"device_id": device.device_id}, division_path=division.path)
    return station


@transaction.atomic
def background_remove(*, actor: User | None, station: BackgroundStation) -> None:
    """Stop using a station: sites in its division are no longer judged net of it (the windowed rule
    cannot be judged until another is designated)."""
    station = BackgroundStation.objects.select_for_update().select_related("division", "device").filter(
        pk=station.pk).first()
    if station is None:
        raise NotFound()
    if actor is not None and not can_manage_background(actor, station.division):
        raise PermissionDenied(_("只有本辖区生态环境或住建部门的经办人可以管理背景站。"))
    _station_removed(actor, station)


def _station_removed(actor: User | None, station: BackgroundStation, *, replaced: bool = False) -> None:
    before = audit.snapshot(station) | {"device_id": station.device.device_id}
    audit.record(actor=actor, action="background_station.replace" if replaced else "background_station.remove",
                 obj=station, before=before, division_path=station.division.path)
    station.delete()
