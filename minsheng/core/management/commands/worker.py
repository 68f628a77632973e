"""`minsheng worker`: run background tasks with the configured backend."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run a background task worker for the configured TASKS backend."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", action="store_true", help="Run what is queued, then exit.")
        parser.add_argument("--queue", default="default")

    def handle(self, *args: Any, **opts: Any) -> None:
        backend = settings.TASKS["default"]["BACKEND"]
        if backend == "django_tasks_db.DatabaseBackend":
            call_command("db_worker", queue_name=opts["queue"], batch=opts["batch"], reload=False,
                         verbosity=opts["verbosity"])
            return
        raise CommandError(f"No worker for TASKS backend {backend!r}; run that backend's own worker.")
