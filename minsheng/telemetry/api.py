"""Telemetry API: HTTP batch ingest (device credentials, no user session); scoped devices (with their
latest readings) and alarms, which people acknowledge, assign, comment on and clear through the
alarm services (telemetry.alarms), never by writing here."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.responses import Status

from minsheng.accounts.models import User
from minsheng.core.errors import NotAuthenticated, ValidationFailed
from minsheng.projects.selectors import project_get
from minsheng.telemetry import alarms, ingest, selectors
from minsheng.telemetry.metrics import METRICS
from minsheng.telemetry.models import RejectReason
from minsheng.telemetry.schemas import (
    AlarmAssignIn,
    AlarmCommentIn,
    AlarmDetailOut,
    AlarmOut,
    DeviceDetailOut,
    DeviceOut,
    TelemetryIn,
    TelemetryOut,
)

router = Router(tags=["telemetry"])
_AUTH_REASONS = {RejectReason.UNKNOWN_DEVICE, RejectReason.BAD_CREDENTIAL}


@router.post("/telemetry", auth=None, response=TelemetryOut,
             summary="Batch ingest; each message carries its device's credential")
def telemetry_ingest(request: HttpRequest, payload: TelemetryIn):
    total = sum(len(m.get("readings") or []) if isinstance(m.get("readings"), list) else 1
                for m in payload.messages)
    if not payload.messages:
        raise ValidationFailed(fields={"messages": [_("请至少提交一条消息。")]})
    if total > settings.TELEMETRY_HTTP_MAX_READINGS:
        raise ValidationFailed(fields={"messages": [
            _("一次最多提交 %(n)d 条读数。") % {"n": settings.TELEMETRY_HTTP_MAX_READINGS}]})
    result = ingest.ingest(payload.messages)
    if result.accepted == 0 and result.rejected and set(result.rejected) <= _AUTH_REASONS:
        raise NotAuthenticated(_("设备未登记或凭据错误。"))
    if result.accepted == 0 and result.rejected:
        labels = [f"{RejectReason(r).label}: {n}" for r, n in sorted(result.rejected.items())]
        raise ValidationFailed(_("读数全部被拒收。"), fields={"readings": labels})
    return {"accepted": result.accepted, "rejected": result.rejected}


@router.get("/projects/{int:project_id}/devices", response=list[DeviceOut])
def device_list(request: HttpRequest, project_id: int):
    return selectors.devices_for(project_get(request.user, pk=project_id))


@router.get("/projects/{int:project_id}/alarms", response=list[AlarmOut])
def alarm_list(request: HttpRequest, project_id: int):
    return selectors.alarms_for(project_get(request.user, pk=project_id))[:200]


@router.get("/devices/{int:device_id}", response=DeviceDetailOut,
            summary="One device: state, the latest value of each metric, recent readings, open alarms")
def device_detail(request: HttpRequest, device_id: int, limit: int = 50):
    device = selectors.device_get(request.user, pk=device_id)
    units = METRICS.get(device.kind, {})
    latest = selectors.latest_values([device])[device.pk]
    device.latest = [{"metric": m, "unit": units[m].unit if m in units else "", "time": t, "value": v}
                     for m, (t, v) in sorted(latest.items())]
    device.recent_readings = list(selectors.latest_readings(device, limit=max(1, min(limit, 500))))
    device.open_alarms = list(selectors.alarms_for(device.project).filter(device=device, closed=False))
    return device


def _alarm_out(request: HttpRequest, pk: int):
    alarm = selectors.alarm_get(request.user, pk=pk)
    alarm.history = list(alarms.alarm_history(alarm))
    return alarm


@router.get("/alarms/{int:alarm_id}", response=AlarmDetailOut, summary="One alarm with its history")
def alarm_detail(request: HttpRequest, alarm_id: int):
    return _alarm_out(request, alarm_id)


@router.post("/alarms/{int:alarm_id}/acknowledge", response=AlarmDetailOut)
def alarm_acknowledge(request: HttpRequest, alarm_id: int, payload: AlarmCommentIn):
    alarms.alarm_acknowledge(actor=request.user, alarm=selectors.alarm_get(request.user, pk=alarm_id),
                             comment=payload.comment)
    return _alarm_out(request, alarm_id)


@router.post("/alarms/{int:alarm_id}/clear", response=AlarmDetailOut,
             summary="Clear an active alarm by hand; the reason (comment) is required")
def alarm_clear(request: HttpRequest, alarm_id: int, payload: AlarmCommentIn):
    alarms.alarm_clear(actor=request.user, alarm=selectors.alarm_get(request.user, pk=alarm_id),
                       comment=payload.comment)
    return _alarm_out(request, alarm_id)


@router.post("/alarms/{int:alarm_id}/comments", response={201: AlarmDetailOut})
def alarm_comment(request: HttpRequest, alarm_id: int, payload: AlarmCommentIn):
    alarms.alarm_comment(actor=request.user, alarm=selectors.alarm_get(request.user, pk=alarm_id),
                         comment=payload.comment)
    return Status(201, _alarm_out(request, alarm_id))


@router.post("/alarms/{int:alarm_id}/assign", response=AlarmDetailOut)
def alarm_assign(request: HttpRequest, alarm_id: int, payload: AlarmAssignIn):
    alarm = selectors.alarm_get(request.user, pk=alarm_id)
    assignee = User.objects.filter(pk=payload.assignee, is_active=True).first()
    if assignee is None:
        raise ValidationFailed(fields={"assignee": [_("人员不存在。")]})
    alarms.alarm_assign(actor=request.user, alarm=alarm, assignee=assignee)
    return _alarm_out(request, alarm_id)
