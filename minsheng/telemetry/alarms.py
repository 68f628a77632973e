"""The alarm lifecycle (DOMAIN.md): raised by rules on readings or by the offline check; one open alarm
per (type, device), repeat readings update it; acknowledged, cleared, assigned and commented by
people. Every change is an AlarmEvent, audited and anchored in the evidence ledger; the responsible
person is notified when an alarm is raised or assigned."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.accounts.models import User
from minsheng.accounts.roles import Role
from minsheng.core import audit
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.models import Department, DepartmentKind
from minsheng.core.services import notify
from minsheng.ledger.events import anchor_on_commit
from minsheng.projects.models import MemberRole
from minsheng.projects.selectors import is_member, projects_visible
from minsheng.projects.services import can_manage
from minsheng.telemetry import rules as rule_logic
from minsheng.telemetry.models import Alarm, AlarmEvent, AlarmRule, AlarmStatus, Device, Severity
from minsheng.telemetry.validation import Row


def rule_specs() -> list[rule_logic.RuleSpec]:
    return [
        rule_logic.RuleSpec(r.pk, r.code, r.device_kind, r.metric, r.comparator, r.limit, r.hour_from, r.hour_to,
                            r.severity, r.division.path if r.division_id else None, r.valid_from, r.valid_to,
                            r.window_minutes, r.net_of_background, r.daily_allowance, r.small_supply)
        for r in AlarmRule.objects.select_related("division")
    ]


def _responsible(device: Device) -> User:
    return device.responsible or device.project.responsible_person


def _event(alarm: Alarm, action: str, *, actor: User | None = None, comment: str = "") -> AlarmEvent:
    state = {"status": alarm.status, "acknowledged": alarm.acknowledged, "closed": alarm.closed,
             "severity": alarm.severity, "assignee": alarm.assignee_id, "value": alarm.value, "count": alarm.count,
             "escalation": alarm.escalation_level}
    event = AlarmEvent.objects.create(alarm=alarm, actor=actor, action=action, comment=comment, state=state)
    project = alarm.project
    audit.record(actor=actor, action=f"alarm.{action}", obj=alarm, after=state | {"comment": comment},
                 project_code=project.code, division_path=project.division_path)
    anchor_on_commit(kind="alarm_event", project_code=project.code, record=event, actor=actor)
    return event


def _open(alarm_type: str, device: Device) -> Alarm | None:
    return Alarm.objects.select_for_update().filter(alarm_type=alarm_type, device=device, closed=False).first()


def raise_or_update(*, device: Device, alarm_type: str, severity: str, message: str, value: float | None,
                    at: dt.datetime, rule_id: int | None = None, repeats: int = 1,
                    first_at: dt.datetime | None = None) -> Alarm:
    """Inside a transaction. A new alarm, or the open one of this type and device updated. `repeats`
    readings in a row broke the rule, the first at `first_at`, the last (value `value`) at `at`."""
    alarm = _open(alarm_type, device)
    if alarm is None:
        try:
            with transaction.atomic():
                alarm = Alarm.objects.create(alarm_type=alarm_type, device=device, project=device.project,
                                             rule_id=rule_id, severity=severity, message=message[:255], value=value,
                                             count=repeats, first_at=first_at or at, last_at=at,
                                             assignee=_responsible(device))
        except IntegrityError:  # another ingest process opened it just now
            alarm = _open(alarm_type, device)
        else:
            _event(alarm, "raise")
            person, link, text = alarm.assignee, f"/console/alarms/{alarm.pk}/", message[:200]
            transaction.on_commit(lambda: notify(recipient=person, kind="alarm.raised", text=text, link=link))
            return alarm
    alarm.value, alarm.count, alarm.last_at = value, alarm.count + repeats, max(alarm.last_at, at)
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


def _device_infos(pks: set[int]) -> dict[int, Any]:
    from minsheng.telemetry.ingest import DeviceInfo

    return {v[0]: DeviceInfo(*v) for v in Device.objects.filter(pk__in=pks).values_list(
        "pk", "device_id", "kind", "credential_hash", "active", "project__division_path", "small_supply")}


class _Outcome(NamedTuple):
    time: dt.datetime
    broken: bool
    value: float
    rule: rule_logic.RuleSpec


def evaluate(rows: list[Row], *, now: dt.datetime | None = None, devices: dict[int, Any] | None = None,
             specs: list[rule_logic.RuleSpec] | None = None) -> int:
    """Apply the per-reading rules in force to freshly stored readings (inside the ingest
    transaction). In memory over the batch: per (device, rule) the readings' outcomes in time order;
    the database is touched only where an alarm opens, repeats or clears (a reading within a rule's
    limit clears that rule's active alarm on the device). `rows` come in time order per device
    (as `storage.insert` returns them). Returns alarms touched."""
    if not rows:
        return 0
    specs = rule_specs() if specs is None else specs
    devices = devices if devices is not None else _device_infos({r.device_pk for r in rows})
    open_active = set(Alarm.objects.filter(closed=False, status=AlarmStatus.ACTIVE,
                                           device_id__in={r.device_pk for r in rows})
                      .values_list("device_id", "alarm_type"))
    tz = timezone.get_current_timezone()
    in_force_cache: dict[tuple[Any, str], dict[str, rule_logic.RuleSpec]] = {}
    # The rules for a reading depend on its device, metric and local hour and day: the rows are taken
    # in groups per device, metric and quarter hour (every time zone's offset is a multiple of 15
    # minutes), and a group is looked at row by row only if its extreme breaks a rule.
    groups: dict[tuple[int, str, int], list[Row]] = defaultdict(list)
    for row in rows:
        groups[(row.device_pk, row.metric, int(row.time.timestamp()) // 900)].append(row)
    outcomes: dict[tuple[int, str], list[_Outcome]] = defaultdict(list)
    for (pk, metric, _quarter), group in groups.items():  # per device and metric in time order
        device, local = devices[pk], group[0].time.astimezone(tz)
        place = (local.date(), device.division_path)
        if place not in in_force_cache:
            in_force_cache[place] = rule_logic.rules_in_force(specs, on=place[0], division_path=place[1])
        rules = rule_logic.applicable(in_force_cache[place], kind=device.kind, metric=metric,
                                      local_hour=local.hour, small_supply=device.small_supply)
        if not rules:
            continue
        values = [r.value for r in group]
        high, low = max(values), min(values)
        for rule in rules:
            key = (pk, rule.code)
            if (key not in open_active and key not in outcomes
                    and not rule_logic.violated(rule, high if rule.comparator == ">" else low)):
                continue  # the usual case: the whole group within the limit and nothing to clear
            outcomes[key].extend(_Outcome(r.time, rule_logic.violated(rule, r.value), r.value, rule) for r in group)
    touched = 0
    for (pk, code), seq in sorted(outcomes.items()):  # the usual case: none (within limits, nothing to clear)
        touched += _apply(pk, code, sorted(seq, key=lambda o: o.time))
    return touched


def _apply(pk: int, code: str, seq: list[_Outcome]) -> int:
    """Run one device's outcomes for one rule against its (locked) open alarm: each run of broken
    readings raises or updates the alarm once, each run back within the limit clears it."""
    device = Device.objects.select_related("project", "project__responsible_person", "responsible").get(pk=pk)
    touched = i = 0
    while i < len(seq):
        j = i
        broken = seq[i].broken
        while j < len(seq) and seq[j].broken == broken:
            j += 1
        run = seq[i:j]
        if broken:
            first, last, rule = run[0], run[-1], run[0].rule
            message = _("%(device)s：%(metric)s %(value)s 超过限值 %(limit)s（%(code)s）") % {
                "device": device.name, "metric": rule.metric, "value": f"{first.value:g}",
                "limit": f"{rule.limit:g}", "code": rule.code}
            if rule.comparator == "<":
                message = _("%(device)s：%(metric)s %(value)s 低于限值 %(limit)s（%(code)s）") % {
                    "device": device.name, "metric": rule.metric, "value": f"{first.value:g}",
                    "limit": f"{rule.limit:g}", "code": rule.code}
            raise_or_update(device=device, alarm_type=code, severity=rule.severity, message=message,
                            value=last.value, at=last.time, rule_id=rule.pk, repeats=len(run), first_at=first.time)
            touched += 1
        else:
            alarm = Alarm.objects.select_for_update().filter(
                alarm_type=code, device=device, closed=False, status=AlarmStatus.ACTIVE).first()
            if alarm is not None:
                _clear(alarm, actor=None, at=run[0].time)
                touched += 1
        i = j
    return touched


def clear_if_active(*, device: Device, alarm_type: str, at: dt.datetime) -> int:
    """Inside a transaction: clear the device's active alarm of this type, if any. Returns 0 or 1."""
    alarm = Alarm.objects.select_for_update().filter(alarm_type=alarm_type, device=device, closed=False,
                                                     status=AlarmStatus.ACTIVE).first()
    if alarm is None:
        return 0
    _clear(alarm, actor=None, at=at)
    return 1


# ---------------------------------------------------------------------------------------------
# escalation of unacknowledged alarms


def _leaders_nearest(path: str, *, strictly_above: bool = False) -> list[User]:
    """The leaders (分管领导) of the nearest division on `path` (the division itself, or only those above it)."""
    leaders = [u for u in User.objects.filter(is_active=True, role=Role.LEADER, division__isnull=False)
               .select_related("division") if path.startswith(u.division.path)
               and not (strictly_above and u.division.path == path)]
    if not leaders:
        return []
    nearest = max(len(u.division.path) for u in leaders)
    return sorted((u for u in leaders if len(u.division.path) == nearest), key=lambda u: u.pk)


def _department(alarm: Alarm) -> Department | None:
    if alarm.assignee_id and alarm.assignee.department_id:
        return alarm.assignee.department
    return alarm.project.lead_department


def department_heads(alarm: Alarm) -> list[User]:
    """The head of the assignee's department (else the project's lead department): a leader in the
    department, else the leader in charge (分管领导) of the department's division."""
    department = _department(alarm)
    if department is None:
        return []
    heads = list(User.objects.filter(is_active=True, role=Role.LEADER, department=department).order_by("pk"))
    return heads or _leaders_nearest(department.division.path)


def division_coordinators(alarm: Alarm) -> list[User]:
    """The government office (政府办公室) staff of the project's division or the nearest division
    above it that has one; else the leaders of the division above the department's."""
    path = alarm.project.division_path
    staff = [u for u in User.objects.filter(is_active=True, department__kind=DepartmentKind.GOVOFFICE)
             .select_related("department__division") if path.startswith(u.department.division.path)]
    if staff:
        nearest = max(len(u.department.division.path) for u in staff)
        return sorted((u for u in staff if len(u.department.division.path) == nearest), key=lambda u: u.pk)
    department = _department(alarm)
    return _leaders_nearest(department.division.path if department else path, strictly_above=True)


ESCALATION_TARGETS = {1: department_heads, 2: division_coordinators}


def escalate_unacknowledged(*, now: dt.datetime | None = None) -> int:
    """An open alarm nobody has acknowledged is escalated after its severity's delay
    (TELEMETRY_ESCALATION_MINUTES) to the assignee's department head, and after twice the delay to
    the division coordinator. Idempotent: each level is reached once (recorded on the alarm, an
    anchored event, notices deduplicated per alarm and level). Returns the escalations made."""
    from django.conf import settings

    now = now or timezone.now()
    delays = settings.TELEMETRY_ESCALATION_MINUTES
    made = 0
    candidates = (Alarm.objects.filter(closed=False, acknowledged=False, escalation_level__lt=len(ESCALATION_TARGETS))
                  .annotate(raised_at=Min("events__at", filter=Q(events__action="raise"))).order_by("pk"))
    for candidate in candidates:
        delay = dt.timedelta(minutes=delays.get(candidate.severity, 60))
        since = candidate.raised_at or candidate.first_at
        due = min(int((now - since) / delay), len(ESCALATION_TARGETS)) if delay else len(ESCALATION_TARGETS)
        if due <= candidate.escalation_level:
            continue
        with transaction.atomic():
            alarm = Alarm.objects.select_for_update(of=("self",)).select_related(
                "project__lead_department__division", "assignee__department__division").get(pk=candidate.pk)
            if alarm.closed or alarm.acknowledged or alarm.escalation_level >= due:
                continue
            for level in range(alarm.escalation_level + 1, due + 1):
                people = ESCALATION_TARGETS[level](alarm)
                text = _("报警超时未确认，已升级：%(m)s") % {"m": alarm.message[:150]}
                link = f"/console/alarms/{alarm.pk}/"
                for person in people:
                    notify(recipient=person, kind="alarm.escalated", text=text, link=link,
                           dedupe_key=f"alarm-escalate:{alarm.pk}:{level}")
                alarm.escalation_level, alarm.escalated_at = level, now
                alarm.save(update_fields=["escalation_level", "escalated_at"])
                _event(alarm, "escalate", comment=", ".join(p.display_name for p in people)[:1000])
                made += 1
    return made


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
