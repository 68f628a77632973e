"""Several real processes append at once, each with its own database connection: the log ends with
no gaps, no duplicate indices, and a root equal to the RFC 9162 root of the stored leaves."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.db import connection

from minsheng.ledger import merkle, verification
from minsheng.ledger.models import Leaf, Log

REPO = Path(__file__).resolve().parents[3]
CHILD = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {repo!r})
    os.environ["DJANGO_SETTINGS_MODULE"] = "minsheng.settings"
    import django
    django.setup()
    from minsheng.ledger import services
    tag, start_at = sys.argv[1], float(sys.argv[2])
    log_obj = services.log_default()
    time.sleep(max(0.0, start_at - time.time()))
    for i in range(15):
        services.anchor(kind="inspection", project_code="P", record=("bench.item", f"{{tag}}-{{i}}"),
                        digest=f"{{i:064x}}", log_obj=log_obj)
        services.anchor_many([{{"kind": "inspection", "project_code": "P",
                                "record": ("bench.item", f"{{tag}}-b{{i}}-{{j}}"), "digest": f"{{j:064x}}"}}
                               for j in range(7)], log_obj=log_obj)
    # at-least-once delivery: the same evidence again from every process appends nothing
    services.anchor(kind="inspection", project_code="P", record=("bench.item", "shared"), digest="ab" * 32,
                    log_obj=log_obj)
""").format(repo=str(REPO))
PROCESSES = 4


def _run_children(env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    start_at = time.time() + 6
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), f"p{p}", str(start_at)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(PROCESSES)
    ]
    for p in procs:
        _out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]


def _check_log() -> None:
    log_obj = Log.objects.get()
    expected = PROCESSES * 15 * 8 + 1
    indices = list(Leaf.objects.filter(log=log_obj).order_by("index").values_list("index", flat=True))
    assert log_obj.size == expected and indices == list(range(expected))
    data = [
        bytes(d) for d in Leaf.objects.filter(log=log_obj).order_by("index").values_list("data", flat=True)
    ]
    assert bytes(log_obj.root) == merkle.mth(merkle.Hasher(log_obj.hash_alg), data)
    assert verification.verify(log_obj=log_obj, save=False).ok


@pytest.mark.slow
@pytest.mark.django_db
def test_concurrent_appenders_leave_no_gaps_or_duplicates(tmp_path, settings):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(
        {
            "LEDGER_ORIGIN": settings.LEDGER_ORIGIN,
            "LEDGER_SIGNING_KEY": settings.LEDGER_SIGNING_KEY,
            "MINSHENG_DATA_DIR": str(tmp_path),
            "LOG_LEVEL": "WARNING",
        }
    )
    # A fresh store the processes share (the test database is in memory on SQLite, and is flushed
    # between tests on PostgreSQL): a WAL file, or a scratch PostgreSQL database.
    scratch = None
    if connection.vendor == "postgresql":
        import psycopg

        s = connection.settings_dict
        base = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
        scratch = f"{s['NAME']}_concurrency_{os.getpid()}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
            admin.execute(f'CREATE DATABASE "{scratch}"')
        env["DATABASE_URL"] = f"{base}/{scratch}"
    else:
        env["SQLITE_PATH"] = str(tmp_path / "concurrent.sqlite3")
    try:
        subprocess.run(
            [sys.executable, "-m", "minsheng.cli", "migrate", "-v0"], env=env, check=True, cwd=REPO
        )
        _run_children(env, tmp_path)
        check = textwrap.dedent(f"""
            import sys; sys.path.insert(0, {str(REPO)!r})
            import os; os.environ["DJANGO_SETTINGS_MODULE"] = "minsheng.settings"
            import django; django.setup()
            from minsheng.ledger.tests import test_concurrency
            test_concurrency._check_log()
            print("checked")
        """)
        done = subprocess.run(
            [sys.executable, "-c", check], env=env, capture_output=True, text=True, cwd=REPO
        )
        assert done.returncode == 0 and "checked" in done.stdout, done.stderr[-3000:]
    finally:
        if scratch:
            with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
