"""The demo city's procurement: nothing without approved budgets; with them, tenders through to contracts,
the essay cases and the red-flag patterns; the same seed and date give the same business data."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from django.db import transaction

from minsheng.demo.city import CASES, generate
from minsheng.procurement import selectors
from minsheng.procurement.demo import generate_procurement
from minsheng.procurement.models import Bid, Contract, ContractMilestone, Tender, Variation
from minsheng.procurement.tests.factories import approved_budget
from minsheng.projects.lifecycle import Stage
from minsheng.projects.models import Project

AS_OF = dt.date(2026, 11, 25)


def _budgets() -> None:
    chosen = list(Project.objects.filter(code__in=[CASES["elderly"], CASES["elevator"]]))
    chosen += list(Project.objects.filter(stage__in=[Stage.CONSTRUCTION, Stage.PROCUREMENT, Stage.OPERATION])
                   .exclude(code__in=CASES.values()).order_by("code")[:8])
    for p in chosen:
        total = p.design_estimate_amount or p.estimate_amount or Decimal("3000000")
        approved_budget(p, total=total)


def _digest() -> str:
    rows = {
        "tenders": sorted(Tender.objects.values_list("reference", "method", "status", "value", "award_criteria")),
        "bids": sorted((b.tender.reference, b.supplier.credit_code, str(b.price), b.status, b.rank)
                       for b in Bid.objects.select_related("tender", "supplier")),
        "contracts": sorted(Contract.objects.values_list("number", "value", "signed_on", "period_end")),
        "milestones": sorted(ContractMilestone.objects.values_list("contract__number", "title", "amount", "due_date")),
        "variations": sorted(Variation.objects.values_list("contract__number", "number", "amount", "status")),
    }
    return hashlib.sha256(json.dumps(rows, default=str, ensure_ascii=False).encode()).hexdigest()


def _run() -> tuple[str, dict]:
    with transaction.atomic():
        generate(seed=7, projects=24, as_of=AS_OF, store_files=False)
        empty = generate_procurement(as_of=AS_OF, seed=7)
        assert empty.note and not Tender.objects.exists()
        _budgets()
        made = generate_procurement(as_of=AS_OF, seed=7)
        digest = _digest()
        facts = {
            "made": made,
            "elderly_share": selectors.contract_summary(Contract.objects.get(project__code=CASES["elderly"])).share,
            "elevator_ms": list(ContractMilestone.objects.filter(contract__project__code=CASES["elevator"])
                                .values_list("wbs_item__name", flat=True)),
            "ceilings_ok": all(selectors.milestone_total(c) <= selectors.contract_ceiling(c)
                               for c in Contract.objects.all()),
            "tampered": Bid.objects.filter(status="tampered").count(),
        }
        transaction.set_rollback(True)
    return digest, facts


@pytest.mark.django_db
def test_demo_procurement_is_deterministic_and_has_the_cases_and_patterns():
    first, facts = _run()
    made = facts["made"]
    assert made.tenders >= 6 and made.contracts >= 3 and made.variations >= 3
    assert {"single_bid", "identical_prices", "heavy_discount", "change_orders_after_award"} <= set(made.patterns)
    assert facts["elderly_share"] > Decimal("0.15")
    assert len(facts["elevator_ms"]) == 6 and all("电梯安装" in n for n in facts["elevator_ms"])
    assert facts["ceilings_ok"] and facts["tampered"] == 0
    second, _facts = _run()
    assert second == first
