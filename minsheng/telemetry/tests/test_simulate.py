"""The simulator's value model, and one tick through the real broker into the database."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from zoneinfo import ZoneInfo

from django.core.management import call_command

from minsheng.telemetry import leaks, rules, simulate
from minsheng.telemetry.models import Device, Reading
from minsheng.telemetry.mqtt_ingest import Ingestor
from minsheng.telemetry.tests.test_mqtt import _drain, _forget_session

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.datetime(2026, 11, 18, 0, 0, tzinfo=SH)  # a Wednesday


def _series(spec, hours=24, metric="flow"):
    rng = random.Random(1)
    out = []
    for m in range(0, hours * 60, 15):
        at = DAY + dt.timedelta(minutes=m)
        out += [(at, r["value"]) for r in simulate.readings_for(spec, at, rng) if r["metric"] == metric]
    return out


def test_leaking_household_never_has_a_dry_hour_and_others_do():
    plan = {d.device_id: d for d in simulate.PLAN["water"]}
    end = DAY + dt.timedelta(hours=24)
    assert leaks.no_zero_flow_hour(_series(plan["{case}-meter-2"]), end).suspected
    assert not leaks.no_zero_flow_hour(_series(plan["{case}-meter-1"]), end).suspected
    mnf = leaks.night_minimum_flow(_series(plan["{case}-district-1"]), DAY.date(), allowance=0.5)
    assert mnf.suspected


def test_elderly_site_works_at_night_and_every_value_is_valid():
    from minsheng.telemetry.metrics import METRICS

    night_work = next(d for d in simulate.PLAN["elderly"] if d.behaviour == "night_work")
    noisy = [v for at, v in _series(night_work, metric="laeq") if at.hour >= 22]
    assert noisy and min(noisy) > 55  # above the GB 12523 night limit
    rng = random.Random(3)
    for case in simulate.PLAN:
        for spec in simulate.PLAN[case]:
            for r in simulate.readings_for(spec, DAY + dt.timedelta(hours=23), rng):
                m = METRICS[spec.kind][r["metric"]]
                assert r["unit"] == m.unit and m.low <= r["value"] <= m.high
    assert simulate.readings_for(next(d for d in simulate.PLAN["water"] if d.behaviour == "dead"), DAY, rng) == []
    assert rules.OFFLINE == "device_offline"


def test_one_tick_over_mqtt_reaches_the_database(project):
    client_id = f"test-sim-{uuid.uuid4().hex[:8]}"
    ing = Ingestor(client_id=client_id, group=f"g{uuid.uuid4().hex[:8]}", batch_seconds=0.3)
    ing.start()
    try:
        assert ing.subscribed.wait(5)
        call_command("simulate", "--project", f"water={project.code}", "--ticks", "1", "--interval", "0")
        assert Device.objects.filter(project=project).count() == len(simulate.PLAN["water"])
        got = _drain(ing, len(simulate.PLAN["water"]) - 1)  # the dead meter sends nothing
    finally:
        ing.stop()
        _forget_session(client_id)
    assert len(got) == len(simulate.PLAN["water"]) - 1
    # three live household meters (flow), the district meter (flow), the quality probe (turbidity, chlorine)
    assert Reading.objects.filter(device__project=project).count() == 6


def test_the_demo_site_breaks_pm10_net_of_its_background_station_and_its_stuck_sensor_is_caught(project):
    from django.utils import timezone

    from minsheng.telemetry import watch
    from minsheng.telemetry.ingest import ingest
    from minsheng.telemetry.management.commands.simulate import provision
    from minsheng.telemetry.models import Alarm, BackgroundStation

    fleet = provision(project, "elderly")
    station = BackgroundStation.objects.get()
    assert station.device.device_id == "elderly-dust-bg" and project.division.path.startswith(station.division.path)
    day = timezone.localtime() - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    start = day.replace(hour=10, minute=0, second=0, microsecond=0)
    rng = random.Random(11)
    wanted = {"elderly-dust-1", "elderly-dust-bg", "elderly-noise-2"}
    messages = [{"device": device.device_id, "token": raw,
                 "readings": simulate.readings_for(spec, start + dt.timedelta(minutes=m), rng)}
                for m in range(60) for spec, device, raw in fleet if device.device_id in wanted]
    now = start + dt.timedelta(hours=1, minutes=5)
    assert ingest(messages, now=now).rejected == {}
    watch.check_windowed_rules(now=now)
    assert Alarm.objects.filter(device__device_id="elderly-dust-1", alarm_type="pm10_net").exists()
    watch.run_detectors(now=start + dt.timedelta(minutes=61))
    assert list(Alarm.objects.filter(alarm_type="suspect_stuck").values_list("device__device_id", flat=True)) == [
        "elderly-noise-2"]
