"""Earned-value roll-up over 10,000 projects, on SQLite and PostgreSQL (goal: < 2 s on a 2-core machine).

    .venv/bin/python bench/evm_bench.py --db sqlite --db postgres

For each database a worker process builds a fresh data set — 1 city, 10 counties, 100 townships, 50
departments, 10,000 projects and 30 days of daily EvmSnapshot rows per project (300,000 rows, as the daily job
leaves them) — then times the roll-up selectors the console page and /api/v1/evm/rollup call: by department
and by division, as the city's system administrator (everything) and as a county leader (one county), each
run 7 times after one warm-up (median and max reported). Query counts come from CaptureQueriesContext.

Results: bench/results/evm-<db>.json and the "EVM roll-up" section of docs/performance.md.
PostgreSQL: 127.0.0.1:5432, user postgres, trust auth; the database minsheng_evm_bench is dropped and re-created.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "var" / "bench"
PG = "postgres://postgres@127.0.0.1:5432/minsheng_evm_bench"
GOAL_S = 2.0
PROJECTS = 10_000
DAYS = 30
RUNS = 7
COMMAND = ".venv/bin/python bench/evm_bench.py --db sqlite --db postgres"
START, END = "<!-- evm-bench:start -->", "<!-- evm-bench:end -->"


def _recreate_pg() -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "minsheng_evm_bench" WITH (FORCE)')
        conn.execute('CREATE DATABASE "minsheng_evm_bench"')


def _env(db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(DJANGO_SETTINGS_MODULE="minsheng.settings", AXES_ENABLED="false", LOG_LEVEL="WARNING")
    data_dir = WORK / f"evm-{db}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    env["MINSHENG_DATA_DIR"] = str(data_dir)
    if db == "postgres":
        _recreate_pg()
        env["DATABASE_URL"] = PG
    return env


# ---------------------------------------------------------------------------------------------------------------
# worker

def _build(projects: int, days: int) -> dict[str, Any]:
    import random
    from decimal import Decimal

    from django.db import transaction

    from minsheng.accounts.models import User
    from minsheng.accounts.roles import Role
    from minsheng.core.models import Department, DepartmentKind, Division
    from minsheng.finance.models import EvmSnapshot
    from minsheng.projects.models import Project

    rng = random.Random(2026)
    started = time.perf_counter()
    with transaction.atomic():
        def division(code: str, name: str, level: int, parent: Division | None) -> Division:
            d = Division.objects.create(code=code, name=name, level=level, parent=parent, path="")
            d.path = f"{parent.path if parent else '/'}{d.pk}/"
            d.save(update_fields=["path"])
            return d

        prov = division("990000", "江南省", 1, None)
        city = division("990100", "青溪市", 2, prov)
        counties = [division(f"9901{i + 2:02d}", f"县{i + 1}", 3, city) for i in range(10)]
        towns = [division(f"{c.code}{j + 1:03d}", f"{c.name}镇{j + 1}", 4, c) for c in counties for j in range(10)]
        kinds = [DepartmentKind.HOUSING, DepartmentKind.TRANSPORT, DepartmentKind.WATER, DepartmentKind.EDUCATION,
                 DepartmentKind.HEALTH]
        depts = {(c.pk, k): Department.objects.create(division=c, kind=k, name=f"{c.name}{k.label}")
                 for c in counties for k in kinds}
        admin = User.objects.create(username="bench_admin", role=Role.SYSADMIN, division=city, is_superuser=True)
        leader = User.objects.create(username="bench_leader", role=Role.LEADER, division=counties[0])
        rows = []
        for i in range(projects):
            town = towns[i % len(towns)]
            rows.append(Project(code=f"2026{town.code[:6]}{i:014d}", name=f"项目{i}", domain="housing",
                                division=town, division_path=town.path,
                                lead_department=depts[(town.parent_id, kinds[i % len(kinds)])],
                                responsible_person=admin))
        Project.objects.bulk_create(rows, batch_size=2000)
        today = dt.date(2026, 11, 25)
        snaps = []
        for p in Project.objects.only("pk", "division_path", "lead_department_id").iterator(chunk_size=2000):
            bac = Decimal(rng.randint(500_000, 50_000_000))
            for d in range(days):
                frac = Decimal(d + 1) / Decimal(days + 10)
                pv = (bac * frac).quantize(Decimal("0.01"))
                ev = (pv * Decimal(rng.uniform(0.8, 1.05))).quantize(Decimal("0.01"))
                ac = (ev * Decimal(rng.uniform(0.9, 1.2))).quantize(Decimal("0.01"))
                spi, cpi = ev / pv, ev / ac
                health = "red" if min(spi, cpi) < Decimal("0.9") else "amber" if min(spi, cpi) < Decimal(
                    "0.95") else "green"
                snaps.append(EvmSnapshot(project_id=p.pk, as_of=today - dt.timedelta(days=days - 1 - d), bac=bac,
                                         pv=pv, ev=ev, ac=ac, spi=spi.quantize(Decimal("0.0001")),
                                         cpi=cpi.quantize(Decimal("0.0001")), health=health,
                                         department_id_snapshot=p.lead_department_id, division_path=p.division_path))
            if len(snaps) >= 20_000:
                EvmSnapshot.objects.bulk_create(snaps)
                snaps = []
        EvmSnapshot.objects.bulk_create(snaps)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return {"admin": admin.pk, "leader": leader.pk, "city": city.pk, "county": counties[0].pk,
            "build_s": round(time.perf_counter() - started, 1), "snapshots": EvmSnapshot.objects.count()}


def _time(fn: Any) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        rows = fn()
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"median_s": round(statistics.median(times), 4), "max_s": round(max(times), 4),
            "queries": len(ctx.captured_queries), "rows": len(rows)}


def worker(projects: int, days: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    from minsheng.accounts.models import User
    from minsheng.core.models import Division
    from minsheng.finance.selectors import evm as sel

    info = _build(projects, days)
    admin, leader = User.objects.get(pk=info["admin"]), User.objects.get(pk=info["leader"])
    city, county = Division.objects.get(pk=info["city"]), Division.objects.get(pk=info["county"])
    as_of = sel.latest_date(admin)
    scenarios = {
        "admin_by_department": lambda: sel.rollup_by_department(admin, as_of=as_of),
        "admin_by_division": lambda: sel.rollup_by_division(admin, as_of=as_of, parent=city),
        "county_leader_by_department": lambda: sel.rollup_by_department(leader, as_of=as_of),
        "county_leader_by_division": lambda: sel.rollup_by_division(leader, as_of=as_of, parent=county),
        "latest_date_admin": lambda: [sel.latest_date(admin)],
    }
    results = {name: _time(fn) for name, fn in scenarios.items()}
    print(json.dumps({"db": connection.vendor, **info, "projects": projects, "days": days, "results": results}))


# ---------------------------------------------------------------------------------------------------------------
# parent

def _report(all_results: list[dict[str, Any]]) -> str:
    lines = [START, "", "## EVM roll-up (under load)", "",
             f"Command: `{COMMAND}` (bench/evm_bench.py). {PROJECTS:,} projects, {DAYS} daily snapshots each "
             f"({PROJECTS * DAYS:,} EvmSnapshot rows); goal < {GOAL_S:.0f} s per roll-up on this 2-core machine. "
             f"Each figure: median and max of {RUNS} runs after a warm-up, in-process (selector call, no HTTP).", "",
             "| database | scenario | median | max | queries | rows | goal |",
             "|---|---|---|---|---|---|---|"]
    for r in all_results:
        for name, v in r["results"].items():
            ok = "met" if v["max_s"] < GOAL_S else "missed"
            lines.append(f"| {r['db']} | {name} | {v['median_s'] * 1000:.0f} ms | {v['max_s'] * 1000:.0f} ms | "
                         f"{v['queries']} | {v['rows']} | {ok} |")
    lines += ["", f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}. "
              f"Data build (not timed against the goal): "
              + ", ".join(f"{r['db']} {r['build_s']} s" for r in all_results) + ".", "", END]
    return "\n".join(lines)


def _write_docs(section: str) -> None:
    path = ROOT / "docs" / "performance.md"
    text = path.read_text() if path.exists() else "# Performance\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _old, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"], default=None)
    parser.add_argument("--projects", type=int, default=PROJECTS)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    args = parser.parse_args()
    if args.worker:
        worker(args.projects, args.days)
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    all_results = []
    for db in args.db or ["sqlite", "postgres"]:
        done = subprocess.run([sys.executable, __file__, "--worker", "--projects", str(args.projects), "--days",
                               str(args.days)], env=_env(db), cwd=ROOT, capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise SystemExit(f"worker failed on {db}:\n{done.stderr[-4000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["db"] = db
        (RESULTS / f"evm-{db}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
        all_results.append(result)
        for name, v in result["results"].items():
            print(f"{db:9} {name:30} median {v['median_s'] * 1000:7.1f} ms  max {v['max_s'] * 1000:7.1f} ms  "
                  f"queries {v['queries']}")
    if not args.no_docs and args.projects == PROJECTS:
        _write_docs(_report(all_results))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
