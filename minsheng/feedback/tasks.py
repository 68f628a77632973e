"""Background work for citizen requests: thin wrappers around services."""

from __future__ import annotations

from django_tasks import task

from minsheng.feedback import services


@task()
def scan_sla() -> dict[str, int]:
    """Every few minutes: SLA warnings, step-by-step escalation, overdue transfers."""
    return services.sla_scan()
