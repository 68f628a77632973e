"""Evidence ledger benchmark: appends, proofs and full verification at up to 1,000,000 entries.

    .venv/bin/python bench/ledger_bench.py --db postgres --db sqlite            # full run, 1M entries
    .venv/bin/python bench/ledger_bench.py --db sqlite --size 100000            # quicker
    .venv/bin/python bench/ledger_bench.py --db postgres --verify-only --rounds 3  # verification only, on
                                                                                  # the log a full run left

Each database gets a fresh store (PostgreSQL: database `minsheng_ledger_bench` on 127.0.0.1:5432,
dropped and re-created; SQLite: a new WAL file in a temporary directory). Measured, in order:
  1. batched append throughput while filling the log to --size (one process, --batch per transaction);
  2. inclusion and consistency proof latency (p50/p95 over --proofs random requests at --size),
     through the same selectors the HTTP endpoints use (proof + root computation);
  3. full verification time at --size (`verification.verify`, records included), and in the same run
     raw hashlib throughput for the same number of hashes (--size leaf hashes of the stored leaf
     bytes, --size-1 node hashes) as the floor to compare with;
  4. unbatched append throughput, one process (one statement per transaction);
  5. four concurrent processes, batched and unbatched; then a check that the log has no gaps and no
     duplicate indices.
Results: bench/results/ledger-<db>.json, printed as a table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "minsheng_ledger_bench"


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    import django

    django.setup()


def _items(start: int, n: int, tag: str) -> list[dict]:
    return [
        {
            "kind": "inspection",
            "project_code": f"99010220260{(i % 1000):04d}00000001"[:24],
            "record": ("bench.item", f"{tag}{i}"),
            "digest": hashlib.sha256(f"{tag}{i}".encode()).hexdigest(),
            "actor_role": "supervisor",
        }
        for i in range(start, start + n)
    ]


def worker(mode: str, count: int, batch: int, tag: str, start_at: float) -> None:
    """A child process appending `count` statements (for the concurrent runs). All workers start at
    the same wall-clock instant, after Django is set up, so start-up is not measured."""
    _setup_django()
    from django.db import connection

    from minsheng.ledger import services

    log_obj = services.log_default()
    time.sleep(max(0.0, start_at - time.time()))
    if mode == "batched":
        for start in range(0, count, batch):
            services.anchor_many(_items(start, min(batch, count - start), tag), log_obj=log_obj)
    else:
        for item in _items(0, count, tag):
            services.anchor(log_obj=log_obj, **item)
    connection.close()
    print(json.dumps({"end": time.time(), "count": count}))


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def proofs_only(db: str, size: int, proofs: int) -> dict:
    """Re-measure proof latency on the log a previous full run left behind (no fill)."""
    _setup_django()
    from minsheng.ledger import selectors

    head = selectors.head()
    rng = random.Random(2026)
    inc, con = [], []
    for _ in range(proofs):
        t = time.perf_counter()
        selectors.inclusion(rng.randrange(size), size, head)
        inc.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        selectors.consistency(rng.randrange(1, size), size, head)
        con.append((time.perf_counter() - t) * 1000)
    return {
        "db": db,
        "size": size,
        "log_size": head.size,
        "proof_ms": {
            "inclusion": {"p50": round(statistics.median(inc), 3), "p95": round(_pct(inc, 95), 3)},
            "consistency": {"p50": round(statistics.median(con), 3), "p95": round(_pct(con, 95), 3)},
            "requests": proofs,
        },
    }


def raw_hashing(leaves: list[bytes]) -> tuple[float, int]:
    """RFC 9162 leaf and node hashes of `leaves` with plain hashlib: the floor verification is held to."""
    t = time.perf_counter()
    sha = hashlib.sha256
    level = [sha(b"\x00" + d).digest() for d in leaves]
    nodes = 0
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        nodes += len(nxt)
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return time.perf_counter() - t, len(leaves) + nodes


def verification_vs_raw(size: int, rounds: int = 1) -> dict:
    """Full verification (`verification.verify`, records included) and, back to back in the same
    process, raw hashing of the same leaves; with rounds > 1 they alternate and the best of each
    counts, so a burst of load on a shared machine does not land on one side only."""
    from minsheng.ledger import verification
    from minsheng.ledger.models import Leaf
    from minsheng.ledger.services import log_default

    log_obj = log_default()
    # Every leaf of the log (a full run has appended more than --size by the time it is re-measured).
    leaves = [bytes(d) for d in Leaf.objects.filter(log=log_obj).order_by("index").values_list("data", flat=True)]
    verify_times, raw_times = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        report = verification.verify(records=True)
        verify_times.append(time.perf_counter() - t)
        raw_s, hashes = raw_hashing(leaves)
        raw_times.append(raw_s)
    verify_s, raw_s = min(verify_times), min(raw_times)
    return {
        "seconds": round(verify_s, 2),
        "ok": report.ok,
        "problems": len(report.problems),
        "entries": report.size,
        "raw_hashlib_seconds": round(raw_s, 2),
        "hashes": hashes,
        "ratio_to_raw": round(verify_s / raw_s, 2),
        "rounds": rounds,
        "all_seconds": [round(x, 2) for x in verify_times],
        "all_raw_seconds": [round(x, 2) for x in raw_times],
    }


def run(db: str, size: int, batch: int, proofs: int, unbatched: int, conc_batches: int) -> dict:
    _setup_django()
    from django.core.management import call_command
    from django.db import connection

    from minsheng.ledger import selectors, services
    from minsheng.ledger.models import Leaf, Log

    call_command("migrate", verbosity=0)
    log_obj = services.log_default()
    result: dict = {"db": db, "size": size, "batch": batch}

    # 1. fill, batched
    t0 = time.perf_counter()
    segments = []
    seg_t = t0
    done = 0
    while done < size:
        n = min(batch, size - done)
        services.anchor_many(_items(done, n, "f"), log_obj=log_obj)
        done += n
        if done % 100_000 == 0 or done == size:
            now = time.perf_counter()
            segments.append(
                {
                    "up_to": done,
                    "entries_per_s": round(
                        (done - (segments[-1]["up_to"] if segments else 0)) / (now - seg_t)
                    ),
                }
            )
            seg_t = now
            print(f"  [{db}] {done:,} entries, {segments[-1]['entries_per_s']:,}/s", flush=True)
    fill = time.perf_counter() - t0
    with connection.cursor() as cur:  # fresh statistics, as autovacuum (PostgreSQL) would gather
        cur.execute("ANALYZE")
    result["append_batched_single"] = {
        "entries": size,
        "seconds": round(fill, 2),
        "entries_per_s": round(size / fill),
        "segments": segments,
    }
    services.checkpoint_create()

    # 2. proofs at `size`
    head = selectors.head()
    rng = random.Random(2026)
    inc, con = [], []
    for _ in range(proofs):
        i = rng.randrange(size)
        t = time.perf_counter()
        selectors.inclusion(i, size, head)
        inc.append((time.perf_counter() - t) * 1000)
        m = rng.randrange(1, size)
        t = time.perf_counter()
        selectors.consistency(m, size, head)
        con.append((time.perf_counter() - t) * 1000)
    result["proof_ms"] = {
        "inclusion": {"p50": round(statistics.median(inc), 3), "p95": round(_pct(inc, 95), 3)},
        "consistency": {"p50": round(statistics.median(con), 3), "p95": round(_pct(con, 95), 3)},
        "requests": proofs,
    }

    # 3. full verification vs raw hashing of the same number of hashes
    result["verification"] = verification_vs_raw(size)

    # 4. unbatched, single process
    t = time.perf_counter()
    for item in _items(0, unbatched, "u"):
        services.anchor(log_obj=log_obj, **item)
    s = time.perf_counter() - t
    result["append_unbatched_single"] = {
        "entries": unbatched,
        "seconds": round(s, 2),
        "entries_per_s": round(unbatched / s),
    }
    connection.close()

    # 5. four concurrent processes
    for mode, count in (("batched", conc_batches * batch), ("unbatched", unbatched // 4)):
        start_at = time.time() + 8
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--_worker",
                    mode,
                    str(count),
                    str(batch),
                    f"{mode}{p}-",
                    str(start_at),
                ],
                stdout=subprocess.PIPE,
                env=os.environ.copy(),
            )
            for p in range(4)
        ]
        outs = [json.loads(p.communicate()[0].decode().strip().splitlines()[-1]) for p in procs]
        wall = max(o["end"] for o in outs) - start_at
        total = sum(o["count"] for o in outs)
        result[f"append_{mode}_4proc"] = {
            "entries": total,
            "seconds": round(wall, 2),
            "entries_per_s": round(total / wall),
        }

    head = Log.objects.get(pk=log_obj.pk)
    n = Leaf.objects.filter(log=log_obj).count()
    distinct = Leaf.objects.filter(log=log_obj).values("index").distinct().count()
    top = Leaf.objects.filter(log=log_obj).order_by("-index").values_list("index", flat=True).first()
    result["integrity_after_concurrency"] = {
        "head_size": head.size,
        "rows": n,
        "distinct_indices": distinct,
        "max_index": top,
        "no_gaps_no_duplicates": n == distinct == head.size == top + 1,
    }
    return result


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":")[1].strip()
    except OSError:
        pass
    pg = subprocess.run(["psql", PG_ADMIN, "-Atc", "show server_version"], capture_output=True, text=True)
    import sqlite3

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgres": pg.stdout.strip() or "n/a",
        "os": platform.platform(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--unbatched", type=int, default=2000)
    parser.add_argument("--concurrent-batches", type=int, default=20, help="batches per process, 4 processes")
    parser.add_argument(
        "--proofs-only",
        action="store_true",
        help="re-measure proof latency on the database a previous full run left behind",
    )
    parser.add_argument(
        "--verify-only",
        action="store_true",
        help="re-measure full verification against raw hashing on the log a previous full run left behind",
    )
    parser.add_argument("--rounds", type=int, default=1, help="--verify-only: alternate this many times, keep the best")
    parser.add_argument("--pg-db", default=PG_BENCH_DB, help="PostgreSQL bench database (dropped and re-created)")
    parser.add_argument(
        "--sqlite-path",
        default=str(Path(tempfile.gettempdir()) / "ledger-bench-sqlite.sqlite3"),
        help="SQLite bench file (deleted and re-created)",
    )
    parser.add_argument("--_worker", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--_run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._worker:
        mode, count, batch, tag, start_at = args._worker
        worker(mode, int(count), int(batch), tag, float(start_at))
        return
    if args._run:
        if args.proofs_only:
            out = proofs_only(args._run, args.size, args.proofs)
            print("RESULT " + json.dumps(out))
            return
        if args.verify_only:
            _setup_django()
            from django.core.management import call_command

            call_command("migrate", verbosity=0)  # the store may predate the newest ledger migration
            out = {"db": args._run, "size": args.size, "verification": verification_vs_raw(args.size, args.rounds)}
            print("RESULT " + json.dumps(out))
            return
        out = run(args._run, args.size, args.batch, args.proofs, args.unbatched, args.concurrent_batches)
        print("RESULT " + json.dumps(out))
        return
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    for db in args.db or ["sqlite"]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
        env.update({"LEDGER_ORIGIN": "bench.minsheng.local/ledger", "LOG_LEVEL": "WARNING"})
        # The data directory holds the development signing key: kept per store so that re-measuring
        # (--proofs-only, --verify-only) checks the checkpoints with the key that signed them.
        store = args.pg_db if db == "postgres" else Path(args.sqlite_path).stem
        data_dir = Path(tempfile.gettempdir()) / f"ledger-bench-data-{store}"
        data_dir.mkdir(exist_ok=True)
        env["MINSHENG_DATA_DIR"] = str(data_dir)
        reuse = args.proofs_only or args.verify_only
        pg_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + args.pg_db
        if db == "postgres":
            if not reuse:
                subprocess.run(["psql", PG_ADMIN, "-qc", f'DROP DATABASE IF EXISTS "{args.pg_db}"'], check=True)
                subprocess.run(["psql", PG_ADMIN, "-qc", f'CREATE DATABASE "{args.pg_db}"'], check=True)
            env["DATABASE_URL"] = pg_url
        else:
            # Kept (not deleted after the run) so --proofs-only and --verify-only can reuse it.
            env["SQLITE_PATH"] = args.sqlite_path
            if not reuse:
                for suffix in ("", "-wal", "-shm"):
                    Path(env["SQLITE_PATH"] + suffix).unlink(missing_ok=True)
        if not reuse:
            (data_dir / "ledger-signing.key").unlink(missing_ok=True)
        cmd = [
            sys.executable,
            __file__,
            "--_run",
            db,
            "--size",
            str(args.size),
            "--batch",
            str(args.batch),
            "--proofs",
            str(args.proofs),
            "--unbatched",
            str(args.unbatched),
            "--concurrent-batches",
            str(args.concurrent_batches),
            "--rounds",
            str(args.rounds),
        ] + (["--proofs-only"] if args.proofs_only else []) + (["--verify-only"] if args.verify_only else [])
        print(f"== {db}: {' '.join(cmd[1:])}", flush=True)
        t = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
        sys.stdout.write(
            "".join(line + "\n" for line in proc.stdout.splitlines() if not line.startswith("RESULT "))
        )
        if proc.returncode:
            sys.exit(proc.returncode)
        result = json.loads(next(line[7:] for line in proc.stdout.splitlines() if line.startswith("RESULT ")))
        result["machine"] = machine()
        result["command"] = "bench/ledger_bench.py " + " ".join(sys.argv[1:])
        result["wall_seconds"] = round(time.perf_counter() - t, 1)
        suffix = "-proofs" if args.proofs_only else "-verify" if args.verify_only else ""
        path = results_dir / f"ledger-{db}{suffix}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(json.dumps(result, indent=2, ensure_ascii=False))
        print(f"-> {path}")


if __name__ == "__main__":
    main()
