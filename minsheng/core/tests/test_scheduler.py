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
