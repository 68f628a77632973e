"""`minsheng serve` end to end: one command starts web, worker and scheduler on SQLite; a task
enqueued by the application is run by the worker; stopping the command stops every child."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(env: dict, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "minsheng.cli", *args], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_serve_runs_web_worker_and_scheduler(tmp_path):
    port = _free_port()
    env = {**os.environ, "MINSHENG_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "minsheng.settings"}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "minsheng.cli", "serve", "--port", str(port), "--web-workers", "1"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        # `serve` applies every migration to the fresh database first: on a busy CI machine that alone can
        # take minutes on SQLite. The bound only keeps a hung server from hanging the suite.
        deadline = time.monotonic() + 300
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.5)
        assert body is not None, "web server did not answer"
        assert body["info"]["title"] == "Minsheng API"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/console/login/", timeout=5) as r:
            assert r.status == 200

        # Enqueue a real task through the application; the worker started by `serve` must run it.
        task_id = _run(env, "shell", "-c",
                       "from minsheng.projects.tasks import notify_overdue_wbs; print(notify_overdue_wbs.enqueue().id)"
                       ).strip()
        status = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = _run(env, "shell", "-c",
                          f"from django_tasks_db.models import DBTaskResult; "
                          f"print(DBTaskResult.objects.get(id='{task_id}').status)").strip()
            if status in {"SUCCESSFUL", "FAILED"}:
                break
            time.sleep(0.5)
        assert status == "SUCCESSFUL"

        # The scheduler holds the single-scheduler lock.
        holder = _run(env, "shell", "-c",
                      "from minsheng.core.models import SchedulerLock; print(SchedulerLock.objects.get().holder)")
        assert holder.strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    # No child is left behind.
    leftover = subprocess.run(["pgrep", "-f", f"127.0.0.1:{port}"], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
