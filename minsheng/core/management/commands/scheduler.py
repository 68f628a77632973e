"""`minsheng scheduler`: enqueue periodic tasks on cron triggers; one scheduler at a time."""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from minsheng.core import scheduler as sched


class Command(BaseCommand):
    help = "Run the periodic-job scheduler (enqueues tasks; a worker runs them)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--wait", action="store_true",
                            help="If another scheduler holds the lock, wait and take over when it goes stale.")

    def handle(self, *args: Any, **opts: Any) -> None:
        holder = f"{socket.gethostname()}:{os.getpid()}"
        if not sched.acquire_lock(holder):
            if not opts["wait"]:
                self.stderr.write("Another scheduler is running (lock held); exiting. Use --wait to stand by.")
                sys.exit(3)
            self.stdout.write("Another scheduler holds the lock; standing by.")
        scheduler = BlockingScheduler(timezone=settings.TIME_ZONE)

        def heartbeat() -> None:
            close_old_connections()
            if not sched.acquire_lock(holder):
                if opts["wait"]:
                    return
                self.stderr.write("Lost the scheduler lock; stopping.")
                scheduler.shutdown(wait=False)

        def run(task_path: str, only_if: str) -> None:
            close_old_connections()
            if sched.acquire_lock(holder):
                sched.enqueue(task_path, only_if)

        scheduler.add_job(heartbeat, "interval", seconds=sched.HEARTBEAT_SECONDS, id="heartbeat")
        for job in sched.JOBS:
            scheduler.add_job(run, CronTrigger(**job.cron, timezone=settings.TIME_ZONE), args=[job.task, job.only_if],
                              id=job.id)
        self.stdout.write(f"Scheduler {holder} running {len(sched.JOBS)} job(s).")
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            sched.release_lock(holder)
