"""minsheng simulate — stream realistic device data for the demo city over MQTT or HTTP."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import paho.mqtt.client as mqtt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from minsheng.core.models import DivisionLevel
from minsheng.projects.models import Project
from minsheng.telemetry import simulate
from minsheng.telemetry.models import BackgroundStation, Device
from minsheng.telemetry.services import device_register, device_rotate_credential


def provision(project: Project, case: str) -> list[tuple[simulate.SimDevice, Device, str]]:
    """Devices of the plan for `case` on `project`, registered if missing; fresh credentials."""
    out = []
    with transaction.atomic():
        for spec in simulate.PLAN[case]:
            device_id = spec.device_id.format(case=case)
            device = Device.objects.filter(device_id=device_id).first()
            if device is None:
                device, raw = device_register(actor=None, project=project, device_id=device_id, kind=spec.kind,
                                              name=spec.name, household=spec.household,
                                              latitude=project.latitude, longitude=project.longitude)
            else:
                raw = device_rotate_credential(actor=None, device=device)
            if spec.behaviour == "background":
                _register_background(project, device)
            out.append((spec, device, raw))
    return out


def _register_background(project: Project, device: Device) -> None:
    """The background station stands for the project's county (or the project's own division above it)."""
    division = project.division
    while division.level > DivisionLevel.COUNTY and division.parent_id:
        division = division.parent
    BackgroundStation.objects.get_or_create(device=device, defaults={"division": division})


class Command(BaseCommand):
    help = "为演示城市的监测设备生成并发送模拟数据（MQTT 或 HTTP）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--transport", choices=["mqtt", "http"], default="mqtt")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="HTTP 方式的平台地址")
        parser.add_argument("--case", action="append", dest="cases", help="演示案例（water、elderly、elevator）")
        parser.add_argument("--project", action="append", dest="projects", default=[],
                            help="CASE=项目代码，用于非演示数据库")
        parser.add_argument("--ticks", type=int, default=0, help="发送轮数（0 为持续发送）")
        parser.add_argument("--interval", type=float, default=5.0, help="每轮间隔秒数")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **opts: Any) -> None:
        from minsheng.demo.city import CASES

        targets: list[tuple[str, str]] = [(c, CASES[c]) for c in (opts["cases"] or [])]
        for pair in opts["projects"]:
            case, _, code = pair.partition("=")
            targets.append((case, code))
        if not targets:
            targets = [(c, CASES[c]) for c in ("water", "elderly")]
        fleet = []
        for case, code in targets:
            if case not in simulate.PLAN:
                raise CommandError(f"unknown case {case!r}; choose from {', '.join(simulate.PLAN)}")
            project = Project.objects.filter(code=code).first()
            if project is None:
                raise CommandError(f"project {code} not found (run `minsheng demo` first)")
            fleet += provision(project, case)
        rng = random.Random(opts["seed"])  # noqa: S311 - simulated data, not security
        client = None
        if opts["transport"] == "mqtt":
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"minsheng-sim-{rng.randrange(10**6)}")
            if settings.MQTT_USERNAME:
                client.username_pw_set(settings.MQTT_USERNAME, settings.MQTT_PASSWORD or None)
            client.connect(settings.MQTT_HOST, settings.MQTT_PORT)
            client.loop_start()
        sent = tick = 0
        try:
            while not opts["ticks"] or tick < opts["ticks"]:
                now = timezone.localtime()
                messages = []
                for spec, device, raw in fleet:
                    readings = simulate.readings_for(spec, now, rng)
                    if readings:
                        messages.append({"device": device.device_id, "token": raw, "readings": readings})
                if client is not None:
                    for msg in messages:
                        topic = f"{settings.MQTT_TOPIC_PREFIX}/{msg['device']}"
                        client.publish(topic, json.dumps(msg), qos=1).wait_for_publish(10)
                else:
                    simulate.send_http(opts["url"], messages)
                sent += sum(len(m["readings"]) for m in messages)
                tick += 1
                self.stdout.write(f"tick {tick}: {len(messages)} devices, {sent} readings sent")
                if not opts["ticks"] or tick < opts["ticks"]:
                    time.sleep(opts["interval"])
        finally:
            if client is not None:
                client.disconnect()
                client.loop_stop()
