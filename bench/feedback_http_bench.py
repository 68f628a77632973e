"""Citizen request submission over HTTP on PostgreSQL with concurrent clients, beside a hello-world view
on the same server in the same run (issue 4).

    .venv/bin/python bench/feedback_http_bench.py --seconds 20 --clients 16

Creates the PostgreSQL database `minsheng_feedback_bench` afresh (DATABASE_URL overrides), builds the bench
organisation (bench/feedback_bench.py) and starts gunicorn as `minsheng serve` does (minsheng.wsgi, 2
workers x 4 threads by default) with the project's settings plus a /bench/hello/ view
(bench/feedback_http_settings.py). Rate limits and the captcha apply as in production, keyed on the
client's address: the server runs with TRUST_X_FORWARDED_FOR=1 (as behind a reverse proxy) and each
submission comes from its own address in X-Forwarded-For; the cache they share is Redis
(MINSHENG_REDIS_URL, default redis://127.0.0.1:6379/15) as a multi-process deployment needs.

Each client thread keeps one connection, fetches the form once (CSRF cookie and token), then POSTs
anonymous enquiries, suggestions and requests for help (no phone: complaints need an SMS code) as fast
as the server answers. Phase 1: GET /bench/hello/; phase 2: POST /feedback/. Prints rate, p50, p95 and
status counts per phase as JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/minsheng_feedback_bench"


def prepare(url: str) -> dict[str, str]:
    """A fresh database with the bench organisation; returns the form values to submit."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from bench.feedback_bench import build_world

    org, _places, _routes = build_world(n_communities=20)
    return {"division": str(org.town_a.pk)}


class Client(threading.Thread):
    """One connection. POST mode: fetch the form once (CSRF cookie and token), then submit as fast as the
    server answers; a submission is done at its 303 (stored, receipt code issued) or, with `follow`, like a
    browser, when the receipt page it redirects to has arrived (the cookie the 303 set sent back)."""

    def __init__(self, port: int, method: str, path: str, stop_at: float, fields: dict[str, str], seq: int,
                 follow: bool = False):
        super().__init__(daemon=True)
        self.port, self.method, self.path, self.stop_at = port, method, path, stop_at
        self.fields, self.seq, self.follow = fields, seq, follow
        self.latencies: list[float] = []
        self.codes: dict[int, int] = {}

    def _conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def _send(self, conn: http.client.HTTPConnection, method: str, path: str, body: str | None,
              headers: dict[str, str]) -> http.client.HTTPResponse:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        r.body = r.read()
        return r

    def prepare(self) -> None:
        """Before the clock starts: the connection, and in POST mode the form once (CSRF cookie and token)."""
        self.conn = self._conn()
        self.headers: dict[str, str] = {}
        self.token = ""
        if self.method == "POST":
            r = self._send(self.conn, "GET", self.path, None, {})
            csrf = re.search(r"csrftoken=([^;]+)", r.getheader("Set-Cookie", ""))
            self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.body.decode()).group(1)
            self.headers = {"Cookie": f"csrftoken={csrf.group(1)}",
                            "Content-Type": "application/x-www-form-urlencoded"}

    def run(self) -> None:
        rng = random.Random(self.seq)
        conn, headers, token = self.conn, self.headers, self.token
        n = 0
        while time.perf_counter() < self.stop_at:
            n += 1
            body = None
            h = dict(headers)
            if self.method == "POST":
                # A distinct client address per submission (10.a.b.c), as seen through the proxy, and the
                # form's own submission key, as a browser sends it.
                h["X-Forwarded-For"] = f"10.{self.seq}.{n // 250 % 250}.{n % 250 + 1}"
                body = urllib.parse.urlencode({
                    "csrfmiddlewaretoken": token, "kind": rng.choice(["enquiry", "suggestion", "help"]),
                    "category": rng.choice(["roads", "housing", "water", "welfare"]), "urgency": "normal",
                    "description": f"小区路灯坏了很久，晚上出行不便，请尽快修理。{self.seq}-{n}",
                    "address": "", "submission_key": f"{self.seq:03d}{n:09d}{rng.getrandbits(64):016x}",
                    **self.fields})
            t = time.perf_counter()
            try:
                r = self._send(conn, self.method, self.path, body, h)
                code = r.status
                if self.follow and code == 303:
                    cookies = "; ".join(c.split(";", 1)[0] for c in r.headers.get_all("Set-Cookie") or [])
                    r = self._send(conn, "GET", r.getheader("Location"), None,
                                   {"Cookie": f"{headers['Cookie']}; {cookies}"})
                    code = r.status if b"data-receipt=" in r.body else -r.status
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = self._conn()
            except (ConnectionError, http.client.HTTPException, TimeoutError):
                code = 0
                conn.close()
                conn = self._conn()
            self.latencies.append(time.perf_counter() - t)
            self.codes[code] = self.codes.get(code, 0) + 1


def phase(port: int, method: str, path: str, seconds: float, clients: int, fields: dict[str, str],
          first_seq: int = 1, ok_status: int = 200, follow: bool = False, server_pid: int | None = None) -> dict:
    """`clients` threads for `seconds`; client k sends from addresses 10.<first_seq + k>.x.y, so phases given
    different `first_seq` never share an address (the per-address limits and captcha counters persist).
    Rate and latencies count the answers with `ok_status`."""
    threads = [Client(port, method, path, 0.0, fields, seq=first_seq + i, follow=follow) for i in range(clients)]
    for t in threads:
        t.prepare()
    stop_at = time.perf_counter() + seconds
    for t in threads:
        t.stop_at = stop_at
    cpu_before = cpu_seconds(server_pid)
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds(server_pid)
    lat = sorted(x for t in threads for x in t.latencies)
    codes: dict[int, int] = {}
    for t in threads:
        for k, v in t.codes.items():
            codes[k] = codes.get(k, 0) + v
    ok = codes.get(ok_status, 0)
    return {"requests": len(lat), "ok": ok, "codes": codes, "rate_per_s": round(ok / elapsed, 1),
            "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
            "p95_ms": round(lat[int(len(lat) * 0.95) - 1] * 1000, 1) if lat else None,
            "cpu_ms_per_ok": {k: round(_spent(cpu_before[k], cpu_after[k]) / max(ok, 1) * 1000, 2) for k in cpu_after}}


def _spent(before: float | dict[int, float], after: float | dict[int, float]) -> float:
    """CPU seconds between two readings; per process, so one that started or ended between them counts
    for what it spent (a backend that ended takes its earlier time with it: counted up to its last reading)."""
    if isinstance(after, dict):
        return sum(t - before.get(pid, 0.0) for pid, t in after.items())
    return after - before


def _proc_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # ended meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(server_pid: int | None, database: str = "minsheng_feedback_bench") -> dict[str, Any]:
    """CPU time so far of the web server's worker processes, of the PostgreSQL backends serving the bench
    database (other work on the machine is not counted), and of this process (the clients): where a
    submission's cost goes."""
    out = {"clients": time.process_time()}
    if server_pid is None:
        return out
    procs = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    workers, postgres = [], []
    for pid in procs:
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == server_pid:
            workers.append(pid)
        elif comm.startswith("postgres"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f" {database} ".encode() in f.read():
                        postgres.append(pid)
            except (FileNotFoundError, ProcessLookupError):
                continue
    out["web_workers"] = {pid: _proc_cpu(pid) for pid in workers}
    out["postgres"] = {pid: _proc_cpu(pid) for pid in postgres}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--out")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    fields = prepare(url)
    redis_url = os.environ.get("MINSHENG_REDIS_URL", "redis://127.0.0.1:6379/15")
    import redis

    r = redis.Redis.from_url(redis_url)  # counters of an earlier run would trip the limits and the captcha
    for key in r.scan_iter("fbbench:*"):
        r.delete(key)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "feedback_http_settings",
           "TRUST_X_FORWARDED_FOR": "1", "DEBUG": "0", "LOG_LEVEL": "WARNING",
           "MINSHENG_REDIS_URL": redis_url, "MINSHENG_CACHE_PREFIX": "fbbench",
           "MINSHENG_SMS_BACKEND": "minsheng.feedback.sms.ConsoleBackend",
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "minsheng.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
         "--workers", str(args.workers), "--threads", str(args.threads), "--pythonpath", f"{ROOT}/bench,{ROOT}",
         "--graceful-timeout", "5"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
                c.request("GET", "/bench/hello/")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        pid = server.pid
        phase(args.port, "GET", "/bench/hello/", 2, args.clients, {})  # warm-up
        phase(args.port, "POST", "/feedback/", 2, args.clients, fields, first_seq=1, ok_status=303)
        out = {"server": f"gunicorn {args.workers} workers x {args.threads} threads", "clients": args.clients,
               "seconds": args.seconds, "load_1min": os.getloadavg()[0]}
        out["hello"] = phase(args.port, "GET", "/bench/hello/", args.seconds, args.clients, {}, server_pid=pid)
        # A submission is done at its 303: stored with its receipt code (the worker registers it later).
        out["submit"] = phase(args.port, "POST", "/feedback/", args.seconds, args.clients, fields, first_seq=101,
                              ok_status=303, server_pid=pid)
        # As a browser does: the POST, then the receipt page it is redirected to.
        out["submit_and_receipt"] = phase(args.port, "POST", "/feedback/", args.seconds, args.clients, fields,
                                          first_seq=151, follow=True, server_pid=pid)
        from minsheng.feedback import intake

        # Registration: one process (what the scheduled task does) clears what was received.
        waiting = intake.counts()["waiting"]
        t = time.perf_counter()
        done = intake.register_pending(budget_seconds=None)
        seconds = time.perf_counter() - t
        out["registration"] = {"received": waiting, "registered": done["registered"], "failed": done["failed"],
                               "seconds": round(seconds, 1), "per_s": round(done["registered"] / seconds, 1)}
        # Submissions while a registration process runs beside the web server (the sustained case).
        drainer = subprocess.Popen([sys.executable, "-m", "minsheng.cli", "intake", "register", "--loop",
                                    "--idle", "0.2"], env={**env, "DJANGO_SETTINGS_MODULE": "minsheng.settings"},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            out["submit_while_registering"] = phase(args.port, "POST", "/feedback/", args.seconds, args.clients,
                                                    fields, first_seq=201, ok_status=303, server_pid=pid)
            ended = time.perf_counter()
            while intake.counts()["waiting"] and time.perf_counter() - ended < 600:
                time.sleep(0.5)
            out["submit_while_registering"]["backlog_cleared_after_s"] = round(time.perf_counter() - ended, 1)
        finally:
            drainer.send_signal(signal.SIGTERM)
            drainer.wait(timeout=60)
        from minsheng.feedback.models import CitizenRequest, Intake

        out["received_in_db"] = Intake.objects.count()
        out["requests_in_db"] = CitizenRequest.objects.count()
        out["load_1min_after"] = os.getloadavg()[0]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
