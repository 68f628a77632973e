"""Background work for citizen requests: thin wrappers around services."""

from __future__ import annotations

from django_tasks import task

from minsheng.feedback import intake, notices, services


@task()
def scan_sla() -> dict[str, int]:
    """Every few minutes: SLA warnings, step-by-step escalation, overdue transfers."""
    return services.sla_scan()


@task()
def register_intake() -> dict[str, int]:
    """Every few seconds: register the portal's submissions received since (intake.py)."""
    return intake.register_pending()


@task()
def erase_personal_data() -> int:
    """Daily: erase personal data from requests closed longer ago than the retention period, and drop
    registered intake rows past their keeping time."""
    intake.purge()
    return services.personal_data_erase()


@task()
def deliver_notice(notice: dict) -> None:
    """A citizen notice through every channel (queued by `notices.tell` with the change it reports)."""
    notices.deliver(notices.Notice(**notice))
