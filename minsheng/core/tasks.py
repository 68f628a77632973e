"""Background housekeeping for the whole platform."""

from __future__ import annotations

from django.core.management import call_command
from django_tasks import task

FINISHED_KEEP_DAYS = 7  # a finished task's result row (notices sent, scans run) is kept this long
FAILED_KEEP_DAYS = 30  # failed ones longer, for whoever investigates


@task()
def prune_task_results() -> None:
    """Daily: delete finished task result rows older than FINISHED_KEEP_DAYS (failed ones after
    FAILED_KEEP_DAYS), so the task table does not grow with every notice sent."""
    call_command("prune_db_task_results", min_age_days=FINISHED_KEEP_DAYS, failed_min_age_days=FAILED_KEEP_DAYS,
                 queue_name="*", verbosity=0)
