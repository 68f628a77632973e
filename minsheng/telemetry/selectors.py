"""Reads for devices and alarms, always through the projects a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from minsheng.core.errors import NotFound
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible
from minsheng.telemetry.models import Alarm, Device, Reading


def devices_visible(user: Any) -> QuerySet[Device]:
    return Device.objects.filter(project__in=projects_visible(user)).select_related("project")


def devices_for(project: Project) -> QuerySet[Device]:
    return project.devices.order_by("kind", "device_id")


def alarms_visible(user: Any, *, open_only: bool = False) -> QuerySet[Alarm]:
    qs = Alarm.objects.filter(project__in=projects_visible(user)).select_related("device", "project", "assignee")
    return qs.filter(closed=False) if open_only else qs


def alarms_for(project: Project) -> QuerySet[Alarm]:
    return project.alarms.select_related("device", "assignee").order_by("closed", "-last_at", "-id")


def alarm_get(user: Any, *, pk: int) -> Alarm:
    alarm = alarms_visible(user).select_related("project__division", "project__responsible_person").filter(
        pk=pk).first()
    if alarm is None:
        raise NotFound()
    return alarm


def device_get(user: Any, *, pk: int) -> Device:
    device = devices_visible(user).filter(pk=pk).first()
    if device is None:
        raise NotFound()
    return device


def latest_readings(device: Device, *, limit: int = 50) -> QuerySet[Reading]:
    return device.readings.order_by("-time")[:limit]


def water_dashboard(project: Project, *, now: Any = None) -> dict[str, Any]:
    """The village water page: each household meter's 24-hour verdict, the district meter's night
    minimum flow last night, and the latest water quality."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from minsheng.core.jurisdiction import rule_for
    from minsheng.telemetry import leaks
    from minsheng.telemetry.metrics import DeviceKind

    now = now or timezone.now()
    since = now - dt.timedelta(hours=48)
    devices = list(project.devices.filter(kind__in=[DeviceKind.WATER_METER, DeviceKind.FLOW_METER,
                                                   DeviceKind.WATER_QUALITY]).order_by("kind", "device_id"))
    series: dict[int, list[tuple[Any, float]]] = {d.pk: [] for d in devices}
    latest: dict[tuple[int, str], float] = {}
    for device_id, metric, at, value in (Reading.objects.filter(device__in=devices, time__gte=since)
                                         .order_by("time").values_list("device_id", "metric", "time", "value")):
        if metric == "flow":
            series[device_id].append((timezone.localtime(at), value))
        latest[(device_id, metric)] = value
    allowance = float(Decimal(str(rule_for("telemetry.night_flow_allowance_m3h", project.division).value)))
    last_night = timezone.localtime(now).date() if timezone.localtime(now).hour >= leaks.NIGHT_TO else (
        timezone.localtime(now).date() - dt.timedelta(days=1))
    households, districts, quality = [], [], []
    for d in devices:
        if d.kind == DeviceKind.WATER_METER:
            households.append({"device": d, "verdict": leaks.no_zero_flow_hour(series[d.pk], timezone.localtime(now))})
        elif d.kind == DeviceKind.FLOW_METER:
            districts.append({"device": d, "mnf": leaks.night_minimum_flow(series[d.pk], last_night,
                                                                           allowance=allowance)})
        else:
            quality.append({"device": d, "turbidity": latest.get((d.pk, "turbidity")),
                            "chlorine": latest.get((d.pk, "chlorine"))})
    return {"households": households, "districts": districts, "quality": quality, "allowance": allowance,
            "alarms": alarms_for(project).filter(closed=False, device__in=devices)}
