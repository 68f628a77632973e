"""The alarm lifecycle (DOMAIN.md): raised by rules on readings or by the offline check; one open alarm
per (type, device), repeat readings update it; acknowledged, cleared, assigned and commented by
people. Every change is an AlarmEvent, audited and anchored in the evidence ledger; the responsible
person is notified when an alarm is raised or assigned."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.accounts.models import User
from minsheng.accounts.roles import Role
from minsheng.core import audit
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.services import notify
from minsheng.ledger.events import anchor_on_commit
from minsheng.projects.models import MemberRole
from minsheng.projects.selectors import is_member, projects_visible
from minsheng.projects.services import can_manage
from minsheng.telemetry import rules as rule_logic
from minsheng.telemetry.models import Alarm, AlarmEvent, AlarmRule, AlarmStatus, Device, Severity
from minsheng.telemetry.validation import Row


def _specs() -> list[rule_logic.RuleSpec]:
    return [
        rule_logic.RuleSpec(r.pk, r.code, r.device_kind, r.metric, r.comparator, r.limit, r.hour_from, r.hour_to,
                            r.severity, r.division.path if r.division_id else None, r.valid_from, r.valid_to)
        for r in AlarmRule.objects.select_related("division")
    ]


def _responsible(device: Device) -> User:
    return device.responsible or device.project.responsible_person


def _event(alarm: Alarm, action: str, *, actor: User | None = None, comment: str = "") -> AlarmEvent:
    state = {"status": alarm.status, "acknowledged": alarm.acknowledged, "closed": alarm.closed,
             "severity": alarm.severity, "assignee": alarm.assignee_id, "value": alarm.value, "count": alarm.count}
    event = AlarmEvent.objects.create(alarm=alarm, actor=actor, action=action, comment=comment, state=state)
    project = alarm.project
    audit.record(actor=actor, action=f"alarm.{action}", obj=alarm, after=state | {"comment": comment},
                 project_code=project.code, division_path=project.division_path)
    anchor_on_commit(kind="alarm_event", project_code=project.code, record=event, actor=actor)
    return event


def _open(alarm_type: str, device: Device) -> Alarm | None:
    return Alarm.objects.select_for_update().filter(alarm_type=alarm_type, device=device, closed=False).first()


def raise_or_update(*, device: Device, alarm_type: str, severity: str, message: str, value: float | None,
                    at: dt.datetime, rule_id: int | None = None) -> Alarm:
    """Inside a transaction. A new alarm, or the open one of this type and device updated."""
    alarm = _open(alarm_type, device)
    if alarm is None:
        try:
            with transaction.atomic():
                alarm = Alarm.objects.create(alarm_type=alarm_type, device=device, project=device.project,
                                             rule_id=rule_id, severity=severity, message=message[:255], value=value,
                                             first_at=at, last_at=at, assignee=_responsible(device))
        except IntegrityError:  # another ingest process opened it just now
            alarm = _open(alarm_type, device)
        else:
            _event(alarm, "raise")
            person, link, text = alarm.assignee, f"/console/alarms/{alarm.pk}/", message[:200]
            transaction.on_commit(lambda: notify(recipient=person, kind="alarm.raised", text=text, link=link))
            return alarm
    alarm.value, alarm.count, alarm.last_at = value, alarm.count + 1, max(alarm.last_at, at)
    fields = ["value", "count", "last_at"]
    if alarm.status == AlarmStatus.CLEARED:  # it came back before anyone acknowledged it
        alarm.status, alarm.cleared_at = AlarmStatus.ACTIVE, None
        alarm.save(update_fields=[*fields, "status", "cleared_at"])
        _event(alarm, "reactivate")
    else:
        alarm.save(update_fields=fields)
    return alarm


def _clear(alarm: Alarm, *, actor: User | None, at: dt.datetime, comment: str = "") -> Alarm:
    alarm.status, alarm.cleared_at = AlarmStatus.CLEARED, at
    alarm.closed = alarm.acknowledged
    alarm.save(update_fields=["status", "cleared_at", "closed"])
    _event(alarm, "clear", actor=actor, comment=comment)
    return alarm


def evaluate(rows: list[Row], *, now: dt.datetime | None = None) -> int:
    """Apply the rules in force to freshly stored readings (inside the ingest transaction). A reading
    within a rule's limit clears that rule's active alarm on the device. Returns alarms touched."""
    if not rows:
        return 0
    specs = _specs()
    devices = {d.pk: d for d in Device.objects.filter(pk__in={r.device_pk for r in rows})
               .select_related("project", "project__responsible_person", "responsible")}
    by_device: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        by_device[row.device_pk].append(row)
    touched = 0
    in_force_cache: dict[tuple[Any, str], dict[str, rule_logic.RuleSpec]] = {}
    for pk, device_rows in by_device.items():
        device = devices[pk]
        for row in sorted(device_rows, key=lambda r: r.time):
            local = timezone.localtime(row.time)
            key = (local.date(), device.project.division_path)
            if key not in in_force_cache:
                in_force_cache[key] = rule_logic.rules_in_force(specs, on=key[0], division_path=key[1])
            in_force = in_force_cache[key]
            for rule in rule_logic.applicable(in_force, kind=device.kind, metric=row.metric, local_hour=local.hour):
                if rule_logic.violated(rule, row.value):
                    message = _("%(device)s：%(metric)s %(value)s 超过限值 %(limit)s（%(code)s）") % {
                        "device": device.name, "metric": row.metric, "value": f"{row.value:g}",
                        "limit": f"{rule.limit:g}", "code": rule.code}
                    raise_or_update(device=device, alarm_type=rule.code, severity=rule.severity, message=message,
                                    value=row.value, at=row.time, rule_id=rule.pk)
                    touched += 1
                else:
                    alarm = Alarm.objects.select_for_update().filter(
                        alarm_type=rule.code, device=device, closed=False, status=AlarmStatus.ACTIVE).first()
                    if alarm is not None:
                        _clear(alarm, actor=None, at=row.time)
                        touched += 1
    return touched


@transaction.atomic
def check_offline(*, now: dt.datetime | None = None) -> int:
    """Raise a device-offline alarm for every active device silent longer than its limit; clear it
    for devices heard from again. Returns alarms raised."""
    now = now or timezone.now()
    raised = 0
    for device in Device.objects.filter(active=True).select_related("project", "project__responsible_person",
                                                                   "responsible"):
        if device.is_offline(now):
            existing = Alarm.objects.filter(alarm_type=rule_logic.OFFLINE, device=device, closed=False,
                                            status=AlarmStatus.ACTIVE).exists()
            if not existing:
                raise_or_update(device=device, alarm_type=rule_logic.OFFLINE, severity=Severity.MAJOR,
                                message=_("%(device)s 离线（超过 %(m)d 分钟未上报）") % {
                                    "device": device.name, "m": device.offline_after_minutes},
                                value=None, at=now)
                raised += 1
        else:
            alarm = Alarm.objects.select_for_update().filter(alarm_type=rule_logic.OFFLINE, device=device,
                                                             closed=False, status=AlarmStatus.ACTIVE).first()
            if alarm is not None:
                _clear(alarm, actor=None, at=now)
    return raised


# ---------------------------------------------------------------------------------------------
# people acting on alarms


def can_handle(user: User, alarm: Alarm) -> bool:
    if not user.is_active:
        return False
    if user.is_superuser or user.role == Role.SYSADMIN or alarm.assignee_id == user.pk:
        return True
    project = alarm.project
    if project.responsible_person_id == user.pk or can_manage(user, project):
        return True
    return user.role == Role.SUPERVISOR and is_member(user, project, MemberRole.SUPERVISOR)


def _locked(actor: User, alarm: Alarm) -> Alarm:
    if not projects_visible(actor).filter(pk=alarm.project_id).exists():
        raise NotFound()
    if not can_handle(actor, alarm):
        raise PermissionDenied(_("您不是该报警的处理人。"))
    alarm = Alarm.objects.select_for_update().select_related("project").get(pk=alarm.pk)
    if alarm.closed:
        raise Conflict(_("该报警已关闭。"))
    return alarm


@transaction.atomic
def alarm_acknowledge(*, actor: User, alarm: Alarm, comment: str = "") -> Alarm:
    alarm = _locked(actor, alarm)
    if alarm.acknowledged:
        raise Conflict(_("该报警已确认。"))
    alarm.acknowledged, alarm.acknowledged_at = True, timezone.now()
    alarm.closed = alarm.status == AlarmStatus.CLEARED
    alarm.save(update_fields=["acknowledged", "acknowledged_at", "closed"])
    _event(alarm, "acknowledge", actor=actor, comment=comment.strip()[:1000])
    return alarm


@transaction.atomic
def alarm_clear(*, actor: User, alarm: Alarm, comment: str = "") -> Alarm:
    alarm = _locked(actor, alarm)
    if alarm.status == AlarmStatus.CLEARED:
        raise Conflict(_("该报警已恢复。"))
    if not comment.strip():
        raise ValidationFailed(fields={"comment": [_("手动解除报警须说明原因。")]})
    return _clear(alarm, actor=actor, at=timezone.now(), comment=comment.strip()[:1000])


@transaction.atomic
def alarm_assign(*, actor: User, alarm: Alarm, assignee: User) -> Alarm:
    alarm = _locked(actor, alarm)
    if not assignee.is_active or not projects_visible(assignee).filter(pk=alarm.project_id).exists():
        raise ValidationFailed(fields={"assignee": [_("处理人须能查看该项目。")]})
    alarm.assignee = assignee
    alarm.save(update_fields=["assignee"])
    _event(alarm, "assign", actor=actor)
    text, link = alarm.message[:200], f"/console/alarms/{alarm.pk}/"
    transaction.on_commit(lambda: notify(recipient=assignee, kind="alarm.assigned", text=text, link=link))
    return alarm


@transaction.atomic
def alarm_comment(*, actor: User, alarm: Alarm, comment: str) -> AlarmEvent:
    alarm = _locked(actor, alarm)
    if not comment.strip():
        raise ValidationFailed(fields={"comment": [_("请填写备注。")]})
    return _event(alarm, "comment", actor=actor, comment=comment.strip()[:1000])


def alarm_history(alarm: Alarm) -> Any:
    return alarm.events.select_related("actor").order_by("at", "id")
