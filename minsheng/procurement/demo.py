"""Procurement for the demo city, written through the services: tenders for the projects that have an approved
概算 or 预算 (finance.demo.generate_budgets writes them; without any, nothing is created), suppliers with
contractor accounts, sealed bids, public openings, awards, contracts with milestones and a few variations.

Patterns for the red-flag detectors are placed on purpose: a single-bid tender, two bids with identical
prices, a heavily discounted bid and change orders after award. The essay cases:
- the elderly home (CASES['elderly']): open tender, contract signed ~10 months ago, then change orders worth
  more than 15 % of the contract value (the last approved by the leader) while progress is overstated;
- the elevator retrofit (CASES['elevator']): competitive negotiation for six lifts, contract milestones one per
  unit linked to the responsibility checklist.

Business data (who, what, when, how much) is a function of the seed and `as_of`; the cryptographic material
(keys, salts, ciphertexts) is fresh randomness every run, as it must be.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction

from minsheng.accounts.models import User
from minsheng.accounts.roles import Cap, Role
from minsheng.demo.city import CASES, DEMO_PASSWORD
from minsheng.finance.models import BudgetStatus, BudgetVersion
from minsheng.procurement import services, uscc
from minsheng.procurement.models import AwardCriteria, Method, Supplier, Tender
from minsheng.procurement.services.common import may_manage
from minsheng.procurement.services.tenders import TENDER_BUDGET_KINDS
from minsheng.projects.lifecycle import Stage
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible

SH = ZoneInfo("Asia/Shanghai")
# 统一社会信用代码: 17 characters of the demo city's pattern, then the GB 32100-2015 check character.
SUPPLIERS = [(name, uscc.complete(f"9133010070432100{i}")) for i, name in enumerate((
    "青溪市城建工程有限公司",
    "江南建工集团青溪分公司",
    "东岭县宏达建筑有限公司",
    "青溪安居装饰工程有限公司",
    "江南通力电梯工程有限公司",
    "青溪绿源市政工程有限公司",
    "江南恒信机电设备有限公司",
), start=1)]
CONTRACTED_STAGES = {Stage.CONSTRUCTION, Stage.ACCEPTANCE, Stage.FINAL_ACCOUNTS, Stage.OPERATION,
                     Stage.POST_EVALUATION}
TWO = Decimal("0.01")


@dataclass
class Made:
    tenders: int = 0
    bids: int = 0
    contracts: int = 0
    variations: int = 0
    suppliers: int = 0
    note: str = ""
    patterns: dict[str, str] = field(default_factory=dict)


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SH)


def _suppliers() -> list[tuple[Supplier, User]]:
    """One supplier per company, each with a contractor account (the city's contractors where they exist)."""
    out = []
    for i, (name, code) in enumerate(SUPPLIERS, start=1):
        supplier, _created = Supplier.objects.get_or_create(
            credit_code=code, defaults={"name": name, "contact_name": "投标联系人", "address": "青溪市"})
        user = User.objects.filter(role=Role.CONTRACTOR, organisation=name).order_by("pk").first()
        if user is None:
            user, _created = User.objects.get_or_create(
                username=f"bidder{i}", defaults={"full_name": f"{name[:4]}投标专员", "role": Role.CONTRACTOR,
                                                 "organisation": name, "password": make_password(DEMO_PASSWORD)})
        supplier.users.add(user)
        out.append((supplier, user))
    return out


def _experts() -> list[User]:
    people = []
    for i, (name, org) in enumerate((("孙立群", "青溪大学土木学院"), ("高建明", "江南省建筑设计院"),
                                     ("钱慧", "青溪市造价咨询协会")), start=1):
        user, _created = User.objects.get_or_create(
            username=f"expert{i}", defaults={"full_name": name, "role": Role.EXPERT, "organisation": org,
                                             "title": "高级工程师", "password": make_password(DEMO_PASSWORD)})
        people.append(user)
    return people


def _organiser(project: Project) -> User | None:
    if may_manage(project.responsible_person, project):
        return project.responsible_person
    for user in User.objects.filter(role=Role.DEPT_OFFICER, is_active=True).order_by("pk"):
        if user.can(Cap.TENDER_MANAGE) and may_manage(user, project):
            return user
    return None


def _officials(project: Project, organiser: User) -> list[User]:
    found = [organiser]
    for role in (Role.FINANCE_OFFICER, Role.LEADER, Role.AUDITOR):
        for user in User.objects.filter(role=role, is_active=True).order_by("-division__level", "pk"):
            if user not in found and projects_visible(user).filter(pk=project.pk).exists():
                found.append(user)
                break
    return found


def _leader(project: Project) -> User | None:
    for user in User.objects.filter(role=Role.LEADER, is_active=True).order_by("-division__level", "pk"):
        if projects_visible(user).filter(pk=project.pk).exists():
            return user
    return None


class _Run:
    def __init__(self, *, as_of: dt.date, seed: int) -> None:
        self.as_of = as_of
        self.rng = random.Random(seed * 7919 + 5)  # noqa: S311 - demo data, not cryptography
        self.made = Made()
        self.suppliers = _suppliers()
        self.experts = _experts()
        self.made.suppliers = len(self.suppliers)

    def price(self, ceiling: Decimal, low: float, high: float) -> Decimal:
        return (ceiling * Decimal(str(round(self.rng.uniform(low, high), 4)))).quantize(Decimal("100"),
                                                                                      rounding=ROUND_DOWN)

    def tender(self, project: Project, budget: BudgetVersion, *, title: str, category: str, method: str,
               value: Decimal, prices: list[Decimal], published: dt.date, criteria: str = AwardCriteria.PRICE_ONLY,
               reason: str = "", contract: bool = True, milestones: int = 3, wbs: list[Any] | None = None,
               variations: list[tuple[str, Decimal, int]] = ()) -> Tender | None:
        organiser = _organiser(project)
        if organiser is None:
            return None
        officials = _officials(project, organiser)
        if len(officials) < 2:
            return None
        bidders = self.rng.sample(self.suppliers, len(prices))
        invited = [s for s, _u in bidders] if method in (Method.INVITED, Method.SINGLE_SOURCE) else []
        t = services.tender_create(
            actor=organiser, project=project, budget_version=budget, title=title, category=category, method=method,
            value=value, method_reason=reason, award_criteria=criteria, price_weight=30,
            quality_standards="符合 GB 50300-2013 建筑工程施工质量验收统一标准，一次验收合格",
            key_threshold=2, key_share_count=len(officials), invited_suppliers=invited)
        days = 21 if method in (Method.OPEN, Method.INVITED) else 5
        deadline = _at(published + dt.timedelta(days=days), 10)
        shares = [s for _h, s in services.tender_publish(
            actor=organiser, tender=t, holders=officials, submission_deadline=deadline,
            now=_at(published)).shares]
        self.made.tenders += 1
        # Bids arrive in the last days before the deadline, never after `as_of` (a tender may still be open).
        bid_day = published + dt.timedelta(days=max(0, min(days - 3, (self.as_of - published).days - 1)))
        for i, ((supplier, user), price) in enumerate(zip(bidders, prices, strict=True)):
            services.bid_submit(actor=user, tender=t, supplier=supplier, price=price,
                                technical=f"{supplier.name}：施工组织设计、质量保证措施、工期承诺{90 + 10 * i}日历天。",
                                attachments=[{"name": "投标报价清单.xlsx", "sha256": f"{(i + 1) * 17:064x}"}],
                                now=_at(bid_day, 9 + i))
            self.made.bids += 1
        if deadline.date() > self.as_of:
            return t  # still open for bids
        services.tender_open(actor=organiser, tender=t, shares=shares[:2], now=deadline)
        t.refresh_from_db()
        if criteria == AwardCriteria.RATED:
            for i, e in enumerate(self.experts):
                services.panel_add(actor=organiser, tender=t, expert=e, is_chair=i == 0)
                services.conflict_declare(actor=e, tender=t, has_conflict=False, now=deadline)
                for b in t.bids.filter(status="opened"):
                    services.score_record(actor=e, bid=b, technical=str(self.rng.randint(48, 66)))
        if not services.evaluation_finish(actor=organiser, tender=t):
            return t
        award_at = deadline + dt.timedelta(days=3)
        award = services.award_make(actor=organiser, tender=t, now=award_at)
        sign_day = (award.standstill_until + dt.timedelta(days=2)).astimezone(SH).date()
        if not contract or sign_day > self.as_of:
            return t
        end = sign_day + dt.timedelta(days=360)
        plan = []
        for i in range(milestones):
            item = wbs[i] if wbs and i < len(wbs) else None
            plan.append({"title": item.name if item else f"第{i + 1}期进度款", "wbs_item": item,
                         "due_date": min(end, sign_day + dt.timedelta(days=(i + 1) * 360 // milestones)),
                         "amount": (award.value * Decimal("0.9") / milestones).quantize(TWO, rounding=ROUND_DOWN)})
        c = services.contract_sign(actor=organiser, award=award, number=f"HT-{t.reference}", title=title,
                                   signed_on=sign_day, period_start=sign_day, period_end=end, milestones=plan,
                                   now=_at(sign_day))
        self.made.contracts += 1
        approver = _leader(project)
        for n, (why, share, after_days) in enumerate(variations):
            when = _at(min(self.as_of, sign_day + dt.timedelta(days=after_days)))
            v = services.variation_propose(actor=organiser, contract=c, reason=why,
                                           amount=(c.value * share).quantize(TWO), days=10 * (n + 1), now=when)
            if approver is not None:
                services.variation_decide(actor=approver, variation=v, approve=True, comment="同意", now=when)
            self.made.variations += 1
        return t


def _approved(project: Project) -> BudgetVersion | None:
    return (BudgetVersion.objects.filter(project=project, status=BudgetStatus.APPROVED, kind__in=TENDER_BUDGET_KINDS)
            .order_by("-kind", "-number").first())


def generate_procurement(*, as_of: dt.date, seed: int) -> Made:
    """Write the demo city's procurement. Deterministic in its business data for a seed and `as_of`."""
    budgets = {p.pk: _approved(p) for p in Project.objects.order_by("code")}
    with_budget = [p for p in Project.objects.order_by("code").select_related("division", "lead_department",
                                                                             "responsible_person")
                   if budgets[p.pk] is not None and not p.tenders.exists()]
    if not with_budget:
        return Made(note="没有已批准概算或预算的项目：未生成任何招标数据（先运行 finance.demo.generate_budgets）。")
    with transaction.atomic():
        run = _Run(as_of=as_of, seed=seed)
        _essay_cases(run, with_budget, budgets)
        others = [p for p in with_budget if p.code not in CASES.values()]
        for i, p in enumerate(others):
            _ordinary(run, p, budgets[p.pk], i)
    return run.made


def _essay_cases(run: _Run, projects: list[Project], budgets: dict[int, Any]) -> None:
    by_code = {p.code: p for p in projects}
    elderly = by_code.get(CASES["elderly"])
    if elderly is not None:
        budget = budgets[elderly.pk]
        value = (budget.total * Decimal("0.8")).quantize(Decimal("10000"))
        run.tender(elderly, budget, title="颐养院主体及安装工程施工", category="works", method=Method.OPEN,
                   value=value, prices=[run.price(value, 0.93, 0.97) for _ in range(4)],
                   published=run.as_of - dt.timedelta(days=330), criteria=AwardCriteria.RATED, milestones=4,
                   variations=[("地基处理方案变更：增加桩基", Decimal("0.09"), 60),
                               ("增加护理单元智能化系统", Decimal("0.05"), 150),
                               ("外立面材料升级", Decimal("0.04"), 240)])
        run.made.patterns["change_orders_after_award"] = elderly.code
    elevator = by_code.get(CASES["elevator"])
    if elevator is not None:
        budget = budgets[elevator.pk]
        value = min(Decimal("1800000"), (budget.total * Decimal("0.9")).quantize(Decimal("10000")))
        items = [i for i in elevator.wbs_items.order_by("code") if "电梯安装" in i.name]
        run.tender(elevator, budget, title="老旧小区加装电梯设备采购及安装（6部）", category="goods",
                   method=Method.NEGOTIATION, reason="邻里互助小组与居民协商确定技术要求，需与供应商逐轮谈判",
                   value=value, prices=[run.price(value, 0.9, 0.98) for _ in range(3)],
                   published=run.as_of - dt.timedelta(days=80), milestones=6, wbs=items)


def _ordinary(run: _Run, project: Project, budget: BudgetVersion, i: int) -> None:
    contracted = project.stage in CONTRACTED_STAGES
    published = run.as_of - dt.timedelta(days=(200 if contracted else 8) + run.rng.randint(0, 60) * contracted)
    value = (budget.total * Decimal("0.7")).quantize(Decimal("1000"))
    category = "works"
    method = Method.OPEN
    prices = [run.price(value, 0.88, 0.99) for _ in range(3 + i % 2)]
    reason = ""
    kind = i % 6
    if kind == 1 and value < Decimal("4000000"):
        method, reason, prices = Method.NEGOTIATION, "工期紧、技术方案需谈判确定", prices[:1]  # single bid
        run.made.patterns.setdefault("single_bid", project.code)
    elif kind == 2:
        prices[1] = prices[0]  # identical prices
        run.made.patterns.setdefault("identical_prices", project.code)
    elif kind == 3:
        prices[-1] = (value * Decimal("0.55")).quantize(Decimal("100"))  # heavily discounted
        run.made.patterns.setdefault("heavy_discount", project.code)
    variations = [("现场签证：增加工程量", Decimal("0.06"), 90)] if kind == 4 else []
    if variations:
        run.made.patterns.setdefault("change_orders_after_award", project.code)
    run.tender(project, budget, title=f"{project.name}施工", category=category, method=method, value=value,
               prices=prices, published=published, reason=reason, contract=contracted, variations=variations)
