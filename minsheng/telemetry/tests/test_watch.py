"""In-memory rule evaluation over a batch, small-supply limits, PM10 net of background, the
suspect-sensor detectors and the escalation of unacknowledged alarms."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from minsheng.core.models import Department, DepartmentKind, Notification
from minsheng.ledger.models import Leaf
from minsheng.telemetry import alarms, detectors, watch
from minsheng.telemetry.ingest import ingest
from minsheng.telemetry.models import Alarm, AlarmEvent, AlarmStatus, BackgroundStation, ReadingMinute
from minsheng.telemetry.tests.conftest import make_device, reading
from minsheng.testing.factories import UserFactory, project_in

NOW = timezone.now().replace(microsecond=0)


def _send(device, token, *readings, now=NOW):
    return ingest([{"device": device.device_id, "token": token, "readings": list(readings)}], now=now)


def _day(hour: int, minute: int = 0) -> dt.datetime:
    local = timezone.localtime(NOW)
    return local.replace(hour=hour, minute=minute, second=0)


def test_a_batch_that_breaks_a_limit_and_recovers_raises_then_clears_and_redelivery_counts_nothing(noise):
    device, token = noise
    at = _day(10) if timezone.localtime(NOW).hour >= 11 else _day(10) - dt.timedelta(days=1)
    batch = [reading(value=75, at=at), reading(value=78, at=at + dt.timedelta(seconds=1)),
             reading(value=60, at=at + dt.timedelta(seconds=2))]
    _send(device, token, *batch)
    alarm = Alarm.objects.get(device=device)
    assert (alarm.alarm_type, alarm.count, alarm.value, alarm.status) == ("noise_day", 2, 78.0, AlarmStatus.CLEARED)
    assert list(alarm.events.values_list("action", flat=True)) == ["raise", "clear"]
    _send(device, token, *batch)  # redelivered: stored before, so no rule runs on it again
    alarm.refresh_from_db()
    assert alarm.count == 2 and alarm.events.count() == 2


def test_small_supplies_have_their_own_turbidity_limit(project):
    small, small_token = make_device(project, kind="water_quality", small_supply=True)
    plant, plant_token = make_device(project, kind="water_quality")
    _send(small, small_token, reading("turbidity", 2.0, "NTU", at=NOW))
    _send(plant, plant_token, reading("turbidity", 2.0, "NTU", at=NOW))
    assert list(Alarm.objects.values_list("device_id", "alarm_type")) == [(plant.pk, "turbidity")]
    _send(small, small_token, reading("turbidity", 3.5, "NTU", at=NOW + dt.timedelta(seconds=1)),
          now=NOW + dt.timedelta(seconds=1))
    assert Alarm.objects.get(device=small).alarm_type == "turbidity_small"


# ---------------------------------------------------------------------------------------------
# PM10 net of the background station


def _minutes(device, start: dt.datetime, values: list[float]) -> None:
    for i, v in enumerate(values):
        ReadingMinute.objects.create(device=device, metric="pm10", bucket=start + dt.timedelta(minutes=i), count=1,
                                     total=v, minimum=v, maximum=v)


@pytest.fixture
def dust_site(org, project):
    site, _ = make_device(project, kind="dust")
    station_project = project_in(org, "a", town=False)
    station_device, _ = make_device(station_project, kind="dust", name="区县背景站")
    BackgroundStation.objects.create(division=org.county_a, device=station_device)
    return site, station_device


def test_pm10_is_judged_net_of_the_district_background_station(dust_site):
    site, station = dust_site
    now = watch._floor(NOW, 60) + dt.timedelta(minutes=5)
    hour = watch._floor(now, 60) - dt.timedelta(hours=1)
    _minutes(site, hour, [150.0] * 60)
    _minutes(station, hour, [100.0] * 60)
    assert watch.check_windowed_rules(now=now) == 0  # 150 − 100 = 50 ≤ 80: the dust is the region's
    assert not Alarm.objects.exists()
    ReadingMinute.objects.filter(device=station).update(total=40.0, minimum=40.0, maximum=40.0)
    assert watch.check_windowed_rules(now=now) == 1  # 150 − 40 = 110 > 80
    alarm = Alarm.objects.get(device=site)
    assert (alarm.alarm_type, alarm.value, alarm.count) == ("pm10_net", 110.0, 1)
    assert watch.check_windowed_rules(now=now + dt.timedelta(minutes=5)) == 0  # same window: nothing new
    assert Alarm.objects.get(device=site).count == 1
    assert not Alarm.objects.filter(device=station).exists()  # the station is not judged against itself


def test_pm10_exceedances_beyond_the_daily_allowance_raise_a_daily_alarm(dust_site):
    site, station = dust_site
    now = watch._floor(NOW, 60) + dt.timedelta(minutes=5)
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    hours = int((watch._floor(now, 60) - day_start).total_seconds() // 3600)
    if hours < 3:  # just after midnight: judge yesterday's last hours instead
        now -= dt.timedelta(hours=3)
        hours = 21
    end = watch._floor(now, 60)
    for h in range(3):  # three exceeding hours, the last of them just ended
        start = end - dt.timedelta(hours=h + 1)
        _minutes(site, start, [200.0] * 60)
        _minutes(station, start, [50.0] * 60)
    watch.check_windowed_rules(now=now)
    daily = Alarm.objects.get(device=site, alarm_type="pm10_net_daily")
    assert daily.value == 3.0


# ---------------------------------------------------------------------------------------------
# detectors


def test_stuck_spike_and_drift_detectors():
    assert detectors.stuck([57.3] * 12).suspect
    assert not detectors.stuck([57.3] * 5).suspect  # too few to judge
    assert not detectors.stuck([57.3] * 11 + [57.4]).suspect
    rng = random.Random(7)
    normal = [50 + rng.gauss(0, 1) for _ in range(60)]
    assert not detectors.spike(normal, [max(normal), min(normal)]).suspect
    verdict = detectors.spike(normal, [max(normal), 140.0])
    assert verdict.suspect and verdict.value == 140.0 and verdict.score > detectors.SPIKE_Z
    assert not detectors.spike([57.3] * 60, [57.3]).suspect  # no spread: the stuck detector's case
    reference = {h: 60 + rng.gauss(0, 0.3) for h in range(72)}
    steady = {h: v + 2 for h, v in reference.items()}
    drifting = {h: v + 0.15 * h for h, v in reference.items()}  # 10.7 dB(A) over three days
    assert not detectors.drift(steady, reference, tolerance=5.0).suspect
    verdict = detectors.drift(drifting, reference, tolerance=5.0)
    assert verdict.suspect and 9 < verdict.value < 12


def test_detector_job_flags_a_stuck_sensor_and_clears_it_when_it_moves_again(project):
    stuck, _ = make_device(project)
    fine, _ = make_device(project)
    start = NOW.replace(second=0) - dt.timedelta(minutes=30)
    rng = random.Random(3)
    for i in range(20):
        at = start + dt.timedelta(minutes=i)
        ReadingMinute.objects.create(device=stuck, metric="laeq", bucket=at, count=1, total=57.3, minimum=57.3,
                                     maximum=57.3)
        v = 55 + rng.gauss(0, 2)
        ReadingMinute.objects.create(device=fine, metric="laeq", bucket=at, count=1, total=v, minimum=v, maximum=v)
    out = watch.run_detectors(now=NOW)
    assert out[detectors.STUCK] == 1
    alarm = Alarm.objects.get()
    assert (alarm.device, alarm.alarm_type, alarm.severity) == (stuck, "suspect_stuck", "warning")
    ReadingMinute.objects.filter(device=stuck).update(maximum=59.0)
    watch.run_detectors(now=NOW)
    assert Alarm.objects.get().status == AlarmStatus.CLEARED


# ---------------------------------------------------------------------------------------------
# escalation


def test_unacknowledged_alarms_escalate_to_the_department_head_then_the_coordinator_once(org, noise, settings):
    settings.TELEMETRY_ESCALATION_MINUTES = {"major": 60, "critical": 15, "minor": 240, "warning": 1440}
    device, token = noise
    office = Department.objects.create(division=org.county_a, kind=DepartmentKind.GOVOFFICE, name="青溪区政府办")
    coordinator = UserFactory(username="a_govoffice", department=office, division=org.county_a)
    _send(device, token, reading(value=95, at=NOW))
    alarm = Alarm.objects.get()
    raised = alarm.events.get(action="raise").at
    assert alarms.escalate_unacknowledged(now=raised + dt.timedelta(minutes=59)) == 0
    assert alarms.escalate_unacknowledged(now=raised + dt.timedelta(minutes=61)) == 1
    head = org.user("a_leader")  # the leader in charge of the housing department's county
    assert Notification.objects.filter(recipient=head, kind="alarm.escalated").count() == 1
    assert alarms.escalate_unacknowledged(now=raised + dt.timedelta(minutes=90)) == 0  # idempotent
    assert alarms.escalate_unacknowledged(now=raised + dt.timedelta(minutes=121)) == 1
    assert Notification.objects.filter(recipient=coordinator, kind="alarm.escalated").count() == 1
    assert alarms.escalate_unacknowledged(now=raised + dt.timedelta(days=3)) == 0
    alarm.refresh_from_db()
    assert alarm.escalation_level == 2
    assert AlarmEvent.objects.filter(alarm=alarm, action="escalate").count() == 2


def test_an_acknowledged_alarm_is_not_escalated(noise):
    device, token = noise
    _send(device, token, reading(value=95, at=NOW))
    alarm = Alarm.objects.get()
    alarms.alarm_acknowledge(actor=device.project.responsible_person, alarm=alarm)
    assert alarms.escalate_unacknowledged(now=NOW + dt.timedelta(days=2)) == 0
    assert not Notification.objects.filter(kind="alarm.escalated").exists()


def test_escalation_events_are_anchored_in_the_ledger(noise, django_capture_on_commit_callbacks):
    device, token = noise
    _send(device, token, reading(value=95, at=NOW))
    with django_capture_on_commit_callbacks(execute=True):
        alarms.escalate_unacknowledged(now=NOW + dt.timedelta(days=1))
    events = list(AlarmEvent.objects.filter(action="escalate", alarm__device=device))
    assert len(events) == 2  # a day late: both levels at once
    for event in events:
        assert Leaf.objects.filter(record_model="telemetry.alarmevent", record_id=str(event.pk)).exists()
