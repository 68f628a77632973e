"""Live dashboards (site and village water: big numbers, offline badges, chart data, htmx live part,
map fallback) and the device and alarm APIs (detail with readings; acknowledge, assign, comment and
clear through the alarm services; scoped)."""

from __future__ import annotations

import datetime as dt
import json

from django.db import transaction
from django.test import Client
from django.utils import timezone

from minsheng.ledger.models import Leaf
from minsheng.telemetry import alarms, storage
from minsheng.telemetry.models import Alarm, AlarmEvent
from minsheng.telemetry.tests.conftest import make_device
from minsheng.telemetry.validation import Row


def store(device, metric: str, values: list[tuple[dt.datetime, float]]) -> None:
    """Readings as ingest leaves them (ingest itself is tested in test_ingest): rows, roll-ups, last seen."""
    with transaction.atomic():
        storage.insert([Row(device.pk, at, metric, v) for at, v in values], received_at=timezone.now())
    device.last_seen_at = max(at for at, _v in values)
    device.save(update_fields=["last_seen_at"])


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _data(body: str) -> dict:
    start = body.index('id="dashboard-data"')
    start = body.index(">", start) + 1
    return json.loads(body[start:body.index("</script>", start)])


def _water_village(project):
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    meter, _ = make_device(project, kind="water_meter", household="李秀英", latitude="29.874", longitude="119.958")
    dry, _ = make_device(project, kind="water_meter", household="王建国", latitude="29.875", longitude="119.959")
    quality, _ = make_device(project, kind="water_quality", name="末梢水质", latitude="29.876", longitude="119.957")
    store(meter, "flow", [(now - dt.timedelta(hours=h), 3.0) for h in range(24)])
    store(dry, "flow", [(now - dt.timedelta(hours=h), 0.0 if h % 3 else 5.0) for h in range(24)])
    store(quality, "turbidity", [(now, 0.4)])
    store(quality, "chlorine", [(now, 0.3)])
    return meter, dry, quality, now


def test_village_water_page_says_in_plain_words_how_many_leak_and_whether_the_water_is_ok(project, org):
    meter, dry, quality, _now = _water_village(project)
    body = _client(org.user("a_housing")).get(f"/console/projects/{project.pk}/water/").content.decode()
    leaks = body[body.index('id="today-leaks"'):body.index('id="quality-verdict"')]
    assert '<span class="value">1</span>' in leaks  # one household has had no dry hour today
    assert "李秀英家" in body and "王建国家" not in body
    verdict = body[body.index('id="quality-verdict"'):]
    assert "合格" in verdict[:400] and "不合格" not in verdict[:400]
    data = _data(body)
    assert {c["id"] for c in data["charts"]} == {"chart-water_quality"}
    assert {p["name"] for p in data["points"]} == {meter.name, dry.name, quality.name}
    assert "未配置底图" in body  # no tile URL: the plain fallback, nothing fetched from the internet
    assert 'src="http' not in body and "href=\"http" not in body


def test_water_quality_is_not_ok_while_a_quality_alarm_is_active(project, org):
    _meter, _dry, quality, now = _water_village(project)
    Alarm.objects.create(alarm_type="gb5749-chlorine", device=quality, project=project, severity="major",
                         message="余氯偏低", first_at=now, last_at=now)
    body = _client(org.user("a_housing")).get(f"/console/projects/{project.pk}/water/?live=1").content.decode()
    assert body.startswith('<div id="live"') and "hx-trigger=\"every 30s\"" in body  # the live part alone
    verdict = body[body.index('id="quality-verdict"'):]
    assert "不合格" in verdict[:400]


def test_tile_url_setting_reaches_the_map(project, org, settings):
    settings.MINSHENG_MAP_TILE_URL = "/tiles/{z}/{x}/{y}.png"
    body = _client(org.user("a_housing")).get(f"/console/projects/{project.pk}/site/").content.decode()
    assert 'data-tiles="/tiles/{z}/{x}/{y}.png"' in body and "未配置底图" not in body


def test_site_dashboard_counts_offline_devices_and_open_alarms(noise, project, org):
    device, _token = noise
    now = timezone.now()
    store(device, "laeq", [(now - dt.timedelta(minutes=m), 99.0) for m in range(0, 120, 15)])
    _alarm(device)
    silent, _t = make_device(project, name="西侧噪声")
    c = _client(org.user("a_housing"))
    body = c.get(f"/console/projects/{project.pk}/site/").content.decode()
    assert 'id="n-devices">2<' in body and 'id="n-offline">1<' in body and 'id="n-alarms">1<' in body
    assert "badge-offline" in body and "badge-online" in body
    chart = _data(body)["charts"][0]
    assert chart["id"] == "chart-noise" and {s["name"] for s in chart["series"]} == {device.name, silent.name}
    assert any(s["data"] for s in chart["series"])
    assert _client(org.user("b_housing")).get(f"/console/projects/{project.pk}/site/").status_code == 404


def test_charts_are_hourly_means_from_the_roll_ups_and_outlive_raw_retention(noise, project, org):
    from minsheng.telemetry.models import Reading

    device, _token = noise
    hour = timezone.localtime().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=2)
    store(device, "laeq", [(hour + dt.timedelta(minutes=m), v) for m, v in ((1, 50.0), (20, 60.0), (40, 70.0))])
    Reading.objects.all().delete()  # raw readings past retention: the hour roll-up stays
    body = _client(org.user("a_housing")).get(f"/console/projects/{project.pk}/site/").content.decode()
    series = {s["name"]: s["data"] for s in _data(body)["charts"][0]["series"]}
    assert len(series[device.name]) == 1 and series[device.name][0][1] == 60.0


# --- API ---------------------------------------------------------------------------------------


def _alarm(device):
    now = timezone.now()
    with transaction.atomic():
        return alarms.raise_or_update(device=device, alarm_type="gb12523-day", severity="major",
                                      message="场界噪声 99 dB(A) 超过限值 70", value=99.0, at=now)


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_device_detail_has_latest_values_and_recent_readings(noise, org):
    device, _token = noise
    now = timezone.now().replace(microsecond=0)
    store(device, "laeq", [(now - dt.timedelta(minutes=m), 55.0 + m) for m in range(5)])
    r = _client(org.user("a_housing")).get(f"/api/v1/devices/{device.pk}?limit=3")
    assert r.status_code == 200
    body = r.json()
    assert body["device_id"] == device.device_id and body["offline"] is False
    assert [x["value"] for x in body["readings"]] == [55.0, 56.0, 57.0]
    assert body["latest"] == [{"metric": "laeq", "unit": "dB(A)", "time": body["latest"][0]["time"], "value": 55.0}]
    assert _client(org.user("b_housing")).get(f"/api/v1/devices/{device.pk}").status_code == 404


def test_alarm_is_acknowledged_commented_assigned_and_cleared_through_the_services(
        noise, org, django_capture_on_commit_callbacks):
    device, _token = noise
    alarm = _alarm(device)
    c = _client(org.user("a_housing"))
    base = f"/api/v1/alarms/{alarm.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(c, base + "/acknowledge", {"comment": "已通知施工单位"}).json()["acknowledged"] is True
        commented = _post(c, base + "/comments", {"comment": "施工单位已停工整改"})
        assert commented.status_code == 201
        assigned = _post(c, base + "/assign", {"assignee": org.user("a_supervisor").pk})
        assert assigned.status_code == 400  # the supervisor is not on this project: cannot see it
        assert _post(c, base + "/assign", {"assignee": org.user("a_leader").pk}).json()["assignee_id"] == \
            org.user("a_leader").pk
        cleared = _post(c, base + "/clear", {"comment": "复测达标"})
    assert cleared.status_code == 200
    body = cleared.json()
    assert body["closed"] is True and [e["action"] for e in body["history"]] == [
        "raise", "acknowledge", "comment", "assign", "clear"]
    # each change made through the API is anchored (the raise happened before the capture)
    assert Leaf.objects.filter(record_model="telemetry.alarmevent").count() == 4
    assert AlarmEvent.objects.exclude(action="raise").count() == 4
    again = _post(c, base + "/acknowledge", {})
    assert again.status_code == 409


def test_bad_alarm_actions_are_refused_and_write_nothing(noise, org):
    device, _token = noise
    alarm = _alarm(device)
    c = _client(org.user("a_housing"))
    base = f"/api/v1/alarms/{alarm.pk}"
    assert _post(c, base + "/clear", {"comment": " "}).status_code == 400
    assert _post(c, base + "/comments", {"comment": ""}).status_code == 400
    unknown = _post(c, base + "/assign", {"assignee": 999999})
    assert unknown.status_code == 400 and "assignee" in unknown.json()["error"]["fields"]
    assert _post(_client(org.user("a_leader")), base + "/acknowledge", {}).status_code == 403
    assert _post(_client(org.user("b_housing")), base + "/acknowledge", {}).status_code == 404
    assert AlarmEvent.objects.filter(alarm=alarm).count() == 1  # only "raise"
    alarm.refresh_from_db()
    assert not alarm.acknowledged and alarm.status == "active"
