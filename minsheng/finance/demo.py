"""Budgets, funding and payments for the demo city. Deterministic for a seed and `as_of`.

`generate_budgets` writes approved 估算 and 概算 versions with zero-based lines (quantity × unit cost, a
justification and a spending standard on every line) for every project whose 概算 the demo city has already
approved, plus funding commitments and arrivals; the totals are the project's own 估算/概算 figures, so the
gate history stays consistent. `generate_payments` pays the contracts the procurement demo signed: one request
per milestone that has fallen due, whose measured quantities the project's supervisor confirms himself, then
approved by the department and then by finance (never the same person), mostly paid, the latest still in the
pipeline (some still waiting for the supervisor); each supervisor confirmation and each finance approval is
anchored in the evidence ledger.

Rows are written directly (as the city generator does), in one transaction each."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q

from minsheng.accounts.models import User
from minsheng.accounts.roles import Role
from minsheng.finance.models import (
    BudgetKind,
    BudgetLine,
    BudgetStatus,
    BudgetVersion,
    FundingArrival,
    FundingCommitment,
    PaymentDecision,
    PaymentRequest,
    PaymentStatus,
)
from minsheng.finance.selectors.budgets import approved_cap
from minsheng.projects.lifecycle import Stage
from minsheng.projects.models import MemberRole, Project

SH = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")
APPROVED_DESIGN_STAGES = {Stage.PROCUREMENT, Stage.CONSTRUCTION, Stage.ACCEPTANCE, Stage.FINAL_ACCOUNTS,
                          Stage.OPERATION, Stage.POST_EVALUATION, Stage.SUSPENDED}
APPROVED_ESTIMATE_STAGES = APPROVED_DESIGN_STAGES | {Stage.DESIGN}

# (category, item, unit, unit cost range in yuan, share of the total, spending standard)
_WORKS = {
    "housing": [("works", "外墙保温及涂料", "m²", (85, 160), "0.30", "省建筑与装饰工程计价定额 A10"),
                ("works", "屋面防水翻新", "m²", (95, 150), "0.15", "省建筑与装饰工程计价定额 A9"),
                ("installation", "雨污分流管网改造", "m", (420, 680), "0.20", "省市政工程计价定额 E5"),
                ("equipment", "加装电梯设备", "部", (380000, 520000), "0.15", "政府采购询价及市场指导价")],
    "transport": [("works", "沥青混凝土路面", "m²", (180, 260), "0.45", "省公路工程预算定额 2-2"),
                  ("works", "桥涵及排水工程", "m", (2600, 4200), "0.20", "省公路工程预算定额 4-1"),
                  ("installation", "交通安全设施", "km", (120000, 220000), "0.15", "公路交通安全设施设计规范")],
    "education": [("works", "教学楼土建工程", "m²", (2600, 3400), "0.55", "省房屋建筑工程计价定额"),
                  ("equipment", "教学设备购置", "套", (6000, 12000), "0.20", "教育装备配备标准")],
    "health": [("works", "卫生院业务用房", "m²", (2900, 3800), "0.50", "省房屋建筑工程计价定额"),
               ("equipment", "医疗设备购置", "台", (50000, 260000), "0.25", "医疗设备配置标准及政府采购价")],
    "water": [("installation", "供水主管网铺设", "m", (380, 760), "0.45", "省市政工程计价定额 E5"),
              ("equipment", "净水设备", "套", (180000, 420000), "0.25", "村镇供水工程技术规范"),
              ("works", "蓄水池及泵房", "m³", (900, 1400), "0.10", "省水利工程概算定额")],
}
_DEFAULT = [("works", "主体建筑工程", "m²", (2200, 3200), "0.55", "省房屋建筑工程计价定额"),
            ("installation", "水电安装工程", "m²", (260, 420), "0.15", "省安装工程计价定额"),
            ("equipment", "设备及工器具购置", "套", (20000, 80000), "0.10", "政府采购指导价")]
_OTHER = [("other", "工程建设其他费用（设计、监理、招标代理）", "项", "0.08",
           "国家计委计价格〔2002〕10号及市场调节价"),
          ("contingency", "基本预备费", "项", None, "按工程费用和其他费用之和的 5% 计列")]


@dataclass
class Made:
    versions: int = 0
    lines: int = 0
    commitments: int = 0
    arrivals: int = 0
    payments: int = 0
    signoffs: int = 0
    anchored: int = 0
    notes: list[str] = field(default_factory=list)


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=SH)


def _lines(project: Project, total: Decimal, rng: random.Random) -> list[dict[str, Any]]:
    """Zero-based lines summing exactly to `total`: measured items first, then other costs and the contingency
    line, which absorbs the remainder (as a 预备费 does)."""
    out: list[dict[str, Any]] = []
    used = Decimal(0)
    for category, item, unit, (lo, hi), share, standard in _WORKS.get(project.domain, _DEFAULT):
        unit_cost = Decimal(rng.randint(lo, hi))
        quantity = (total * Decimal(share) / unit_cost).quantize(Decimal(1), ROUND_DOWN)
        if quantity <= 0:
            continue
        amount = (quantity * unit_cost).quantize(CENT, ROUND_HALF_UP)
        used += amount
        out.append({"category": category, "item": item, "quantity": quantity, "unit": unit,
                    "unit_cost": unit_cost, "amount": amount, "standard": standard,
                    "justification": f"按初步设计工程量 {quantity}{unit}，综合单价 {unit_cost} 元"})
    other_cat, other_item, other_unit, other_share, other_std = _OTHER[0]
    other = (total * Decimal(other_share)).quantize(CENT, ROUND_DOWN)
    out.append({"category": other_cat, "item": other_item, "quantity": Decimal(1), "unit": other_unit,
                "unit_cost": other, "amount": other, "standard": other_std,
                "justification": "按设计、监理、招标代理等收费标准逐项测算"})
    rest = total - used - other
    cont_cat, cont_item, cont_unit, _s, cont_std = _OTHER[1]
    if rest > 0:
        out.append({"category": cont_cat, "item": cont_item, "quantity": Decimal(1), "unit": cont_unit,
                    "unit_cost": rest, "amount": rest, "standard": cont_std,
                    "justification": "应对设计变更和不可预见费用"})
    return out


def _finance_officer(project: Project, cache: dict[str, User | None]) -> User | None:
    """A finance officer on the project's line, nearest first."""
    ids = [int(p) for p in project.division_path.strip("/").split("/") if p]
    key = project.division_path
    if key not in cache:
        officers = {u.division_id: u for u in User.objects.filter(role=Role.FINANCE_OFFICER, is_active=True,
                                                                  division_id__in=ids).order_by("pk")}
        cache[key] = next((officers[i] for i in reversed(ids) if i in officers), None)
    return cache[key]


def generate_budgets(*, as_of: dt.date, seed: int) -> Made:
    made = Made()
    rng = random.Random(f"finance-budgets-{seed}")  # noqa: S311 - demo data, reproducible by design
    officers: dict[str, User | None] = {}
    projects = Project.objects.filter(stage__in=APPROVED_ESTIMATE_STAGES).exclude(
        budget_versions__isnull=False).select_related("responsible_person").order_by("code")
    with transaction.atomic():
        for project in projects:
            approver = _finance_officer(project, officers)
            if approver is None or approver.pk == project.responsible_person_id:
                made.notes.append(f"{project.code}: 无财政审批人，未生成预算")
                continue
            started = project.planned_start or as_of - dt.timedelta(days=rng.randint(120, 500))
            kinds = [(BudgetKind.ESTIMATE, project.estimate_amount, started - dt.timedelta(days=150))]
            if project.stage in APPROVED_DESIGN_STAGES and project.design_estimate_amount:
                kinds.append((BudgetKind.DESIGN, project.design_estimate_amount, started - dt.timedelta(days=60)))
            for kind, total, day in kinds:
                if not total:
                    continue
                day = min(day, as_of)
                version = BudgetVersion.objects.create(
                    project=project, kind=kind, number=1, status=BudgetStatus.APPROVED, total=total,
                    prepared_by=project.responsible_person, created_at=_at(day - dt.timedelta(days=20)),
                    submitted_at=_at(day - dt.timedelta(days=10)), decided_at=_at(day), approved_by=approver,
                    approval_authority=f"{approver.division.name}{approver.get_role_display()}"[:64],
                    note="零基预算：按设计工程量和现行计价标准逐项测算", decision_comment="同意")
                lines = _lines(project, total, rng)
                BudgetLine.objects.bulk_create([BudgetLine(version=version, position=i, **line)
                                                for i, line in enumerate(lines)])
                made.versions += 1
                made.lines += len(lines)
            design = project.design_estimate_amount if project.stage in APPROVED_DESIGN_STAGES else None
            if design:
                _funding(project, design, approver, started, as_of, rng, made)
    return made


_SPLITS = {3: [("central", "0.4"), ("provincial", "0.3"), ("county", "0.3")],
           2: [("provincial", "0.5"), ("city", "0.5")]}


def _funding(project: Project, design: Decimal, officer: User, started: dt.date, as_of: dt.date,
             rng: random.Random, made: Made) -> None:
    split = _SPLITS[3] if project.division.level >= 3 else _SPLITS[2]
    remaining = design
    for i, (source, share) in enumerate(split):
        amount = remaining if i == len(split) - 1 else (design * Decimal(share)).quantize(CENT, ROUND_DOWN)
        remaining -= amount
        committed = min(as_of, started - dt.timedelta(days=30 - 10 * i))
        c = FundingCommitment.objects.create(project=project, source=source, amount=amount, committed_on=committed,
                                             document=f"{project.division.name}财建〔{committed.year}〕{10 + i}号",
                                             created_by=officer)
        made.commitments += 1
        ratio = Decimal(rng.choice(["1", "1", "0.8", "0.6", "0.5"]))
        arrived = (amount * ratio).quantize(CENT, ROUND_DOWN)
        if arrived > 0:
            FundingArrival.objects.create(commitment=c, amount=arrived, recorded_by=officer,
                                          arrived_on=min(as_of, committed + dt.timedelta(days=rng.randint(10, 60))),
                                          voucher=f"DW{committed:%Y%m%d}{c.pk:05d}")
            made.arrivals += 1


def generate_payments(*, as_of: dt.date, seed: int) -> Made:
    from minsheng.finance.services.payments import SIGNOFF_KIND
    from minsheng.ledger import services as ledger
    from minsheng.procurement.models import Contract, ContractStatus, Variation

    made = Made()
    rng = random.Random(f"finance-payments-{seed}")  # noqa: S311 - demo data, reproducible by design
    officers: dict[str, User | None] = {}
    contracts = Contract.objects.filter(status__in=[ContractStatus.ACTIVE, ContractStatus.COMPLETED]).select_related(
        "project", "project__lead_department", "project__division", "supplier").order_by("number")
    to_anchor: list[dict[str, Any]] = []
    with transaction.atomic():
        for contract in contracts:
            project = contract.project
            cap = approved_cap(project)
            fin = _finance_officer(project, officers)
            requester = project.responsible_person
            # The department step: another officer of the lead department's kind on the project's line (a county
            # bureau often has one officer, who requested; the city bureau above then reviews).
            line = [int(p) for p in project.division_path.strip("/").split("/") if p]
            dept = User.objects.filter(role=Role.DEPT_OFFICER, department__kind=project.lead_department.kind,
                                       division_id__in=line, is_active=True).exclude(pk=requester.pk).order_by(
                "-division__level", "pk").first()
            supervisor = project.members.filter(role=MemberRole.SUPERVISOR).select_related("user").first()
            if cap is None or fin is None or dept is None or supervisor is None or requester.pk in (fin.pk, dept.pk):
                made.notes.append(f"{contract.number}: 缺少预算、审核人或监理，未生成拨付")
                continue
            ceiling = contract.value + sum((v.amount for v in Variation.objects.filter(
                contract=contract, status=Variation.Status.APPROVED)), Decimal(0))
            paid_project = sum((p.amount for p in PaymentRequest.objects.filter(project=project).exclude(
                status=PaymentStatus.REJECTED)), Decimal(0))
            paid_contract = Decimal(0)
            docs = list(project.documents.filter(Q(kind="contract") | Q(kind="design")).order_by("pk")[:2])
            due = [m for m in contract.milestones.order_by("due_date", "pk") if m.due_date <= as_of and m.amount > 0]
            for n, milestone in enumerate(due):
                # 3 % is held back as the quality guarantee (质量保证金) until the defects period ends.
                amount = (milestone.amount * Decimal("0.97")).quantize(CENT, ROUND_DOWN)
                if paid_contract + amount > ceiling or paid_project + amount > cap.total:
                    break
                paid_contract += amount
                paid_project += amount
                invoice_day = min(as_of, milestone.due_date + dt.timedelta(days=rng.randint(1, 10)))
                last = n == len(due) - 1
                status = PaymentStatus.PAID
                if last and (as_of - invoice_day).days <= 20:
                    draw = rng.random()
                    status = (PaymentStatus.APPROVED if draw < 0.4 else PaymentStatus.DEPT_APPROVED if draw < 0.7
                              else PaymentStatus.AWAITING_SIGNOFF)
                # The supervisor named in the request confirms the quantities himself, after it was made.
                signed = None if status == PaymentStatus.AWAITING_SIGNOFF else _at(invoice_day, 14)
                req = PaymentRequest.objects.create(
                    project=project, contract=contract, milestone=milestone, amount=amount,
                    invoice_number=f"{contract.supplier.credit_code[-6:]}{invoice_day:%y%m%d}{n + 1:02d}",
                    invoice_amount=amount, invoice_date=invoice_day,
                    measured_quantities=[{"item": milestone.title, "quantity": "1", "unit": "项"}],
                    supervisor_signoff=supervisor.user, signed_off_at=signed, requested_by=requester,
                    requested_at=_at(invoice_day, 11), status=status,
                    paid_on=min(as_of, invoice_day + dt.timedelta(days=12)) if status == PaymentStatus.PAID else None,
                    payment_voucher=f"ZF{invoice_day:%Y%m%d}{n + 1:03d}" if status == PaymentStatus.PAID else "")
                req.evidence.set(docs)
                made.payments += 1
                if signed is None:
                    continue
                signoff = PaymentDecision.objects.create(request=req, step=PaymentDecision.Step.SUPERVISOR,
                                                         decided_by=supervisor.user, approve=True,
                                                         comment="已核对现场，计量属实", at=signed)
                to_anchor.append({"kind": SIGNOFF_KIND, "project_code": project.code, "record": signoff,
                                  "actor": supervisor.user.pk, "actor_role": supervisor.user.role, "at": signed})
                made.signoffs += 1
                PaymentDecision.objects.create(request=req, step=PaymentDecision.Step.DEPARTMENT, decided_by=dept,
                                               approve=True, comment="计量属实，同意", at=_at(invoice_day, 15))
                if status != PaymentStatus.DEPT_APPROVED:
                    at = _at(min(as_of, invoice_day + dt.timedelta(days=3)), 16)
                    d = PaymentDecision.objects.create(request=req, step=PaymentDecision.Step.FINANCE, decided_by=fin,
                                                       approve=True, comment="同意拨付", at=at)
                    to_anchor.append({"kind": "disbursement", "project_code": project.code, "record": d,
                                      "actor": fin.pk, "actor_role": fin.role, "at": at})
        to_anchor.sort(key=lambda i: i["at"])
        for start in range(0, len(to_anchor), 500):
            ledger.anchor_many(to_anchor[start:start + 500])
        made.anchored = len(to_anchor)
    return made
