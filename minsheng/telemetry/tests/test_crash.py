"""kill -9 an ingest process mid-stream, restart it: everything published is stored, nothing twice.
Runs the real `minsheng ingest-mqtt` against the real Mosquitto and a committed test database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from minsheng.telemetry.models import Reading
from minsheng.telemetry.tests.conftest import make_device
from minsheng.telemetry.tests.test_mqtt import _forget_session
from minsheng.testing.factories import build_org, project_in

N = 600  # below Mosquitto's default max_queued_messages (1000) for the offline session


def _env(group: str, prefix: str) -> dict[str, str]:
    env = dict(os.environ, MQTT_SHARE_GROUP=group, MQTT_TOPIC_PREFIX=prefix, TELEMETRY_BATCH_SIZE="50",
               DJANGO_SETTINGS_MODULE="minsheng.settings")
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env["SQLITE_PATH"] = db["NAME"]
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return env


def _start(client_id: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "minsheng.cli", "ingest-mqtt", "--client-id", client_id],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _count(device) -> int:
    return Reading.objects.filter(device=device).count()


def _wait(pred, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.usefixtures("concurrent_db")
def test_kill_9_loses_nothing_and_duplicates_nothing():
    org = build_org()
    device, token = make_device(project_in(org, "a"))
    client_id, group = f"test-crash-{uuid.uuid4().hex[:8]}", f"g{uuid.uuid4().hex[:8]}"
    prefix = f"test-{group}/minsheng/v1/telemetry"  # this run's own topic: no other run's messages
    env = _env(group, prefix)
    base = timezone.now().replace(microsecond=0) - timezone.timedelta(hours=1)

    def message(i: int) -> str:
        at = (base + timezone.timedelta(seconds=i)).isoformat()
        return json.dumps({"device": device.device_id, "token": token,
                           "readings": [{"t": at, "metric": "laeq", "value": 50.0, "unit": "dB(A)"}]})

    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-crash-pub-{uuid.uuid4().hex[:8]}")
    pub.connect(settings.MQTT_HOST, settings.MQTT_PORT)
    pub.loop_start()
    topic = f"{prefix}/{device.device_id}"
    proc = _start(client_id, env)
    try:
        # The first message proves the persistent session and its subscription exist.
        assert _wait(lambda: (pub.publish(topic, message(0), qos=1).wait_for_publish(5) or True)
                     and _count(device) >= 1, 30), "ingest-mqtt did not store the probe message"

        def stream() -> None:
            for i in range(1, N):
                pub.publish(topic, message(i), qos=1).wait_for_publish(5)
                time.sleep(0.002)

        publisher = threading.Thread(target=stream)
        publisher.start()
        assert _wait(lambda: _count(device) >= N // 4, 60)
        proc.send_signal(signal.SIGKILL)  # mid-stream, between or inside batches
        proc.wait(10)
        publisher.join(60)
        killed_at = _count(device)
        assert killed_at < N, "the stream finished before the kill; the test proves nothing"
        proc = _start(client_id, env)
        assert _wait(lambda: _count(device) >= N, 90), f"stored {_count(device)} of {N} after restart"
        time.sleep(1.0)  # anything redelivered late must not add rows either
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        pub.disconnect()
        pub.loop_stop()
        _forget_session(client_id)
    assert _count(device) == N
    assert Reading.objects.filter(device=device).values("time").distinct().count() == N
