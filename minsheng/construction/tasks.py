"""Background work for supervision: thin wrappers over services."""

from __future__ import annotations

from django_tasks import task

from minsheng.construction import services


@task()
def escalate_overdue_rectifications() -> int:
    """Escalate rectification orders past their deadline (run daily by the scheduler)."""
    return services.rectifications_escalate()
