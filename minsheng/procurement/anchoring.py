"""What the evidence ledger anchors for procurement besides bid commitments (which are anchored with their own
digest at submission): the cancellation of a tender, a row written once and never changed. Registered so that
`ledger verify` re-digests it and finds an edit made after anchoring."""

from __future__ import annotations

from typing import Any

from minsheng.ledger import canonical, registry

CANCELLATION_KIND = "tender_cancellation"


def cancellation_content(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "tender": c.tender.reference,
        "project": c.tender.project.code,
        "reason": c.reason,
        "status_before": c.status_before,
        "bids": list(c.bid_commitments),
        "at": canonical.format_time(c.cancelled_at),
    }


def register() -> None:
    registry.register("procurement.tendercancellation", content=cancellation_content, actor_field="cancelled_by_id",
                      select_related=("tender", "tender__project"))
