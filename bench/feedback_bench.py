"""Server-time benchmark of the citizen-request SLA scan and metrics, on SQLite or PostgreSQL.

    .venv/bin/python bench/feedback_bench.py --requests 20000            # SQLite in a temp directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/minsheng_fbbench .venv/bin/python bench/feedback_bench.py

Builds the test organisation plus a coordinating office, generates a year of requests with the demo
generator, then times: the first SLA scan (which sends every overdue escalation), a second scan
(steady state: nothing new to send), and the metrics by department, division and month. Prints JSON.
The database must be empty (SQLite: a fresh temp directory is used unless SQLITE_PATH is set).
Not yet measured here: HTTP submissions with concurrent clients (issue 4's first figure).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") and not os.environ.get("SQLITE_PATH"):
        tmp = tempfile.mkdtemp(prefix="fbbench-")
        os.environ["SQLITE_PATH"] = os.path.join(tmp, "bench.sqlite3")
        os.environ.setdefault("MINSHENG_DATA_DIR", tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from minsheng.core.models import Department
    from minsheng.feedback import metrics, services
    from minsheng.feedback.demo import generate_requests
    from minsheng.feedback.models import CitizenRequest
    from minsheng.testing.factories import build_org

    org = build_org()
    Department.objects.create(division=org.city, kind="govoffice", name="市政府办公室")
    out: dict[str, object] = {"db": connection.vendor, "requests": args.requests}
    t = time.perf_counter()
    generate_requests(seed=1, count=args.requests)
    out["generate_s"] = round(time.perf_counter() - t, 2)
    out["open"] = CitizenRequest.objects.exclude(status="closed").count()
    t = time.perf_counter()
    out["first_scan"] = services.sla_scan()
    out["first_scan_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    services.sla_scan()
    out["rescan_s"] = round(time.perf_counter() - t, 2)
    for group in ("department", "division", "month"):
        t = time.perf_counter()
        rows = metrics.metrics(CitizenRequest.objects.all(), group)
        out[f"metrics_{group}_ms"] = round((time.perf_counter() - t) * 1000)
        out[f"metrics_{group}_rows"] = len(rows)
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
