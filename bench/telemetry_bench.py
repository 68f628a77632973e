"""Telemetry ingest benchmark through the real Mosquitto, on SQLite and PostgreSQL.

    .venv/bin/python bench/telemetry_bench.py --db postgres --db sqlite [--messages 20000 --per-message 10]
        [--pg-name minsheng_telemetry_bench] [--batch-size 1000]

For each database, on a fresh database:
- raw: the broker-to-subscriber rate of a consumer that only counts (QoS 1, shared subscription) —
  the limit for ingest on this machine;
- ingest: `minsheng ingest-mqtt` (one process: validation, rules, storage, acknowledgement after
  commit), readings/s from the first publish to the last reading stored;
- alarm latency: one exceedance per device published one at a time, time until its alarm row exists;
  p50/p95.
- crash: `minsheng ingest-mqtt` killed with SIGKILL mid-stream and restarted with the same persistent
  session; published against stored (lost, duplicated). The same check runs in the test suite
  (`minsheng/telemetry/tests/test_crash.py`).
Each run uses a topic prefix of its own, so other publishers on the broker do not interfere.

Results: bench/results/telemetry-<db>.json and a section in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "var" / "bench"
PG = "postgres://postgres@127.0.0.1:5432/{name}"
PG_NAME = os.environ.get("BENCH_PG_NAME", "minsheng_telemetry_bench")
if not PG_NAME.replace("_", "").isalnum():
    raise SystemExit("--pg-name: letters, digits and underscores only")
PREFIX = f"bench-{uuid.uuid4().hex[:6]}/minsheng/v1/telemetry"
BROKER_PORT = int(os.environ.get("BENCH_MQTT_PORT", "1883"))
# The bench's own Mosquitto: no other traffic, and no cap on the messages it queues for a slow
# subscriber (the default max_queued_messages 1000 drops QoS 1 messages once a burst outruns ingest;
# operators raise it too, docs/operator-guide.md).
BROKER_CONF = """listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_inflight_messages 0
"""
sys.path.insert(0, str(ROOT))


def _env(db: str) -> dict[str, str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="minsheng.settings", LOG_LEVEL="WARNING", MQTT_TOPIC_PREFIX=PREFIX,
               MQTT_PORT=str(BROKER_PORT))
    if db == "sqlite":
        env["SQLITE_PATH"] = str(WORK / "telemetry.sqlite3")
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = PG.format(name=PG_NAME)
    return env


def _fresh(db: str) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(WORK / "telemetry.sqlite3") + suffix).unlink(missing_ok=True)
    else:
        for sql in (f"DROP DATABASE IF EXISTS {PG_NAME}", f"CREATE DATABASE {PG_NAME}"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", sql], check=True,
                           capture_output=True)
    subprocess.run([sys.executable, "-m", "minsheng.cli", "migrate", "-v", "0"], env=_env(db), check=True)


def _log():
    """Where ingest processes write their errors: var/bench/telemetry-ingest.log."""
    WORK.mkdir(parents=True, exist_ok=True)
    return (WORK / "telemetry-ingest.log").open("a")


def _django(db: str) -> None:
    os.environ.update(_env(db))
    import django

    django.setup()


def _devices(n: int) -> list[tuple[str, str]]:
    from minsheng.telemetry.services import device_register
    from minsheng.testing.factories import build_org, project_in

    project = project_in(build_org(), "a")
    out = []
    for i in range(n):
        device, raw = device_register(actor=None, project=project, device_id=f"bench-{i:04d}", kind="noise",
                                      name=f"噪声 {i}", offline_after_minutes=600)
        out.append((device.device_id, raw))
    return out


def _client(name: str):
    import paho.mqtt.client as mqtt

    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:6]}")


def _forget(client_id: str) -> None:
    """Drop the persistent session, so no stale member of the shared group keeps receiving."""
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    c.connect("127.0.0.1", BROKER_PORT)
    c.disconnect()


def _payloads(devices: list[tuple[str, str]], messages: int, per: int, start: float, value: float) -> list:
    import datetime as dt

    out = []
    for m in range(messages):
        device_id, token = devices[m % len(devices)]
        readings = []
        for r in range(per):
            t = dt.datetime.fromtimestamp(start + m * per + r, dt.UTC).isoformat()
            readings.append({"t": t, "metric": "laeq", "value": value, "unit": "dB(A)"})
        out.append((f"{PREFIX}/{device_id}", json.dumps(
            {"device": device_id, "token": token, "readings": readings})))
    return out


def _publish(payloads: list) -> float:
    pub = _client("bench-pub")
    pub.max_inflight_messages_set(200)
    pub.connect("127.0.0.1", BROKER_PORT)
    pub.loop_start()
    started = time.perf_counter()
    infos = [pub.publish(topic, body, qos=1) for topic, body in payloads]
    for info in infos:
        info.wait_for_publish(60)
    elapsed = time.perf_counter() - started
    pub.disconnect()
    pub.loop_stop()
    return elapsed


def raw_rate(payloads: list) -> dict[str, Any]:
    """A shared-subscription consumer that only counts messages (auto-acknowledged), connected as
    ingest is (MQTT 5, the same Receive Maximum)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from minsheng.telemetry.mqtt_ingest import RECEIVE_MAXIMUM

    group = f"raw{uuid.uuid4().hex[:6]}"
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-raw-{uuid.uuid4().hex[:6]}",
                      protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = RECEIVE_MAXIMUM
    got = {"n": 0, "first": None, "last": None}
    done = threading.Event()
    subscribed = threading.Event()

    def on_message(client, userdata, msg):
        now = time.perf_counter()
        got["first"] = got["first"] or now
        got["last"] = now
        got["n"] += 1
        if got["n"] >= len(payloads):
            done.set()

    sub.on_message = on_message
    sub.on_subscribe = lambda *a, **k: subscribed.set()
    sub.connect("127.0.0.1", BROKER_PORT, properties=props)
    sub.subscribe(f"$share/{group}/{PREFIX}/+", qos=1)
    sub.loop_start()
    subscribed.wait(5)
    started = time.perf_counter()
    _publish(payloads)
    done.wait(120)
    sub.disconnect()
    sub.loop_stop()
    elapsed = (got["last"] or time.perf_counter()) - started
    per = len(json.loads(payloads[0][1])["readings"])
    return {"messages": got["n"], "seconds": round(elapsed, 3),
            "messages_per_s": round(got["n"] / elapsed, 1), "readings_per_s": round(got["n"] * per / elapsed, 1)}


def _count() -> int:
    from django.db import connection

    from minsheng.telemetry.models import Reading

    connection.close()
    return Reading.objects.count()


def _wait_ready(device: tuple[str, str], timeout: float = 120) -> None:
    """Publish probe readings until one is stored: the ingest process is up and subscribed (a
    message published before its subscription exists is not kept for it)."""
    import datetime as dt

    from django.db import connection

    from minsheng.telemetry.models import Reading

    device_id, token = device
    pub = _client("bench-probe")
    pub.connect("127.0.0.1", BROKER_PORT)
    pub.loop_start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            at = dt.datetime.now(dt.UTC) - dt.timedelta(days=5)  # clear of the measured readings' times
            pub.publish(f"{PREFIX}/{device_id}", json.dumps({"device": device_id, "token": token, "readings": [
                {"t": at.isoformat(), "metric": "laeq", "value": 40.0, "unit": "dB(A)"}]}), qos=1).wait_for_publish(5)
            for _ in range(10):
                time.sleep(0.1)
                connection.close()
                if Reading.objects.filter(device__device_id=device_id, time=at).exists():
                    return
    finally:
        pub.disconnect()
        pub.loop_stop()
    raise SystemExit("ingest-mqtt did not come up")


def ingest_rate(db: str, payloads: list, expected: int, probe: tuple[str, str]) -> dict[str, Any]:
    client_id = f"bench-ingest-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen([sys.executable, "-m", "minsheng.cli", "ingest-mqtt", "--client-id", client_id],
                            env=_env(db) | {"MQTT_SHARE_GROUP": client_id}, stdout=subprocess.DEVNULL,
                            stderr=_log())
    try:
        _wait_ready(probe)
        before = _count()
        started = time.perf_counter()
        _publish(payloads)
        deadline = time.monotonic() + 600
        while _count() < before + expected and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        stored = _count() - before
    finally:
        proc.terminate()
        proc.wait(20)
        _forget(client_id)
    return {"readings": stored, "expected": expected, "seconds": round(elapsed, 3),
            "readings_per_s": round(stored / elapsed, 1)}


def alarm_latency(db: str, devices: list[tuple[str, str]], samples: int) -> dict[str, Any]:
    import datetime as dt

    from django.db import connection

    from minsheng.telemetry.models import Alarm

    client_id = f"bench-alarm-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen([sys.executable, "-m", "minsheng.cli", "ingest-mqtt", "--client-id", client_id],
                            env=_env(db) | {"MQTT_SHARE_GROUP": client_id}, stdout=subprocess.DEVNULL,
                            stderr=_log())
    pub = _client("bench-alarm-pub")
    pub.connect("127.0.0.1", BROKER_PORT)
    pub.loop_start()
    latencies = []
    try:
        _wait_ready(devices[-1])
        for device_id, token in devices[:samples]:
            body = json.dumps({"device": device_id, "token": token, "readings": [
                {"t": dt.datetime.now(dt.UTC).isoformat(), "metric": "laeq", "value": 95.0, "unit": "dB(A)"}]})
            started = time.perf_counter()
            pub.publish(f"{PREFIX}/{device_id}", body, qos=1)
            while time.perf_counter() - started < 10:
                connection.close()
                if Alarm.objects.filter(device__device_id=device_id).exists():
                    latencies.append(time.perf_counter() - started)
                    break
                time.sleep(0.005)
    finally:
        proc.terminate()
        proc.wait(20)
        _forget(client_id)
        pub.disconnect()
        pub.loop_stop()
    latencies.sort()
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1)  # noqa: E731
    return {"samples": len(latencies), "p50_ms": pick(0.5), "p95_ms": pick(0.95)}


def crash_test(db: str, devices: list[tuple[str, str]], n: int, start: float) -> dict[str, Any]:
    """Publish n single-reading messages; SIGKILL the ingest process once a quarter is stored;
    restart it with the same client id (its persistent session holds what was not acknowledged)."""
    import signal

    from minsheng.telemetry.models import Reading

    device_id, token = devices[0]
    client_id = f"bench-crash-{uuid.uuid4().hex[:6]}"
    env = _env(db) | {"MQTT_SHARE_GROUP": client_id, "TELEMETRY_BATCH_SIZE": "50"}

    def spawn():
        return subprocess.Popen([sys.executable, "-m", "minsheng.cli", "ingest-mqtt", "--client-id", client_id],
                                env=env, stdout=subprocess.DEVNULL, stderr=_log())

    def stored() -> int:
        from django.db import connection

        connection.close()
        return Reading.objects.filter(device__device_id=device_id, time__gte=_at(start),
                                      time__lt=_at(start + n)).count()

    payloads = _payloads([(device_id, token)], n, 1, start, 50.0)
    proc = spawn()
    pub = _client("bench-crash-pub")
    pub.connect("127.0.0.1", BROKER_PORT)
    pub.loop_start()
    killed_at = None
    try:
        _wait_ready(devices[-1])
        for i, (topic, body) in enumerate(payloads):
            pub.publish(topic, body, qos=1).wait_for_publish(10)
            if killed_at is None and i % 20 == 0 and stored() >= n // 4:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                killed_at = stored()
            time.sleep(0.002)
        if killed_at is None:  # ingest was faster than the check: kill before the restart anyway
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            killed_at = stored()
        proc = spawn()
        deadline = time.monotonic() + 120
        while stored() < n and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # late redeliveries must not add rows either
        total = stored()
        distinct = Reading.objects.filter(device__device_id=device_id, time__gte=_at(start),
                                          time__lt=_at(start + n)).values("time").distinct().count()
    finally:
        proc.terminate()
        proc.wait(20)
        _forget(client_id)
        pub.disconnect()
        pub.loop_stop()
    return {"published": n, "stored_at_kill": killed_at, "stored": total, "lost": n - distinct,
            "duplicated": total - distinct}


def _at(seconds: float):
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def run(db: str, messages: int, per: int) -> dict[str, Any]:
    _fresh(db)
    _django(db)
    devices = _devices(100)
    base = time.time() - 6 * 24 * 3600  # a day-time-free past week: values below the night limit
    raw = raw_rate(_payloads(devices, messages, per, base, 50.0))
    print("raw", raw, flush=True)
    ingest = ingest_rate(db, _payloads(devices, messages, per, base + 10**6 / 10, 50.0), messages * per,
                         devices[-1])
    print("ingest", ingest, flush=True)
    alarms = alarm_latency(db, devices, 50)
    print("alarms", alarms, flush=True)
    crash = crash_test(db, devices, 600, base + 4 * 10**5)  # after the ingest run's readings
    print("crash", crash, flush=True)
    return {"db": db, "machine": platform.platform(), "cpus": os.cpu_count(), "messages": messages,
            "readings_per_message": per, "batch_size": int(os.environ.get("TELEMETRY_BATCH_SIZE", "0") or 0) or None,
            "raw": raw, "ingest": ingest, "alarm_latency": alarms, "crash": crash,
            "ingest_vs_raw": round(ingest["readings_per_s"] / raw["readings_per_s"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=None, help="TELEMETRY_BATCH_SIZE for ingest")
    parser.add_argument("--pg-name", default=None, help="PostgreSQL database to (re)create for the run")
    parser.add_argument("--per-message", type=int, default=10)
    parser.add_argument("--shared-broker", action="store_true",
                        help="use the Mosquitto on 127.0.0.1:1883 instead of starting one for the run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.batch_size:
        os.environ["TELEMETRY_BATCH_SIZE"] = str(args.batch_size)
    if args.pg_name:
        os.environ["BENCH_PG_NAME"] = args.pg_name
    if args.child:
        result = run(args.child, args.messages, args.per_message)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"telemetry-{args.child}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
        print(json.dumps(result, ensure_ascii=False))
        return
    broker = None
    if not args.shared_broker:
        import shutil
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        WORK.mkdir(parents=True, exist_ok=True)
        conf = WORK / "mosquitto-bench.conf"
        conf.write_text(BROKER_CONF.format(port=port))
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        broker = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=_log())
        os.environ["BENCH_MQTT_PORT"] = str(port)
        time.sleep(0.5)
    try:
        for db in args.db or ["postgres", "sqlite"]:
            # One process per database: Django is set up once per process.
            subprocess.run([sys.executable, __file__, "--child", db, "--messages", str(args.messages),
                            "--per-message", str(args.per_message)], check=True)
    finally:
        if broker is not None:
            broker.terminate()
            broker.wait(10)


if __name__ == "__main__":
    main()
