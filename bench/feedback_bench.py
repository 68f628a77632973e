"""Server-time benchmark of the citizen-request SLA scan and the metrics page (issue 4), on PostgreSQL or SQLite.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/minsheng_feedback_bench \
        .venv/bin/python bench/feedback_bench.py --requests 1000000
    .venv/bin/python bench/feedback_bench.py --requests 20000                  # SQLite in a temp directory

The database is emptied (PostgreSQL: dropped and created again; SQLite: a fresh temp file) and gets the
test organisation grown to a county-sized one: 300 communities, the routing departments, two officers each,
a coordinating office. Then, at the bench instant T:

- `--requests` OPEN requests received over the 20 working days before T (75 % urgent-free mix of kinds,
  40 % already contacted, a few waiting for the citizen), with their stored SLA clocks (`SlaClock`) as
  every 5-minute scan up to T-5 min would have left them (levels and escalation steps taken);
- `--history` CLOSED requests over the year before (default: as many as `--requests`), with outcomes,
  so the metrics run over `--requests + --history` rows.

Loaded with COPY (PostgreSQL) / executemany (SQLite), the stats triggers off during the load and the
tallies rebuilt set-based afterwards (the migration's backfill), then VACUUM ANALYZE (as autovacuum would).
Timed: the scan at T (steady state: what 5 minutes brought), a rerun at T (idempotence: nothing), catch-up
scans after a 1-hour and a 1-day outage, and the metrics by department / division / month: the data
path (`metrics.summary`) and the whole console page over HTTP in-process (Django test client, city
leader). Prints JSON; `--out FILE` also writes it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

KINDS = [("enquiry", 30), ("help", 20), ("complaint", 25), ("report", 5), ("suggestion", 15), ("praise", 5)]
CATEGORIES = [("roads", 18), ("housing", 24), ("water", 12), ("environment", 12), ("welfare", 10),
              ("education", 8), ("health", 8), ("other", 8)]
CHUNK = 50_000


def _setup_db(url: str | None) -> None:
    if url:
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        tmp = tempfile.mkdtemp(prefix="fbbench-")
        os.environ["SQLITE_PATH"] = os.path.join(tmp, "bench.sqlite3")
        os.environ.setdefault("MINSHENG_DATA_DIR", tmp)


def build_world(n_communities: int = 300):
    """The test organisation, grown: communities under both towns, every routing department per county
    with two officers, a coordinating office. Returns (org, places, route table)."""
    from minsheng.accounts.roles import Role
    from minsheng.core.models import Department, DepartmentKind, Division, DivisionLevel
    from minsheng.feedback import services
    from minsheng.testing.factories import UserFactory, build_org

    org = build_org()
    office = Department.objects.create(division=org.city, kind=DepartmentKind.GOVOFFICE, name="青溪市政府办公室")
    UserFactory(username="coordinator", role=Role.DEPT_OFFICER, division=org.city, department=office)
    for county in (org.county_a, org.county_b):
        for kind in ("transport", "water", "ecology", "education", "health", "civil", "housing"):
            dept = Department.objects.filter(division=county, kind=kind).first() or Department.objects.create(
                division=county, kind=kind, name=f"{county.name}{kind}")
            for i in range(2):
                UserFactory(username=f"{county.pk}-{kind}-{i}", role=Role.DEPT_OFFICER, division=county,
                            department=dept)
    places = []
    for town in (org.town_a, org.town_b):
        for i in range(n_communities // 2):
            d = Division.objects.create(code=f"{town.code}{i:03d}", name=f"{town.name}{i:03d}社区",
                                        level=DivisionLevel.VILLAGE, parent=town, path="")
            d.path = f"{town.path}{d.pk}/"
            d.save(update_fields=["path"])
            places.append(d)
    routes = {(c, d.pk): services.route(category=c, division=d).pk for c, _w in CATEGORIES for d in places}
    return org, places, routes


def generate(*, open_n: int, history_n: int, now: dt.datetime, places, routes, seed: int = 1) -> dict[str, float]:
    """Rows straight into the tables (COPY on PostgreSQL), clocks included; see the module docstring."""
    from django.db import connection

    from minsheng.feedback import sla
    from minsheng.feedback.clocks import Rules
    from minsheng.feedback.models import CitizenRequest, SlaClock
    from minsheng.feedback.services import PHASES, budget_text

    rng = random.Random(seed)
    kinds, kind_w = zip(*KINDS, strict=True)
    cats, cat_w = zip(*CATEGORIES, strict=True)
    rules = Rules()
    calendar, table = rules.get(places[0])
    last_scan = now - dt.timedelta(minutes=5)
    memo: dict[tuple, list[dt.datetime]] = {}
    req_fields = [f for f in CitizenRequest._meta.concrete_fields if not f.primary_key]
    template = CitizenRequest(description="路灯不亮，晚上出行不便", address="", name="", phone="", division_id=0,
                              first_responder_id=0, owner_id=0, created_at=now)
    defaults = {f.column: f.get_db_prep_save(getattr(template, f.attname), connection) for f in req_fields}
    columns = ["id", *defaults]
    start_id = 1
    clock_cols = ["request_id", "phase", "warn_at", "due_at", "step2_at", "step3_at", "level", "next_at"]
    timings: dict[str, float] = {}

    def request_rows(n: int, is_open: bool, first_id: int):
        out_req, out_clock = [], []
        for i in range(n):
            pk = first_id + i
            kind, category = rng.choices(kinds, kind_w)[0], rng.choices(cats, cat_w)[0]
            place = places[rng.randrange(len(places))]
            unit = routes[(category, place.pk)]
            row = dict(defaults)
            row.update(receipt_code=f"B{pk:011d}", kind=kind, category=category, division_id=place.pk,
                       first_responder_id=unit, owner_id=unit, urgency="urgent" if rng.random() < 0.05 else "normal",
                       channel="hotline")
            if is_open:
                # Received in the 28 days before T, on a 10-minute grid (the calendar arithmetic is memoised).
                created = now - dt.timedelta(minutes=10 * rng.randrange(1, 28 * 24 * 6))
                row["created_at"] = created
                row["status"] = rng.choice(["received", "accepted"])
                if rng.random() < 0.4:
                    row["first_contact_at"] = created + dt.timedelta(hours=rng.lognormvariate(1.5, 1.0))
                    if row["first_contact_at"] >= now:
                        row["first_contact_at"] = None
                    else:
                        row["status"] = "in_progress"
                escalation = {}
                req = CitizenRequest(urgency=row["urgency"], category=category, kind=kind, created_at=created,
                                     division=place)
                for phase, field in PHASES:
                    if field == "first_contact_at" and row.get("first_contact_at"):
                        continue
                    key = (created, budget_text(req, phase, table))
                    instants = memo.get(key)
                    if instants is None:
                        instants = memo[key] = sla.threshold_instants(
                            calendar, budget=sla.Budget.parse(key[1]), received=created)
                    level = sum(1 for t in instants if t <= last_scan)
                    if level >= 2:
                        escalation[phase] = level - 1
                    out_clock.append((pk, phase, *instants, level, instants[level] if level < 4 else None))
                row["escalation"] = json.dumps(escalation)
            else:
                created = now - dt.timedelta(seconds=rng.randrange(30 * 86400, 395 * 86400),
                                             microseconds=rng.randrange(10**6))
                contact = created + dt.timedelta(hours=rng.lognormvariate(1.2, 0.8))
                closed = contact + dt.timedelta(hours=rng.lognormvariate(3.1, 0.6))
                row.update(created_at=created, first_contact_at=contact, accepted_at=contact, replied_at=closed,
                           closed_at=closed, status="closed", closed_on_time=rng.random() < 0.9,
                           resolved=rng.random() < 0.9, escalation="{}",
                           satisfaction=rng.choices([5, 4, 3, 2, 1], [55, 25, 10, 6, 4])[0])
            out_req.append((pk, *(row[c] for c in defaults)))
        return out_req, out_clock

    with connection.cursor() as cursor:
        pg = connection.vendor == "postgresql"
        if pg:
            cursor.execute("ALTER TABLE feedback_citizenrequest DISABLE TRIGGER feedback_stats")
        else:
            for op in ("insert", "update", "delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS feedback_stats_{op}")
        t = time.perf_counter()
        for is_open, total in ((True, open_n), (False, history_n)):
            for first in range(0, total, CHUNK):
                reqs, clocks = request_rows(min(CHUNK, total - first), is_open, start_id + first)
                _load(cursor, pg, CitizenRequest._meta.db_table, columns, reqs)
                _load(cursor, pg, SlaClock._meta.db_table, clock_cols, clocks)
            start_id += total
        timings["load_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        _stats_triggers_back(cursor, pg)
        if pg:
            cursor.execute("SELECT setval(pg_get_serial_sequence('feedback_citizenrequest', 'id'), %s)", [start_id])
        timings["tallies_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    timings["vacuum_analyze_s"] = round(time.perf_counter() - t, 1)
    timings["distinct_clock_computations"] = len(memo)
    return timings


def _load(cursor, pg: bool, table: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    if pg:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        from django.db import connection

        adapt = connection.ops.adapt_datetimefield_value
        rows = [tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in row) for row in rows]
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _stats_triggers_back(cursor, pg: bool) -> None:
    """The migration's set-based backfill of the tallies and spans, then the triggers on again."""
    import importlib

    m = importlib.import_module("minsheng.feedback.migrations.0007_sla_clocks_and_stats")
    cursor.execute("DELETE FROM feedback_requesttally")
    cursor.execute("DELETE FROM feedback_requestspan")
    if pg:
        for sql in m.POSTGRES[-2:]:
            cursor.execute(sql)
        cursor.execute("ALTER TABLE feedback_citizenrequest ENABLE TRIGGER feedback_stats")
    else:
        for sql in m.SQLITE:
            cursor.execute(sql)


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000, help="open requests (the scan's load)")
    parser.add_argument("--history", type=int, default=None, help="closed requests (default: as many)")
    parser.add_argument("--out", help="also write the JSON here")
    parser.add_argument("--profile", action="store_true", help="cProfile the 1-day catch-up scan")
    args = parser.parse_args()
    history = args.requests if args.history is None else args.history
    url = os.environ.get("DATABASE_URL")
    _setup_db(url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from minsheng.core.models import Notification
    from minsheng.feedback import clocks, metrics
    from minsheng.feedback.models import CitizenRequest, SlaClock

    out: dict[str, object] = {"db": connection.vendor, "open_requests": args.requests, "closed_requests": history,
                              "load_1min": os.getloadavg()[0]}
    org, places, routes = build_world()
    now = timezone.now().replace(second=0, microsecond=0)
    t = time.perf_counter()
    out.update(generate(open_n=args.requests, history_n=history, now=now, places=places, routes=routes))
    out["generate_s"] = round(time.perf_counter() - t, 1)
    out["clocks"] = SlaClock.objects.count()
    for label, at in (("scan_steady", now), ("scan_rerun", now), ("scan_after_1h_outage", now + dt.timedelta(hours=1)),
                      ("scan_after_1d_outage", now + dt.timedelta(days=1))):
        due = clocks.pending(now=at)
        notes = Notification.objects.count()
        if args.profile and label == "scan_after_1d_outage":
            import cProfile
            import pstats

            with cProfile.Profile() as prof:
                counts, seconds = timed(clocks.scan, now=at)
            pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
        else:
            counts, seconds = timed(clocks.scan, now=at)
        out[label] = {"clocks_due": due, **counts, "notifications": Notification.objects.count() - notes,
                      "seconds": round(seconds, 2)}
    setup_test_environment()
    client = Client()
    client.force_login(org.user("city_leader"))
    for group in ("department", "division", "month"):
        runs = []
        for _ in range(3):
            rows, seconds = timed(metrics.summary, group)
            runs.append(seconds)
        out[f"metrics_{group}_ms"] = round(min(runs) * 1000)
        out[f"metrics_{group}_rows"] = len(rows)
        pages = []
        for _ in range(3):
            response, seconds = timed(client.get, f"/console/feedback/metrics/?group={group}")
            assert response.status_code == 200, response.status_code
            pages.append(seconds)
        out[f"metrics_page_{group}_ms"] = round(min(pages) * 1000)
    if args.requests + history <= 200_000:  # the direct aggregation, for comparison (slow at 1M)
        _rows, seconds = timed(metrics.metrics, CitizenRequest.objects.all(), "department")
        out["metrics_direct_department_ms"] = round(seconds * 1000)
    out["load_1min_after"] = os.getloadavg()[0]
    text = json.dumps(out, ensure_ascii=False, indent=1, default=str)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
