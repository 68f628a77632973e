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
    def __init__(self, port: int, method: str, path: str, stop_at: float, fields: dict[str, str], seq: int):
        super().__init__(daemon=True)
        self.port, self.method, self.path, self.stop_at = port, method, path, stop_at
        self.fields, self.seq = fields, seq
        self.latencies: list[float] = []
        self.codes: dict[int, int] = {}

    def _conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def run(self) -> None:
        rng = random.Random(self.seq)
        conn = self._conn()
        headers: dict[str, str] = {}
        token = ""
        if self.method == "POST":
            conn.request("GET", self.path)
            r = conn.getresponse()
            page = r.read().decode()
            cookie = r.getheader("Set-Cookie", "")
            csrf = re.search(r"csrftoken=([^;]+)", cookie)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
            headers = {"Cookie": f"csrftoken={csrf.group(1)}", "Content-Type": "application/x-www-form-urlencoded"}
        n = 0
        while time.perf_counter() < self.stop_at:
            n += 1
            body = None
            h = dict(headers)
            if self.method == "POST":
                # A distinct client address per submission (10.a.b.c), as seen through the proxy.
                h["X-Forwarded-For"] = f"10.{self.seq}.{n // 250 % 250}.{n % 250 + 1}"
                body = urllib.parse.urlencode({
                    "csrfmiddlewaretoken": token, "kind": rng.choice(["enquiry", "suggestion", "help"]),
                    "category": rng.choice(["roads", "housing", "water", "welfare"]), "urgency": "normal",
                    "description": f"小区路灯坏了很久，晚上出行不便，请尽快修理。{self.seq}-{n}",
                    "address": "", **self.fields})
            t = time.perf_counter()
            try:
                conn.request(self.method, self.path, body=body, headers=h)
                r = conn.getresponse()
                r.read()
                code = r.status
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = self._conn()
            except (ConnectionError, http.client.HTTPException, TimeoutError):
                code = 0
                conn.close()
                conn = self._conn()
            self.latencies.append(time.perf_counter() - t)
            self.codes[code] = self.codes.get(code, 0) + 1


def phase(port: int, method: str, path: str, seconds: float, clients: int, fields: dict[str, str]) -> dict:
    stop_at = time.perf_counter() + seconds
    threads = [Client(port, method, path, stop_at, fields, seq=i + 1) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    lat = sorted(x for t in threads for x in t.latencies)
    codes: dict[int, int] = {}
    for t in threads:
        for k, v in t.codes.items():
            codes[k] = codes.get(k, 0) + v
    ok = codes.get(200, 0)
    return {"requests": len(lat), "ok": ok, "codes": codes, "rate_per_s": round(ok / elapsed, 1),
            "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
            "p95_ms": round(lat[int(len(lat) * 0.95) - 1] * 1000, 1) if lat else None}


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
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "feedback_http_settings",
           "TRUST_X_FORWARDED_FOR": "1", "DEBUG": "0", "LOG_LEVEL": "WARNING",
           "MINSHENG_REDIS_URL": os.environ.get("MINSHENG_REDIS_URL", "redis://127.0.0.1:6379/15"),
           "MINSHENG_CACHE_PREFIX": "fbbench", "MINSHENG_SMS_BACKEND": "minsheng.feedback.sms.ConsoleBackend",
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
        phase(args.port, "GET", "/bench/hello/", 2, args.clients, {})  # warm-up
        phase(args.port, "POST", "/feedback/", 2, args.clients, fields)
        out = {"server": f"gunicorn {args.workers} workers x {args.threads} threads", "clients": args.clients,
               "seconds": args.seconds, "load_1min": os.getloadavg()[0]}
        out["hello"] = phase(args.port, "GET", "/bench/hello/", args.seconds, args.clients, {})
        out["submit"] = phase(args.port, "POST", "/feedback/", args.seconds, args.clients, fields)
        from minsheng.feedback.models import CitizenRequest

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
