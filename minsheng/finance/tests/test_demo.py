"""The demo city's money: zero-based approved budgets, funding, and payments against the procurement demo's
contracts that respect every limit; the same seed and date give the same data."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum

from minsheng.demo.city import generate
from minsheng.finance.demo import generate_budgets, generate_payments
from minsheng.finance.models import (
    BudgetLine,
    BudgetStatus,
    BudgetVersion,
    FundingArrival,
    FundingCommitment,
    PaymentDecision,
    PaymentRequest,
    PaymentStatus,
)
from minsheng.finance.services.payments import contract_ceiling
from minsheng.ledger.models import Leaf
from minsheng.procurement.demo import generate_procurement
from minsheng.procurement.models import Contract

AS_OF = dt.date(2026, 11, 25)


def _digest() -> str:
    rows = {
        "versions": sorted(BudgetVersion.objects.values_list("project__code", "kind", "status", "total")),
        "lines": sorted(BudgetLine.objects.values_list("version__project__code", "item", "quantity", "unit_cost",
                                                       "amount")),
        "funding": sorted(FundingCommitment.objects.values_list("project__code", "source", "amount", "committed_on")),
        "arrivals": sorted(FundingArrival.objects.values_list("commitment__project__code", "amount", "arrived_on")),
        "payments": sorted(PaymentRequest.objects.values_list("contract__number", "invoice_number", "amount",
                                                              "status", "paid_on")),
    }
    return hashlib.sha256(json.dumps(rows, default=str, ensure_ascii=False).encode()).hexdigest()


def _run() -> tuple[str, dict]:
    with transaction.atomic():
        generate(seed=7, projects=24, as_of=AS_OF, store_files=False)
        budgets = generate_budgets(as_of=AS_OF, seed=7)
        generate_procurement(as_of=AS_OF, seed=7)
        payments = generate_payments(as_of=AS_OF, seed=7)
        facts = {
            "budgets": budgets, "payments": payments,
            "lines_sum": all(v.total == v.lines.aggregate(s=Sum("amount"))["s"] for v in BudgetVersion.objects.all()),
            "lines_zero_based": all(line.amount == (line.quantity * line.unit_cost).quantize(Decimal("0.01"))
                                    and line.justification and line.standard for line in BudgetLine.objects.all()),
            "design_matches_project": all(v.total == v.project.design_estimate_amount for v in BudgetVersion.objects
                                          .filter(kind="design").select_related("project")),
            "contract_ok": all(
                (c.payment_requests.exclude(status=PaymentStatus.REJECTED).aggregate(s=Sum("amount"))["s"] or 0)
                <= contract_ceiling(c) for c in Contract.objects.all()),
            "requester_never_approves": all(d.decided_by_id != d.request.requested_by_id for d in
                                            PaymentDecision.objects.select_related("request")),
            "steps_differ": all(len({d.decided_by_id for d in r.decisions.all()}) == r.decisions.count()
                                for r in PaymentRequest.objects.prefetch_related("decisions")),
            "statuses": set(PaymentRequest.objects.values_list("status", flat=True)),
            "anchored": Leaf.objects.filter(kind="disbursement").count(),
            "approved_finance": PaymentDecision.objects.filter(step="finance").count(),
            "signoffs_anchored": Leaf.objects.filter(kind="measurement_signoff").count(),
            "signoffs": PaymentDecision.objects.filter(step="supervisor").count(),
            # every request past the supervisor went through his own confirmation, before the department
            "confirmed_first": all(
                (sup := next((d for d in r.decisions.all() if d.step == "supervisor"), None)) is not None
                and sup.approve and sup.decided_by_id == r.supervisor_signoff_id and r.signed_off_at == sup.at
                and r.requested_at < sup.at < min(d.at for d in r.decisions.all() if d.step != "supervisor")
                for r in PaymentRequest.objects.exclude(status="awaiting_signoff").prefetch_related("decisions")),
            "awaiting_untouched": all(r.signed_off_at is None and not r.decisions.exists()
                                      for r in PaymentRequest.objects.filter(status="awaiting_signoff")),
            "all_approved": not BudgetVersion.objects.exclude(status=BudgetStatus.APPROVED).exists(),
        }
        digest = _digest()
        transaction.set_rollback(True)
    return digest, facts


@pytest.mark.django_db
def test_demo_budgets_and_payments_are_consistent_and_deterministic():
    first, facts = _run()
    assert facts["budgets"].versions >= 10 and facts["budgets"].commitments >= 3 and facts["budgets"].arrivals >= 1
    assert facts["lines_sum"] and facts["lines_zero_based"] and facts["design_matches_project"]
    assert facts["all_approved"]
    assert facts["payments"].payments >= 3 and facts["contract_ok"]
    assert facts["requester_never_approves"] and facts["steps_differ"]
    assert PaymentStatus.PAID in facts["statuses"]
    assert facts["confirmed_first"] and facts["awaiting_untouched"]
    assert facts["signoffs_anchored"] == facts["signoffs"] == facts["payments"].signoffs > 0
    assert facts["anchored"] == facts["approved_finance"]
    assert facts["payments"].anchored == facts["anchored"] + facts["signoffs_anchored"]
    second, _facts = _run()
    assert second == first


@pytest.mark.django_db
def test_no_payments_without_contracts():
    with transaction.atomic():
        generate(seed=3, projects=12, as_of=AS_OF, store_files=False)
        generate_budgets(as_of=AS_OF, seed=3)
        assert generate_payments(as_of=AS_OF, seed=3).payments == 0 and not PaymentRequest.objects.exists()
        transaction.set_rollback(True)
