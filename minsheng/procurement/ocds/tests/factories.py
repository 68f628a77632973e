"""Contracting processes built straight with the ORM (no procurement or finance services), at any stage.

Used by the OCDS tests and by insight's red-flag tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.utils import timezone

from minsheng.finance.models import BudgetKind, BudgetStatus, BudgetVersion
from minsheng.procurement import uscc
from minsheng.procurement.models import (
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    Contract,
    ContractMilestone,
    Supplier,
    Tender,
    TenderStatus,
    Variation,
)
from minsheng.testing.factories import Org, project_in

_seq = itertools.count(1)
STAGES = ["draft", "published", "opened", "awarded", "contracted", "amended", "paid"]


def credit_code(n: int) -> str:
    """A valid 统一社会信用代码 (GB 32100-2015 check character) numbered `n`."""
    return uscc.complete(f"91330100MB{n:07d}")


def supplier(name: str | None = None) -> Supplier:
    n = next(_seq)
    return Supplier.objects.create(name=name or f"青溪第{n}建设有限公司", credit_code=credit_code(n),
                                   address=f"青溪市建设路{n}号")


def budget(project: Any, actor: Any, total: Decimal = Decimal("5000000.00")) -> BudgetVersion:
    return BudgetVersion.objects.create(
        project=project, kind=BudgetKind.BUDGET, number=1, status=BudgetStatus.APPROVED, total=total,
        prepared_by=actor, approved_by=actor, approval_authority="青溪区财政局", decided_at=timezone.now(),
    )


def tender(project: Any, actor: Any, *, method: str = "open", value: Decimal = Decimal("4000000.00"),
           category: str = "works", status: str = TenderStatus.PUBLISHED, period_days: int = 20,
           award_criteria: str = "ratedCriteria", published_at: dt.datetime | None = None, **extra: Any) -> Tender:
    published_at = published_at or timezone.now() - dt.timedelta(days=60)
    n = next(_seq)
    return Tender.objects.create(
        project=project, budget_version=extra.pop("budget_version", None) or budget(project, actor),
        reference=f"QX-ZB-2026-{n:04d}", title=f"{project.name}施工", description="道路硬化与排水改造",
        category=category, method=method, method_reason="" if method == "open" else "仅有少数供应商能够提供",
        award_criteria=award_criteria, value=value, status=status, published_at=published_at,
        clarification_deadline=published_at + dt.timedelta(days=period_days - 5),
        submission_start=published_at, submission_deadline=published_at + dt.timedelta(days=period_days),
        created_by=actor, **extra,
    )


def bid(t: Tender, s: Supplier, price: Decimal | None, *, status: str = BidStatus.OPENED,
        late: bool = False, **extra: Any) -> Bid:
    submitted = t.submission_deadline + dt.timedelta(hours=2) if late else t.submission_deadline - dt.timedelta(
        days=1)
    digest = hashlib.sha256(f"{t.pk}-{s.pk}-{price}".encode()).hexdigest()
    return Bid.objects.create(
        tender=t, supplier=s, submitted_by=t.created_by, submitted_at=submitted, ephemeral_public_key=b"k",
        nonce=b"n", ciphertext=b"c", commitment=digest, status=status, price=price,
        opened_at=t.submission_deadline if status != BidStatus.SEALED else None, **extra,
    )


def award(t: Tender, b: Bid, *, value: Decimal | None = None, status: str = AwardStatus.ACTIVE) -> Award:
    decided = t.submission_deadline + dt.timedelta(days=5)
    return Award.objects.create(tender=t, bid=b, supplier=b.supplier, value=value or b.price, decided_at=decided,
                                decided_by=t.created_by, standstill_until=decided + dt.timedelta(days=3),
                                status=status)


def contract(project: Any, s: Supplier, value: Decimal, actor: Any, *, t: Tender | None = None,
             a: Award | None = None, signed_on: dt.date | None = None, number: str | None = None) -> Contract:
    signed_on = signed_on or timezone.localdate() - dt.timedelta(days=30)
    return Contract.objects.create(
        project=project, tender=t, award=a, supplier=s, number=number or f"QX-HT-2026-{next(_seq):04d}",
        title=f"{project.name}施工合同", value=value, signed_on=signed_on, period_start=signed_on,
        period_end=signed_on + dt.timedelta(days=180), quality_standards="GB 50300-2013 合格", created_by=actor,
    )


def milestone(c: Contract, position: int, amount: Decimal, *, met: bool = False) -> ContractMilestone:
    due = c.period_start + dt.timedelta(days=60 * position)
    return ContractMilestone.objects.create(
        contract=c, position=position, title=f"第{position}节点", description="完成并经监理验收", due_date=due,
        amount=amount, status=ContractMilestone.Status.MET if met else ContractMilestone.Status.SCHEDULED,
        met_on=due if met else None,
    )


def variation(c: Contract, amount: Decimal, actor: Any, *, approved: bool = True) -> Variation:
    number = c.variations.count() + 1
    return Variation.objects.create(
        contract=c, number=number, reason="地下管线迁改增加工程量", amount=amount, days=15,
        status=Variation.Status.APPROVED if approved else Variation.Status.PROPOSED, requested_by=actor,
        decided_by=actor if approved else None, decided_at=timezone.now() if approved else None,
    )


def payment(c: Contract, m: ContractMilestone, amount: Decimal, actor: Any, *, status: str = "approved",
            invoice_number: str | None = None, invoice_date: dt.date | None = None,
            invoice_amount: Decimal | None = None, requested_at: dt.datetime | None = None) -> Any:
    PaymentRequest = apps.get_model("finance", "PaymentRequest")
    PaymentDecision = apps.get_model("finance", "PaymentDecision")
    p = PaymentRequest.objects.create(
        project=c.project, contract=c, milestone=m, amount=amount, invoice_number=invoice_number or f"{next(_seq):08d}",
        invoice_amount=invoice_amount if invoice_amount is not None else amount,
        invoice_date=invoice_date or timezone.localdate() - dt.timedelta(days=3), status=status,
        requested_by=actor, requested_at=requested_at or timezone.now(),
        paid_on=timezone.localdate() if status == "paid" else None,
    )
    if status in ("approved", "paid"):
        PaymentDecision.objects.create(request=p, step="department", decided_by=actor, approve=True)
        PaymentDecision.objects.create(request=p, step="finance", decided_by=actor, approve=True)
    return p


@dataclass
class Built:
    project: Any
    tender: Tender
    suppliers: list[Supplier] = field(default_factory=list)
    bids: list[Bid] = field(default_factory=list)
    award: Award | None = None
    contract: Contract | None = None
    milestones: list[ContractMilestone] = field(default_factory=list)
    payments: list[Any] = field(default_factory=list)


def process(org: Org, stage: str = "paid", *, method: str = "open", county: str = "a",
            prices: tuple[str, ...] = ("3650000.00", "3790000.00", "3880000.00")) -> Built:
    """A realistic tender-to-payment process in county `county`, advanced to `stage` (one of STAGES)."""
    reached = STAGES.index(stage)
    actor = org.user(f"{county}_housing")
    project = project_in(org, county)
    status = {0: TenderStatus.DRAFT, 1: TenderStatus.PUBLISHED, 2: TenderStatus.OPENED, 3: TenderStatus.AWARDED}
    t = tender(project, actor, method=method, status=status.get(reached, TenderStatus.CONTRACTED),
               published_at=None if reached == 0 else timezone.now() - dt.timedelta(days=90))
    if reached == 0:
        t.published_at = None
        t.save(update_fields=["published_at"])
    built = Built(project=project, tender=t)
    built.suppliers = [supplier() for _ in prices]
    if reached >= 1:
        for s, price in zip(built.suppliers, prices, strict=True):
            built.bids.append(bid(t, s, Decimal(price) if reached >= 2 else None,
                                  status=BidStatus.OPENED if reached >= 2 else BidStatus.SEALED))
    if reached >= 2:
        t.opened_at = t.submission_deadline
        t.save(update_fields=["opened_at"])
    if reached >= 3:
        winner = built.bids[0]
        winner.status = BidStatus.WINNER
        winner.save(update_fields=["status"])
        built.award = award(t, winner)
    if reached >= 4:
        built.contract = contract(project, winner.supplier, built.award.value, actor, t=t, a=built.award)
        third = (built.contract.value / 3).quantize(Decimal("0.01"))
        built.milestones = [milestone(built.contract, i, third, met=(i == 1)) for i in (1, 2, 3)]
    if reached >= 5:
        variation(built.contract, Decimal("180000.00"), actor)
    if reached >= 6:
        built.payments.append(payment(built.contract, built.milestones[0], Decimal("1000000.00"), actor,
                                      status="paid"))
    return built
