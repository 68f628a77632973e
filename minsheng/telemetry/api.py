"""Telemetry API: HTTP batch ingest (device credentials, no user session) and scoped device and
alarm lists."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from minsheng.core.errors import NotAuthenticated, ValidationFailed
from minsheng.projects.selectors import project_get
from minsheng.telemetry import ingest, selectors
from minsheng.telemetry.models import RejectReason
from minsheng.telemetry.schemas import AlarmOut, DeviceOut, TelemetryIn, TelemetryOut

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
