"""Background work for finance: thin wrappers over services."""

from __future__ import annotations

from django_tasks import task


@task()
def take_evm_snapshots() -> int:
    """Daily: one earned-value snapshot per tracked project; warns when a project's health worsens."""
    from minsheng.finance.services.evm import evm_snapshot_all

    return evm_snapshot_all()
