"""What the evidence ledger anchors for finance: the finance approval of a disbursement (a PaymentDecision,
which never changes once made), with the figures it approved."""

from __future__ import annotations

from typing import Any

from minsheng.ledger import canonical, registry


def decision_content(d: Any) -> dict[str, Any]:
    r = d.request
    return {
        "id": d.pk,
        "payment": r.pk,
        "project": r.project.code,
        "contract": r.contract.number,
        "supplier": r.contract.supplier.credit_code,
        "milestone": r.milestone_id,
        "amount": str(r.amount),
        "currency": r.currency,
        "invoice_number": r.invoice_number,
        "invoice_amount": str(r.invoice_amount),
        "invoice_date": r.invoice_date.isoformat(),
        "step": d.step,
        "approve": d.approve,
        "comment": d.comment,
        "at": canonical.format_time(d.at),
    }


def register() -> None:
    registry.register("finance.paymentdecision", content=decision_content, actor_field="decided_by_id",
                      select_related=("request", "request__project", "request__contract",
                                      "request__contract__supplier"))
