"""Console pages: devices, alarms with acknowledge/clear, the village water page."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from minsheng.telemetry.ingest import ingest
from minsheng.telemetry.models import Alarm, Reading
from minsheng.telemetry.tests.conftest import make_device, reading


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _alarm(device, token):
    now = timezone.now()
    ingest([{"device": device.device_id, "token": token, "readings": [reading(value=99, at=now)]}], now=now)
    return Alarm.objects.get(device=device)


def test_alarm_list_is_scoped_and_acknowledge_works(noise, org):
    device, token = noise
    alarm = _alarm(device, token)
    own = _client(org.user("a_housing"))
    assert alarm.message in own.get("/console/alarms/").content.decode()
    assert alarm.message not in _client(org.user("b_housing")).get("/console/alarms/").content.decode()
    assert _client(org.user("b_housing")).get(f"/console/alarms/{alarm.pk}/").status_code == 404
    r = own.post(f"/console/alarms/{alarm.pk}/action/", {"action": "acknowledge", "comment": "已处理"})
    assert r.status_code == 302
    alarm.refresh_from_db()
    assert alarm.acknowledged
    refused = own.post(f"/console/alarms/{alarm.pk}/action/", {"action": "clear", "comment": ""})
    assert refused.status_code == 400 and "须说明原因" in refused.content.decode()
    alarm.refresh_from_db()
    assert alarm.status == "active"


def test_someone_who_may_not_handle_gets_403(noise, org):
    device, token = noise
    alarm = _alarm(device, token)
    r = _client(org.user("a_leader")).post(f"/console/alarms/{alarm.pk}/action/", {"action": "acknowledge"})
    assert r.status_code == 403
    alarm.refresh_from_db()
    assert not alarm.acknowledged


def test_device_list_shows_offline(noise, org):
    device, _token = noise
    body = _client(org.user("a_housing")).get("/console/devices/").content.decode()
    assert device.device_id in body and "离线" in body


def test_water_page_flags_household_without_dry_hour_and_night_flow(project, org):
    meter, mt = make_device(project, kind="water_meter", household="王家")
    district, dtok = make_device(project, kind="flow_meter", name="村总表")
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    ingest([{"device": meter.device_id, "token": mt,
             "readings": [reading("flow", 3.0, "L/h", at=now - dt.timedelta(hours=h)) for h in range(24)]},
            {"device": district.device_id, "token": dtok,
             "readings": [reading("flow", 1.6, "m3/h", at=now - dt.timedelta(hours=h)) for h in range(30)]}],
           now=now)
    assert Reading.objects.count() == 54
    body = _client(org.user("a_housing")).get(f"/console/projects/{project.pk}/water/").content.decode()
    assert "疑似户内漏水" in body and "疑似漏损" in body
    assert _client(org.user("b_housing")).get(f"/console/projects/{project.pk}/water/").status_code == 404
