"""What the evidence ledger anchors for finance: the finance approval of a disbursement and the supervisor's
confirmation of the measured quantities (each a PaymentDecision, which never changes once made), with the figures
they approved. A supervisor's confirmation also carries the quantities he confirmed; the content of the other
steps is unchanged, so leaves already anchored still verify."""

from __future__ import annotations

from typing import Any

from minsheng.ledger import canonical, registry


def decision_content(d: Any) -> dict[str, Any]:
    r = d.request
    content = {
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
    if d.step == "supervisor":
        content["measured_quantities"] = r.measured_quantities
    return content


def register() -> None:
    registry.register("finance.paymentdecision", content=decision_content, actor_field="decided_by_id",
                      select_related=("request", "request__project", "request__contract",
                                      "request__contract__supplier"))
