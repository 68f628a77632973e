"""`minsheng serve`: the embedded default — web, task worker and scheduler in one command.

Each runs as its own child process (the same ones an operator runs separately at scale); if any
of them dies, the others are stopped and the command exits non-zero so a supervisor notices.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the web server, a task worker and the scheduler on the configured database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("MINSHENG_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("MINSHENG_PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
        parser.add_argument("--no-migrate", action="store_true", help="Do not apply migrations first.")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        # Rate limits and captchas share the cache across processes: without Redis it is a table.
        call_command("createcachetable", verbosity=0)
        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)
        py = sys.executable
        bind = f"{opts['host']}:{opts['port']}"
        commands = {
            "web": [py, "-m", "gunicorn", "minsheng.wsgi:application", "--bind", bind,
                    "--workers", str(opts["web_workers"]), "--threads", "4", "--access-logfile", "-",
                    "--graceful-timeout", "10"],
            "worker": [py, "-m", "minsheng.cli", "worker"],
            "scheduler": [py, "-m", "minsheng.cli", "scheduler", "--wait"],
        }
        children: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(*_a: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for name, cmd in commands.items():
            children[name] = subprocess.Popen(cmd)  # noqa: S603 - our own interpreter and modules
        self.stdout.write(self.style.SUCCESS(f"Minsheng is running at http://{bind}/  (console: /console/)"))
        exit_code = 0
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with {child.returncode}; stopping the others.")
                        exit_code = child.returncode or 1
                        stopping = True
                time.sleep(0.5)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        if exit_code:
            sys.exit(exit_code)
