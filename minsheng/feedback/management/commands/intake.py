"""`minsheng intake register [--loop]` and `minsheng intake status`: the portal's intake by hand.

The scheduler already queues the registration every few seconds (`feedback-intake`); an operator runs
this after an outage to clear the backlog at once, or runs `register --loop` as a process of its own
next to the task workers when the portal takes more than one worker can register."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from minsheng.feedback import intake


class Command(BaseCommand):
    help = "Citizen portal intake: register received submissions now, or show what is waiting."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        reg = sub.add_parser("register", help="register every received submission that may be tried now")
        reg.add_argument("--loop", action="store_true", help="keep registering until stopped (SIGTERM/SIGINT)")
        reg.add_argument("--idle", type=float, default=1.0, help="--loop: seconds to wait when nothing is waiting")
        sub.add_parser("status", help="how many are waiting or failed, and the oldest waiting")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "status":
            c = intake.counts()
            self.stdout.write(f"waiting={c['waiting']} failed={c['failed']} oldest={c['oldest'] or '-'}")
            return
        stop = {"now": False}

        def ask_stop(*_a: Any) -> None:
            stop["now"] = True

        signal.signal(signal.SIGTERM, ask_stop)
        signal.signal(signal.SIGINT, ask_stop)
        total = {"registered": 0, "failed": 0}
        while True:
            if opts["loop"]:
                close_old_connections()  # a long-running process: drop connections the database has closed
            done = intake.register_pending(budget_seconds=5.0 if opts["loop"] else None)
            for k in total:
                total[k] += done[k]
            if not opts["loop"] or stop["now"]:
                break
            if not done["registered"] and not done["failed"]:
                time.sleep(opts["idle"])
            if stop["now"]:
                break
        self.stdout.write(f"registered={total['registered']} failed={total['failed']}")
