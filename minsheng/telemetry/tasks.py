"""Background work for telemetry: thin wrappers over services."""

from __future__ import annotations

from django_tasks import task

from minsheng.telemetry import alarms


@task()
def check_devices_offline() -> int:
    """Raise device-offline alarms (run every few minutes by the scheduler)."""
    return alarms.check_offline()
