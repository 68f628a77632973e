import datetime as dt

import pytest
from django.utils import timezone

from minsheng.core import scheduler
from minsheng.core.models import SchedulerLock


@pytest.mark.django_db
def test_only_one_scheduler_holds_the_lock():
    now = timezone.now()
    assert scheduler.acquire_lock("host-a:1", now=now)
    assert not scheduler.acquire_lock("host-b:2", now=now + dt.timedelta(seconds=5))
    # The holder keeps it by refreshing its heartbeat.
    assert scheduler.acquire_lock("host-a:1", now=now + dt.timedelta(seconds=30))
    assert SchedulerLock.objects.get().holder == "host-a:1"


@pytest.mark.django_db
def test_a_stale_scheduler_is_taken_over():
    now = timezone.now()
    assert scheduler.acquire_lock("host-a:1", now=now)
    later = now + scheduler.STALE_AFTER + dt.timedelta(seconds=1)
    assert scheduler.acquire_lock("host-b:2", now=later)
    assert not scheduler.acquire_lock("host-a:1", now=later)
    assert SchedulerLock.objects.get().holder == "host-b:2"


@pytest.mark.django_db
def test_every_scheduled_job_names_a_real_task():
    from importlib import import_module

    from django_tasks.base import Task

    for job in scheduler.JOBS:
        module, name = job.task.rsplit(".", 1)
        assert isinstance(getattr(import_module(module), name), Task), job.id


@pytest.mark.django_db
def test_finished_task_rows_are_pruned_after_a_week_failed_ones_after_a_month(settings):
    from django_tasks_db.models import DBTaskResult

    from minsheng.core import tasks

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    now = timezone.now()

    def row(status: str, days: float) -> DBTaskResult:
        return DBTaskResult.objects.create(task_path="minsheng.feedback.tasks.deliver_notice", status=status,
                                           args_kwargs={"args": [], "kwargs": {}}, queue_name="default",
                                           backend_name="default", finished_at=now - dt.timedelta(days=days))

    keep = [row("SUCCESSFUL", 6), row("FAILED", 20), row("READY", 40)]
    gone = [row("SUCCESSFUL", 8), row("FAILED", 31)]
    tasks.prune_task_results.call()
    left = set(DBTaskResult.objects.values_list("id", flat=True))
    assert {r.id for r in keep} <= left and not ({r.id for r in gone} & left)
