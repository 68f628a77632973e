"""Server-time benchmark of the project list and project page at scale, on SQLite and PostgreSQL.

    .venv/bin/python bench/projects_bench.py --db sqlite --db postgres

For each database it builds a fresh data set with the demo generator (10,000 projects, about
100,000 WBS items, audit trail padded to 1,000,000 rows), then times requests in-process through
django.test.Client — the whole Django stack (middleware, session, view, template or JSON), no
network — as a county department officer (青溪区住建, sees a slice) and as the city leader (sees
everything). Query counts come from CaptureQueriesContext on separate, untimed requests. It also
times `minsheng demo --no-serve` (migrate + generate the default demo city) on an empty database.

Results: bench/results/projects-<db>.json and docs/performance.md.
PostgreSQL: 127.0.0.1:5432, user postgres, trust auth; the databases minsheng_bench and
minsheng_bench_demo are dropped and re-created.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
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
PG = "postgres://postgres@127.0.0.1:5432/{name}"
GOAL_MS = 150.0
DEFAULT_COMMAND = ".venv/bin/python bench/projects_bench.py --db sqlite --db postgres"
START, END = "<!-- projects-bench:start -->", "<!-- projects-bench:end -->"


# ---------------------------------------------------------------------------------------------
# parent: prepare databases, run one worker per database, write the report


def _recreate_pg(name: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _env_for(db: str, purpose: str, fresh: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env["DJANGO_SETTINGS_MODULE"] = "minsheng.settings"
    env["AXES_ENABLED"] = "false"
    env["LOG_LEVEL"] = "WARNING"
    data_dir = WORK / f"{purpose}-{db}"
    if fresh:
        shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    env["MINSHENG_DATA_DIR"] = str(data_dir)
    if db == "postgres":
        name = "minsheng_bench" if purpose == "data" else "minsheng_bench_demo"
        if fresh:
            _recreate_pg(name)
        env["DATABASE_URL"] = PG.format(name=name)
    return env


def _time_demo(db: str) -> dict[str, Any]:
    env = _env_for(db, "demo")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "minsheng.cli", "demo", "--no-serve"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"minsheng demo failed on {db}:\n{done.stderr}")
    found = re.search(r"Generated in ([\d.]+) s: (.*)", done.stdout)
    return {"wall_seconds_including_migrate_and_startup": round(wall, 2),
            "generate_seconds": float(found.group(1)) if found else None,
            "counts": found.group(2) if found else ""}


def _versions() -> dict[str, str]:
    out: dict[str, str] = {"python": platform.python_version()}
    import sqlite3

    import django

    out["django"] = django.get_version()
    out["sqlite"] = sqlite3.sqlite_version
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres") as conn:
            out["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # the report says why it is missing
        out["postgresql"] = f"unavailable ({exc.__class__.__name__})"
    return out


def _machine() -> dict[str, str]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "free_h": free, "kernel": platform.release()}


def parent(args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine, versions = _machine(), _versions()
    for db in args.db:
        path = RESULTS / f"projects-{db}.json"
        if args.reuse and path.exists():
            demo = json.loads(path.read_text()).get("demo_generation", {})
        else:
            print(f"== {db}: timing `minsheng demo --no-serve` on an empty database", flush=True)
            demo = _time_demo(db)
            print(f"   {demo}", flush=True)
        env = _env_for(db, "data", fresh=not args.reuse)
        reuse = ["--reuse"] if args.reuse else []
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--db", db, *reuse,
               "--projects", str(args.projects), "--wbs", str(args.wbs), "--audit", str(args.audit),
               "--requests", str(args.requests), "--seed", str(args.seed)]
        print(f"== {db}: building {args.projects} projects and measuring", flush=True)
        done = subprocess.run(cmd, env=env, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"worker failed on {db}")
        result = json.loads(path.read_text())
        result.update({"demo_generation": demo, "machine": machine, "versions": versions,
                       "command": DEFAULT_COMMAND,
                       "invocation": " ".join(["bench/projects_bench.py", *sys.argv[1:]])})
        path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    write_markdown()


# ---------------------------------------------------------------------------------------------
# worker: one database, Django set up from the environment the parent prepared


def _pad_audit(target: int, seed: int) -> dict[str, Any]:
    """Top the audit trail up to `target` rows with plausible `wbs.progress` events. Raw
    executemany in one transaction: the table allows INSERT (only UPDATE/DELETE are refused)."""
    from django.db import connection, transaction

    from minsheng.accounts.models import User
    from minsheng.core.models import AuditEvent
    from minsheng.projects.models import WbsItem

    have = AuditEvent.objects.count()
    missing = max(0, target - have)
    rng = random.Random(seed)
    staff = list(User.objects.values_list("pk", "full_name", "role"))
    items = list(WbsItem.objects.values_list("pk", "name", "project__code", "project__division_path"))
    now = dt.datetime.now(dt.UTC)
    sql = (f"INSERT INTO {AuditEvent._meta.db_table} (at, actor_id, actor_label, actor_role, action, "
           "object_type, object_id, object_repr, project_code, division_path, before, after) "
           "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
    adapt = connection.ops.adapt_datetimefield_value
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        for offset in range(0, missing, 20_000):
            rows = []
            for _ in range(min(20_000, missing - offset)):
                pk, name, code, path = items[rng.randrange(len(items))]
                uid, label, role = staff[rng.randrange(len(staff))]
                before = rng.randint(0, 90)
                at = now - dt.timedelta(minutes=rng.randint(60 * 24, 60 * 24 * 365 * 3))
                rows.append((adapt(at), uid, label, role, "wbs.progress", "projects.wbsitem", str(pk), name,
                             code, path, json.dumps({"progress": f"{before}.0"}),
                             json.dumps({"progress": f"{min(100, before + rng.randint(1, 10))}.0"})))
            cur.executemany(sql, rows)
    return {"generated_by_demo": have, "padded": missing, "seconds": round(time.perf_counter() - started, 1)}


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")  # fresh bulk-loaded tables: give the planner statistics, as autovacuum would


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _measure(client: Any, urls: list[str], requests: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls[:3]:  # warm caches, sessions, template loading
        client.get(url)
    times: list[float] = []
    cpu: list[float] = []  # CPU of this process only: excludes waiting for a busy CPU (and PostgreSQL's own)
    statuses: set[int] = set()
    load_before = os.getloadavg()[0]
    for i in range(requests):
        url = urls[i % len(urls)]
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        statuses.add(response.status_code)
    queries: list[int] = []
    for url in urls[: min(10, len(urls))]:
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        queries.append(len(ctx.captured_queries))
    return {
        "requests": requests, "distinct_urls": len(urls), "status_codes": sorted(statuses),
        "p50_ms": round(_percentile(times, 0.50), 1), "p95_ms": round(_percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1), "mean_ms": round(statistics.fmean(times), 1),
        "cpu_p50_ms": round(_percentile(cpu, 0.50), 1), "cpu_p95_ms": round(_percentile(cpu, 0.95), 1),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "queries_min": min(queries), "queries_max": max(queries), "example_url": urls[0],
    }


def _list_rows(client: Any, url: str) -> int:
    """How many rows a list URL returns (JSON API: items; console: table rows)."""
    response = client.get(url)
    if url.startswith("/api/"):
        return len(response.json()["items"])
    return response.content.decode().count('class="item-link" href="/console/projects/')


def _scenarios(user: Any, seed: int) -> dict[str, list[str]]:
    from minsheng.projects.models import Domain
    from minsheng.projects.selectors import projects_visible

    rng = random.Random(seed)
    visible = projects_visible(user)
    ids = list(visible.values_list("pk", flat=True))
    rng.shuffle(ids)
    # Filters that give a full first page for this user, so the list really renders 25 rows.
    filtered: list[str] = []
    combos = visible.values_list("stage", "domain").order_by()
    counts: dict[tuple[str, str], int] = {}
    for stage, domain in combos:
        counts[(stage, domain)] = counts.get((stage, domain), 0) + 1
    for (stage, domain), n in sorted(counts.items()):
        if n >= 25:
            filtered.append(f"stage={stage}&domain={domain}")
    if not filtered:
        filtered = [f"domain={d}" for d in Domain.values]
    for term in ("改造", "建设", "工程", "提升", "项目"):
        filtered.append(f"q={term}")
    pages = max(1, len(ids) // 25)
    page_numbers = [str(p) for p in rng.sample(range(2, pages + 1), k=min(40, pages - 1))] or ["1"]
    return {
        "console_list_filtered": [f"/console/projects/?{f}" for f in filtered],
        "console_list_page_n": [f"/console/projects/?page={p}" for p in page_numbers],
        "console_project_page": [f"/console/projects/{pk}/" for pk in ids[:200]],
        "api_list_filtered": [f"/api/v1/projects?{f}" for f in filtered],
        "api_list_page_n": [f"/api/v1/projects?page={p}" for p in page_numbers],
        "api_project_detail": [f"/api/v1/projects/{pk}" for pk in ids[:200]],
    }


def _constant_queries(client: Any, user: Any) -> dict[str, Any]:
    """Query count of the list at 25 rows and at a handful of rows: equal means no N+1."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from minsheng.projects.selectors import projects_visible

    visible = projects_visible(user)
    few_code = visible.order_by("code").values_list("code", flat=True).first()
    out = {}
    for label, url in (("console", "/console/projects/"), ("api", "/api/v1/projects")):
        per: dict[str, Any] = {}
        for case, query in (("full_page", ""), ("one_row", f"q={few_code}")):
            full = f"{url}?{query}" if query else url
            with CaptureQueriesContext(connection) as ctx:
                client.get(full)
            per[case] = {"queries": len(ctx.captured_queries), "rows": _list_rows(client, full)}
        per["constant"] = per["full_page"]["queries"] == per["one_row"]["queries"]
        out[label] = per
    return out


def worker(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from minsheng.accounts.models import User
    from minsheng.core.models import AuditEvent
    from minsheng.demo.city import generate
    from minsheng.projects.models import Project, WbsItem

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DEBUG = False
    db = args.db
    timings: dict[str, Any] = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    timings["migrate_seconds"] = round(time.perf_counter() - started, 1)
    previous = RESULTS / f"projects-{db}.json"
    if args.reuse and Project.objects.count() >= args.projects and previous.exists():
        # Same data set as the last run (migrations above may have added indexes since).
        timings = {**json.loads(previous.read_text())["setup"], "reused_data_set": True,
                   "migrate_seconds": timings["migrate_seconds"]}
    else:
        per_project = max(3, round(args.wbs / args.projects))
        result = generate(seed=args.seed, projects=args.projects, store_files=False,
                          wbs_per_project=(max(3, per_project - 2), per_project + 2))
        timings["generate_seconds"] = round(result.seconds, 1)
        print(f"   generated {result.counts} in {result.seconds:.1f} s", flush=True)
        timings["audit_padding"] = _pad_audit(args.audit, args.seed)
    print(f"   audit rows: {AuditEvent.objects.count()}", flush=True)
    started = time.perf_counter()
    _analyze()
    timings["analyze_seconds"] = round(time.perf_counter() - started, 1)
    dataset = {"projects": Project.objects.count(), "wbs_items": WbsItem.objects.count(),
               "audit_events": AuditEvent.objects.count()}
    users = {"county_officer": User.objects.get(username="housing"),
             "city_leader": User.objects.get(username="leader")}
    measurements: dict[str, Any] = {}
    for label, user in users.items():
        client = Client()
        client.force_login(user)
        from minsheng.projects.selectors import projects_visible

        entry: dict[str, Any] = {"username": user.username,
                                 "visible_projects": projects_visible(user).count()}
        for name, urls in _scenarios(user, args.seed).items():
            entry[name] = _measure(client, urls, args.requests)
            m = entry[name]
            print(f"   {db} {label:<15} {name:<22} p50 {m['p50_ms']:>7} ms  p95 {m['p95_ms']:>7} ms  "
                  f"max {m['max_ms']:>7} ms  queries {m['queries_min']}–{m['queries_max']}  "
                  f"{m['status_codes']}", flush=True)
        entry["list_queries_constant_in_rows"] = _constant_queries(client, user)
        measurements[label] = entry
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    out = {"db": db, "vendor": connection.vendor, "date": now,
           "dataset": dataset, "setup": timings, "measurements": measurements, "goal_p95_ms": GOAL_MS}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"projects-{db}.json").write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")


# ---------------------------------------------------------------------------------------------
# report


def write_markdown() -> None:
    runs = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("projects-*.json"))]
    if not runs:
        return
    first = runs[0]
    m, v = first.get("machine", {}), first.get("versions", {})
    lines = [
        START,
        "# Project list and project page",
        "",
        "Generated by `bench/projects_bench.py` (`make bench`); numbers below are copied from",
        "`bench/results/projects-<db>.json`. Server time is measured in-process with",
        "`django.test.Client` (middleware, session, permission scoping, view, template or JSON rendering;",
        "no network, no browser).",
        "Query counts are from `CaptureQueriesContext` on separate, untimed requests.",
        "",
        "## Machine and versions (project list benchmark)",
        "",
        f"- date: {first.get('date', '')}",
        f"- CPU: {m.get('cpu', '')}, `nproc` = {m.get('nproc', '')}, kernel {m.get('kernel', '')}",
        f"- Python {v.get('python', '')}, Django {v.get('django', '')}, SQLite {v.get('sqlite', '')}, "
        f"PostgreSQL {v.get('postgresql', '')}",
        "",
        "```",
        m.get("free_h", ""),
        "```",
        "",
        f"Reproduce: `{first.get('command', DEFAULT_COMMAND)}`",
        "",
        f"Goal: p95 under {GOAL_MS:.0f} ms on this machine; query counts constant in page size (no N+1).",
        "",
    ]
    for run in runs:
        ds = run["dataset"]
        lines += [
            f"## {run['db']} ({run['vendor']})",
            "",
            f"Data set: {ds['projects']:,} projects, {ds['wbs_items']:,} WBS items, "
            f"{ds['audit_events']:,} audit events (demo generator with its seed; audit trail padded "
            f"with `wbs.progress` rows). "
            f"Setup: generate {run['setup']['generate_seconds']} s, audit padding "
            f"{run['setup']['audit_padding']['seconds']} s.",
            "",
            "| user (visible projects) | request | p50 ms | p95 ms | max ms | CPU p50/p95 ms | queries "
            "| load | p95 < goal |",
            "|---|---|---:|---:|---:|---:|---:|---:|:---:|",
        ]
        for label, entry in run["measurements"].items():
            for name, meas in entry.items():
                if not isinstance(meas, dict) or "p95_ms" not in meas:
                    continue
                q = f"{meas['queries_min']}" if meas["queries_min"] == meas["queries_max"] else \
                    f"{meas['queries_min']}–{meas['queries_max']}"
                ok = "yes" if meas["p95_ms"] < GOAL_MS else "**no**"
                cpu = f"{meas['cpu_p50_ms']} / {meas['cpu_p95_ms']}" if "cpu_p50_ms" in meas else "–"
                load = "–".join(str(x) for x in meas.get("load_average_1min", [])) or "–"
                lines.append(f"| {label} ({entry['visible_projects']:,}) | {name} | {meas['p50_ms']} | "
                             f"{meas['p95_ms']} | {meas['max_ms']} | {cpu} | {q} | {load} | {ok} |")
        lines += ["", "N+1 check (queries for a full page of 25 rows vs a one-row result):", ""]
        for label, entry in run["measurements"].items():
            for iface, per in entry["list_queries_constant_in_rows"].items():
                verdict = "constant" if per["constant"] else "NOT constant"
                lines.append(f"- {label}, {iface}: {per['full_page']['queries']} queries for "
                             f"{per['full_page']['rows']} rows, {per['one_row']['queries']} for "
                             f"{per['one_row']['rows']} row(s) — {verdict}")
        before_files = sorted(RESULTS.glob(f"before-*-projects-{run['db']}.json"))
        for before_path in before_files:
            before = json.loads(before_path.read_text())
            lines += ["", f"Before the fixes (`{before_path.name}`, {before.get('date', '')}): p50 / p95 ms, "
                      "then → now", ""]
            for label, entry in run["measurements"].items():
                for name, meas in entry.items():
                    old = before["measurements"].get(label, {}).get(name)
                    if isinstance(meas, dict) and "p95_ms" in meas and old:
                        lines.append(f"- {label} {name}: {old['p50_ms']} / {old['p95_ms']} → "
                                     f"{meas['p50_ms']} / {meas['p95_ms']}")
        demo = run.get("demo_generation", {})
        if demo:
            lines += ["", f"Demo city (`minsheng demo --no-serve` on an empty {run['db']} database): "
                      f"generation {demo.get('generate_seconds')} s; whole command including interpreter "
                      f"start and migrations {demo.get('wall_seconds_including_migrate_and_startup')} s "
                      f"({demo.get('counts')})."]
        lines.append("")
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text().strip(), ""]
    lines.append(END)
    section = "\n".join(lines)
    # docs/performance.md is shared with other benchmarks: replace only our own section.
    out = ROOT / "docs" / "performance.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = out.read_text() if out.exists() else ""
    if START in text and END in text:
        text = text[: text.index(START)] + section + text[text.index(END) + len(END):]
    else:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + section + "\n"
    out.write_text(text)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"], help="repeatable")
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--wbs", type=int, default=100_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario and user")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true",
                        help="measure again on the data set of the last run (after a migration or a fix)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--report-only", action="store_true", help="rewrite docs/performance.md from results")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.report_only:
        write_markdown()
        return
    args.db = args.db or ["sqlite", "postgres"]
    if args.worker:
        args.db = args.db[0]
        worker(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
