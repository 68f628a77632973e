"""Red flags over 1,000,000 payments: the nightly full recompute (`insight.services.recompute_all`).

    .venv/bin/python bench/redflags_bench.py                          # PostgreSQL minsheng_redflags_bench
    .venv/bin/python bench/redflags_bench.py --payments 100000 --db sqlite

The database is dropped and created again, then filled: --projects projects with a tender each (three bids,
5 % with a short submission period), an award and a contract with one milestone; --direct purchases without a
tender (2 % just under the works threshold); --payments paid payments spread over every milestone, loaded with
COPY, log-uniform amounts (Benford's law) except one county's, skewed toward 4 and 5; --duplicates of them
repeat an invoice number. Timed: the full recompute (first run: flags created) and a second run (steady state:
nothing changed), with counts per kind. Results: JSON on stdout and bench/results/redflags-<db>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=5_000)
    parser.add_argument("--direct", type=int, default=5_000)
    parser.add_argument("--duplicates", type=int, default=500)
    args = parser.parse_args()
    from procurement_world import World, peak_rss_mb, setup_db

    setup_db(os.environ.get("DATABASE_URL") if args.db == "postgres" else "sqlite", "minsheng_redflags_bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from minsheng.insight import services
    from minsheng.insight.models import RedFlag

    out: dict[str, object] = {"db": connection.vendor, "cpus": os.cpu_count(), "payments": args.payments,
                              "projects": args.projects, "direct_purchases": args.direct}
    world = World()
    t = time.perf_counter()
    world.processes(args.projects, milestones=1)
    world.direct_purchases(args.direct)
    out["generate_procurement_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    world.payments(args.payments, duplicates=args.duplicates)
    out["load_payments_s"] = round(time.perf_counter() - t, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    for label in ("first_run", "second_run"):
        load = os.getloadavg()[0]
        t = time.perf_counter()
        phases: dict[str, float] = {}
        counts = services.recompute_all(phases)
        seconds = time.perf_counter() - t
        out[label] = {"seconds": round(seconds, 1), "phases_s": phases, "flags": RedFlag.objects.count(),
                      "by_kind": counts,
                      "load_1min_before": round(load, 1), "load_1min_after": round(os.getloadavg()[0], 1)}
        print(json.dumps({label: out[label]}), flush=True)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    dest = ROOT / "bench" / "results" / f"redflags-{connection.vendor}.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
