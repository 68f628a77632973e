"""Background work for telemetry: thin wrappers over services, enqueued by the scheduler."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from minsheng.telemetry import alarms, storage, watch


@task()
def check_devices_offline() -> int:
    """Raise device-offline alarms (run every few minutes by the scheduler)."""
    return alarms.check_offline()


@task()
def escalate_alarms() -> int:
    """Escalate open alarms nobody has acknowledged in time (every few minutes)."""
    return alarms.escalate_unacknowledged()


@task()
def check_windowed_rules() -> int:
    """PM10 net of the background station and its daily allowance (every 15 minutes)."""
    return watch.check_windowed_rules()


@task()
def run_detectors() -> dict[str, int]:
    """Suspect-sensor detectors: stuck, spike, drift (every 15 minutes)."""
    return watch.run_detectors()


@task()
def create_partitions() -> list[str]:
    """PostgreSQL: readings partitions for this month and TELEMETRY_PARTITIONS_AHEAD months on (daily)."""
    return storage.ensure_partitions(ahead=settings.TELEMETRY_PARTITIONS_AHEAD)


@task()
def apply_retention() -> dict[str, int]:
    """Drop readings and minute roll-ups past MINSHENG_TELEMETRY_RETENTION_DAYS, hour roll-ups past
    MINSHENG_TELEMETRY_HOUR_ROLLUP_RETENTION_DAYS (nightly)."""
    now = timezone.now()
    return storage.purge(before=now - dt.timedelta(days=settings.MINSHENG_TELEMETRY_RETENTION_DAYS),
                         hours_before=now - dt.timedelta(days=settings.MINSHENG_TELEMETRY_HOUR_ROLLUP_RETENTION_DAYS))
