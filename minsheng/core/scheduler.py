"""The periodic-job table and the single-scheduler lock.

The scheduler only *enqueues* tasks on cron triggers; workers run them. Only one scheduler may be
active: it holds a row lock in the database (SchedulerLock) and refreshes a heartbeat; another
scheduler takes over only after the heartbeat has gone stale.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from importlib import import_module

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from minsheng.core.models import SchedulerLock

log = logging.getLogger(__name__)

LOCK_NAME = "scheduler"
STALE_AFTER = dt.timedelta(seconds=60)
HEARTBEAT_SECONDS = 15


@dataclass(frozen=True)
class Job:
    id: str
    task: str  # dotted path of a django-tasks Task
    cron: dict[str, str]  # APScheduler CronTrigger fields, in Asia/Shanghai
    # Dotted path of a cheap check; the task is queued only when it answers True (a job that runs every
    # few seconds would otherwise leave a task row each time with nothing to do).
    only_if: str = ""


JOBS: list[Job] = [
    Job("wbs-overdue-digest", "minsheng.projects.tasks.notify_overdue_wbs", {"hour": "8", "minute": "0"}),
    Job("ledger-checkpoint", "minsheng.ledger.tasks.checkpoint_if_grown", {"minute": "*/5"}),
    Job("ledger-verify", "minsheng.ledger.tasks.verify_log", {"hour": "2", "minute": "30"}),
    # The portal's submissions are received in one INSERT and registered here within seconds (0006).
    Job("feedback-intake", "minsheng.feedback.tasks.register_intake", {"second": "*/5"},
        only_if="minsheng.feedback.intake.waiting"),
    Job("feedback-sla-scan", "minsheng.feedback.tasks.scan_sla", {"minute": "*/5"}),
    Job("feedback-retention", "minsheng.feedback.tasks.erase_personal_data", {"hour": "3", "minute": "15"}),
    Job("rectification-escalation", "minsheng.construction.tasks.escalate_overdue_rectifications",
        {"hour": "8", "minute": "10"}),
    Job("telemetry-offline", "minsheng.telemetry.tasks.check_devices_offline", {"minute": "*/5"}),
    Job("telemetry-escalation", "minsheng.telemetry.tasks.escalate_alarms", {"minute": "*/5"}),
    Job("telemetry-windowed-rules", "minsheng.telemetry.tasks.check_windowed_rules", {"minute": "1,16,31,46"}),
    Job("telemetry-detectors", "minsheng.telemetry.tasks.run_detectors", {"minute": "3,18,33,48"}),
    Job("telemetry-partitions", "minsheng.telemetry.tasks.create_partitions", {"hour": "0", "minute": "20"}),
    Job("telemetry-retention", "minsheng.telemetry.tasks.apply_retention", {"hour": "3", "minute": "40"}),
    Job("insight-redflags", "minsheng.insight.tasks.recompute_red_flags", {"hour": "1", "minute": "40"}),
    Job("evm-snapshots", "minsheng.finance.tasks.take_evm_snapshots", {"hour": "6", "minute": "30"}),
    Job("task-results-prune", "minsheng.core.tasks.prune_task_results", {"hour": "4", "minute": "10"}),
]


def acquire_lock(holder: str, *, now: dt.datetime | None = None) -> bool:
    """Take or keep the lock; True when `holder` holds it afterwards."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            _obj, created = SchedulerLock.objects.get_or_create(
                name=LOCK_NAME, defaults={"holder": holder, "heartbeat_at": now}
            )
    except IntegrityError:
        created = False
    if created:
        return True
    taken = SchedulerLock.objects.filter(name=LOCK_NAME).filter(
        Q(holder=holder) | Q(heartbeat_at__lt=now - STALE_AFTER)
    ).update(holder=holder, heartbeat_at=now)
    return taken == 1


def release_lock(holder: str) -> None:
    SchedulerLock.objects.filter(name=LOCK_NAME, holder=holder).delete()


def _resolve(path: str):
    module, name = path.rsplit(".", 1)
    return getattr(import_module(module), name)


def enqueue(task_path: str, only_if: str = "") -> bool:
    """Queue the task (unless `only_if` says there is nothing to do); True when queued."""
    if only_if and not _resolve(only_if)():
        return False
    result = _resolve(task_path).enqueue()
    log.info("enqueued %s as %s", task_path, result.id)
    return True
