"""OCDS export benchmark: publish and export the contracting processes of 1,000 and then 10,000 projects.

    .venv/bin/python bench/ocds_bench.py                       # PostgreSQL minsheng_ocds_bench, 1k then 10k
    .venv/bin/python bench/ocds_bench.py --db sqlite --sizes 1000 5000

The database is dropped and created again. The world grows in steps (--sizes, cumulative): each project has
an approved budget, a tender with three opened bids, an award, a contract with three milestones (an approved
change order on every third) and two paid payments on average. At each size:
  1. `publish_all()` writes one release per process (the real builder and publisher);
  2. `minsheng export ocds --out FILE` runs in a fresh subprocess: wall time, peak RSS (VmHWM), file size;
  3. the same export again under tracemalloc: peak Python heap.
Memory is flat in size when the peak RSS and heap at 10k equal those at 1k. Results: JSON on stdout and in
bench/results/ocds-<db>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

EXPORT = r"""
import json, os, sys, time, tracemalloc
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
import django
django.setup()
from django.core.management import call_command
traced = {traced!r}
if traced:
    tracemalloc.start()
t = time.perf_counter()
call_command("export", "ocds", "--out", {out!r})
seconds = time.perf_counter() - t
peak = tracemalloc.get_traced_memory()[1] if traced else None
# VmHWM (peak resident set of this program): ru_maxrss would include the parent's memory at fork.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({{"seconds": seconds, "maxrss_mb": hwm / 1024, "heap_peak_mb": peak / 2**20 if peak else None}}))
"""


def export(out: Path, traced: bool) -> dict:
    script = EXPORT.format(root=str(ROOT), out=str(out), traced=traced)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ.copy(),
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    from procurement_world import World, setup_db

    setup_db(os.environ.get("DATABASE_URL") if args.db == "postgres" else "sqlite", "minsheng_ocds_bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from minsheng.procurement.models import OcdsRelease
    from minsheng.procurement.ocds import publisher

    world = World()
    results = {"db": connection.vendor, "cpus": os.cpu_count(), "steps": []}
    have = 0
    tmp = Path(tempfile.mkdtemp(prefix="ocdsbench-"))
    for size in sorted(args.sizes):
        load = os.getloadavg()[0]
        t = time.perf_counter()
        world.processes(size - have)
        world.payments(2 * (size - have))
        generate_s = time.perf_counter() - t
        have = size
        t = time.perf_counter()
        written = publisher.publish_all()
        publish_s = time.perf_counter() - t
        out = tmp / f"ocds-{size}.json"
        plain = export(out, traced=False)
        traced = export(out, traced=True)
        step = {
            "projects": size, "releases": OcdsRelease.objects.count(), "new_releases": written,
            "generate_s": round(generate_s, 1), "publish_s": round(publish_s, 1),
            "publish_per_process_ms": round(publish_s * 1000 / max(written, 1), 1),
            "export_s": round(plain["seconds"], 2), "export_maxrss_mb": round(plain["maxrss_mb"], 1),
            "export_heap_peak_mb": round(traced["heap_peak_mb"], 1), "export_traced_s": round(traced["seconds"], 2),
            "file_mb": round(out.stat().st_size / 2**20, 1), "load_1min_before": load,
            "load_1min_after": os.getloadavg()[0],
        }
        results["steps"].append(step)
        print(json.dumps(step), flush=True)
    dest = ROOT / "bench" / "results" / f"ocds-{connection.vendor}.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
