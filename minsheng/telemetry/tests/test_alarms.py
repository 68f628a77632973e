"""Rules on ingested readings and the alarm lifecycle."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from minsheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from minsheng.core.models import AuditEvent, Notification
from minsheng.ledger.models import Leaf
from minsheng.telemetry import alarms
from minsheng.telemetry.ingest import ingest
from minsheng.telemetry.models import Alarm, AlarmRule, AlarmStatus
from minsheng.telemetry.tests.conftest import make_device, reading

SH = ZoneInfo("Asia/Shanghai")


def _at(hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate()
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


def _send(device, token, *readings, now=None):
    return ingest([{"device": device.device_id, "token": token, "readings": list(readings)}],
                  now=now or timezone.now())


def test_rules_from_standards_are_seeded_as_data(db):
    rule = AlarmRule.objects.get(code="noise_night")
    assert (rule.limit, rule.hour_from, rule.hour_to, rule.standard) == (55, 22, 6, "GB 12523-2011")
    assert AlarmRule.objects.get(code="chlorine_low").comparator == "<"


def test_night_noise_raises_one_alarm_that_repeats_update(noise, django_capture_on_commit_callbacks):
    device, token = noise
    night = _at(23)
    with django_capture_on_commit_callbacks(execute=True):
        _send(device, token, reading(value=60, at=night), reading(value=62, at=night + dt.timedelta(minutes=1)),
              now=night + dt.timedelta(minutes=2))
    alarm = Alarm.objects.get()
    assert (alarm.alarm_type, alarm.count, alarm.value, alarm.status) == ("noise_night", 2, 62.0, "active")
    assert alarm.assignee == device.project.responsible_person
    assert Notification.objects.filter(recipient=alarm.assignee, kind="alarm.raised").count() == 1
    assert Leaf.objects.filter(record_model="telemetry.alarmevent", kind="alarm_event").count() == 1
    # 60 dB(A) in the day is within the day limit: nothing new.
    _send(device, token, reading(value=60, at=_at(10)), now=_at(10, 1))
    assert Alarm.objects.count() == 1


def test_reading_back_within_limit_clears_and_acknowledging_closes(noise, org):
    device, token = noise
    _send(device, token, reading(value=75, at=_at(10)), now=_at(10, 1))
    _send(device, token, reading(value=65, at=_at(10, 5)), now=_at(10, 6))
    alarm = Alarm.objects.get()
    assert alarm.status == AlarmStatus.CLEARED and not alarm.closed
    with pytest.raises(PermissionDenied):
        alarms.alarm_acknowledge(actor=org.user("a_leader"), alarm=alarm)
    alarm = alarms.alarm_acknowledge(actor=device.project.responsible_person, alarm=alarm, comment="已责令停工")
    assert alarm.acknowledged and alarm.closed
    assert AuditEvent.objects.filter(action="alarm.acknowledge", object_id=str(alarm.pk)).exists()
    with pytest.raises(Conflict):
        alarms.alarm_acknowledge(actor=device.project.responsible_person, alarm=alarm)
    # A new exceedance after closing opens a new alarm.
    _send(device, token, reading(value=80, at=_at(11)), now=_at(11, 1))
    assert Alarm.objects.filter(closed=False).count() == 1 and Alarm.objects.count() == 2


def test_manual_clear_needs_a_reason_and_assignment_needs_visibility(noise, org):
    device, token = noise
    _send(device, token, reading(value=75, at=_at(10)), now=_at(10, 1))
    alarm = Alarm.objects.get()
    officer = org.user("a_housing")
    with pytest.raises(ValidationFailed):
        alarms.alarm_clear(actor=officer, alarm=alarm, comment=" ")
    with pytest.raises(ValidationFailed):
        alarms.alarm_assign(actor=officer, alarm=alarm, assignee=org.user("b_housing"))
    alarms.alarm_assign(actor=officer, alarm=alarm, assignee=org.user("a_inspector"))
    alarms.alarm_comment(actor=officer, alarm=alarm, comment="已电话通知施工单位")
    cleared = alarms.alarm_clear(actor=officer, alarm=alarm, comment="现场核实为误报")
    assert cleared.status == AlarmStatus.CLEARED
    assert [e.action for e in alarms.alarm_history(alarm)] == ["raise", "assign", "comment", "clear"]


def test_water_quality_limits_both_ways(project):
    device, token = make_device(project, kind="water_quality")
    now = timezone.now()
    _send(device, token, reading("chlorine", 0.02, "mg/L", at=now), reading("turbidity", 1.4, "NTU", at=now),
          now=now)
    assert set(Alarm.objects.values_list("alarm_type", flat=True)) == {"chlorine_low", "turbidity"}


def test_silent_devices_raise_offline_alarms_once(noise):
    device, token = noise
    assert alarms.check_offline() == 1 and alarms.check_offline() == 0
    _send(device, token, reading(value=50, at=timezone.now()))
    alarms.check_offline()
    assert Alarm.objects.get(alarm_type="device_offline").status == AlarmStatus.CLEARED
