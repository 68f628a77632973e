"""Procurement test data: approved budgets (written with the ORM — the finance helper owns the budget
services), suppliers with contractor accounts, and tenders taken as far as a test needs."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from minsheng.accounts.roles import Role
from minsheng.finance.models import BudgetKind, BudgetStatus, BudgetVersion
from minsheng.procurement import services, uscc
from minsheng.procurement.models import AwardCriteria, Bid, Method, Supplier, Tender
from minsheng.testing.factories import UserFactory, project_in

_codes = itertools.count(1)


def approved_budget(project: Any, *, total: Any = "3000000.00", kind: str = BudgetKind.DESIGN,
                    approver: Any = None) -> BudgetVersion:
    number = BudgetVersion.objects.filter(project=project, kind=kind).count() + 1
    return BudgetVersion.objects.create(
        project=project, kind=kind, number=number, status=BudgetStatus.APPROVED, total=Decimal(str(total)),
        prepared_by=project.responsible_person, approved_by=approver or project.responsible_person,
        decided_at=timezone.now(), approval_authority="区发展改革局")


def credit_code(n: int, *, prefix: str = "91330100MA") -> str:
    """A valid 统一社会信用代码: the 17 characters `prefix` + serial, then the GB 32100-2015 check character."""
    return uscc.complete(f"{prefix}{n:0{17 - len(prefix)}d}")


def supplier(name: str = "", *, users: list[Any] | None = None) -> Supplier:
    n = next(_codes)
    s = Supplier.objects.create(name=name or f"测试建设有限公司{n}", credit_code=credit_code(n))
    for u in users or []:
        s.users.add(u)
    return s


def bidder(name: str = "", *, username: str = "") -> tuple[Any, Supplier]:
    """A contractor account and the supplier it acts for."""
    n = next(_codes)
    user = UserFactory(username=username or f"bidder{n}", full_name=f"投标人{n}", role=Role.CONTRACTOR,
                       organisation=name or f"测试建设有限公司{n}")
    return user, supplier(name or user.organisation, users=[user])


def expert(org_name: str = "", *, username: str = "") -> Any:
    n = next(_codes)
    return UserFactory(username=username or f"expert{n}", full_name=f"专家{n}", role=Role.EXPERT,
                       organisation=org_name or "青溪大学")


@dataclass
class Setup:
    org: Any
    project: Any
    budget: BudgetVersion
    tender: Tender
    shares: list[str] = field(default_factory=list)
    holders: list[Any] = field(default_factory=list)
    bidders: list[tuple[Any, Supplier]] = field(default_factory=list)


def holders_for(org: Any, county: str = "a") -> list[Any]:
    return [org.user(f"{county}_housing"), org.user(f"{county}_finance"), org.user(f"{county}_leader")]


def draft_tender(org: Any, county: str = "a", *, value: Any = "1500000.00", method: str = Method.OPEN,
                 category: str = "works", budget_total: Any = "3000000.00", project: Any = None,
                 **kwargs: Any) -> Setup:
    project = project or project_in(org, county)
    budget = approved_budget(project, total=budget_total)
    tender = services.tender_create(
        actor=org.user(f"{county}_housing"), project=project, budget_version=budget, title="老旧小区改造施工",
        category=category, method=method, value=value, **kwargs)
    return Setup(org, project, budget, tender)


def published_tender(org: Any, county: str = "a", *, now: dt.datetime | None = None, **kwargs: Any) -> Setup:
    setup = draft_tender(org, county, **kwargs)
    now = now or timezone.now()
    holders = holders_for(org, county)
    published = services.tender_publish(actor=org.user(f"{county}_housing"), tender=setup.tender,
                                        submission_deadline=now + dt.timedelta(days=21), holders=holders, now=now)
    setup.tender = published.tender
    setup.shares = [text for _holder, text in published.shares]
    setup.holders = holders
    return setup


def bid(setup: Setup, price: Any, *, technical: str = "施工组织设计：分三个标段流水施工。", now: Any = None) -> Bid:
    user, sup = bidder()
    setup.bidders.append((user, sup))
    return services.bid_submit(actor=user, tender=setup.tender, price=price, technical=technical, now=now).bid


def pass_deadline(tender: Tender) -> Tender:
    """Move the submission deadline into the past (the clock is an edge: the rows move instead)."""
    Tender.objects.filter(pk=tender.pk).update(submission_deadline=timezone.now() - dt.timedelta(minutes=1))
    tender.refresh_from_db()
    return tender


def opened_tender(org: Any, prices: list[str], *, criteria: str = AwardCriteria.RATED, **kwargs: Any) -> Setup:
    setup = published_tender(org, award_criteria=criteria, **kwargs)
    for p in prices:
        bid(setup, p)
    pass_deadline(setup.tender)
    services.tender_open(actor=org.user("a_housing"), tender=setup.tender, shares=setup.shares[:2])
    setup.tender.refresh_from_db()
    return setup


def matrix_objects(org: Any, county: str, project: Any) -> dict[str, Any]:
    """For the API permission matrix: in the county's project, a published tender; another on which the
    shared contractor account (a_contractor) has a sealed bid; and a signed contract with a proposed
    variation (proposed by the county's 发改 officer, so the housing officer may decide it). The winner's supplier,
    its account, and a contractor account linked to no supplier serve the supplier rows."""
    from minsheng.procurement.models import AwardCriteria

    officer = org.user(f"{county}_housing")
    contractor_supplier, _created = Supplier.objects.get_or_create(
        credit_code=uscc.complete("91330100MAMATRX01"), defaults={"name": "青溪建工"})
    contractor_supplier.users.add(org.user("a_contractor"))
    budget = approved_budget(project, total="9000000")
    now = timezone.now()

    def tender(**kw: Any) -> Tender:
        return services.tender_create(actor=officer, project=project, budget_version=budget, title="矩阵招标",
                                      category="works", value="500000", **kw)

    def publish(t: Tender, at: dt.datetime, days: int) -> list[str]:
        out = services.tender_publish(actor=officer, tender=t, holders=holders_for(org, county), now=at,
                                      submission_deadline=at + dt.timedelta(days=days))
        return [s for _h, s in out.shares]

    open_tender = tender(method=Method.OPEN)
    publish(open_tender, now, 21)
    bid_tender = tender(method=Method.OPEN)
    publish(bid_tender, now, 21)
    sealed = services.bid_submit(actor=org.user("a_contractor"), tender=bid_tender, supplier=contractor_supplier,
                                 price="400000", technical="矩阵投标").bid
    done = tender(method=Method.NEGOTIATION, method_reason="矩阵", award_criteria=AwardCriteria.PRICE_ONLY)
    shares = publish(done, now - dt.timedelta(days=10), 4)
    winner, winner_supplier = bidder()
    services.bid_submit(actor=winner, tender=done, price="450000", technical="矩阵",
                        now=now - dt.timedelta(days=8))
    services.tender_open(actor=officer, tender=done, shares=shares[:2], now=now - dt.timedelta(days=6))
    services.evaluation_finish(actor=officer, tender=done)
    award = services.award_make(actor=officer, tender=done, now=now - dt.timedelta(days=5))
    today = timezone.localdate()
    contract = services.contract_sign(actor=officer, award=award, number=f"HT-MATRIX-{county}", title="矩阵合同",
                                      signed_on=today, period_start=today, period_end=today + dt.timedelta(days=90))
    variation = services.variation_propose(actor=org.user(f"{county}_drc"), contract=contract, reason="矩阵变更",
                                           amount="1000")
    free = UserFactory(username=f"matrix_free_{county}", role=Role.CONTRACTOR, organisation="待关联单位")
    return {"tender": open_tender, "bid": sealed, "contract": contract, "variation": variation,
            "supplier": winner_supplier, "supplier_user": winner, "free_contractor": free}
