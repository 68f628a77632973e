"""The demo city's money: budgets, then procurement, then payments, then what is published and flagged.

The order follows the layering of decision 0004: payments cite the contracts procurement made, which were
tendered from the budgets approved first."""

from __future__ import annotations

import datetime as dt


def generate_money(*, as_of: dt.date, seed: int) -> list[str]:
    from minsheng.finance.demo import generate_budgets, generate_payments
    from minsheng.insight.demo import generate_insight
    from minsheng.procurement.demo import generate_procurement
    from minsheng.procurement.ocds.publisher import publish_all

    lines = []
    budgets = generate_budgets(as_of=as_of, seed=seed)
    lines.append(
        f"Budgets: {budgets.versions} versions, {budgets.lines} lines, {budgets.commitments} funding commitments, "
        f"{budgets.arrivals} arrivals"
    )
    procurement = generate_procurement(as_of=as_of, seed=seed)
    lines.append(
        f"Procurement: {procurement.tenders} tenders, {procurement.bids} sealed bids, "
        f"{procurement.contracts} contracts, {procurement.variations} variations"
    )
    payments = generate_payments(as_of=as_of, seed=seed)
    lines.append(f"Payments: {payments.payments} requests, {payments.signoffs} confirmed by their supervisor "
                 f"({payments.anchored} confirmations and approvals anchored in the ledger)")
    lines.append(f"OCDS: {publish_all()} releases published")
    insight = generate_insight(seed=seed)
    flags = ", ".join(f"{kind} {n}" for kind, n in sorted(insight["flags"].items()) if n)
    lines.append(f"Red flags: {flags or 'none'}; audit sample drawn: {'yes' if insight['sample'] else 'no'}")
    return lines
