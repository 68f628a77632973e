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
