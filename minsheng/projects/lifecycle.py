"""The project lifecycle and its statutory gates (政府投资条例, 2019). Pure: no ORM.

A gate is the exit of one stage into another. It lists the evidence it needs (documents, filled
fields, complete sub-items, and for major or high-impact projects an opinion survey, an expert
review and a risk assessment) and the approval slots that must each be filled by an authorised
person. `missing_evidence` says, in words a person can act on, what is still lacking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    RESERVE = "reserve", _("项目储备")
    PROPOSAL = "proposal", _("项目建议书")
    FEASIBILITY = "feasibility", _("可行性研究")
    DESIGN = "design", _("初步设计及概算")
    PROCUREMENT = "procurement", _("招标采购")
    CONSTRUCTION = "construction", _("施工建设")
    ACCEPTANCE = "acceptance", _("竣工验收")
    FINAL_ACCOUNTS = "final_accounts", _("竣工决算")
    OPERATION = "operation", _("运营维护")
    POST_EVALUATION = "post_evaluation", _("后评价")
    SUSPENDED = "suspended", _("暂停")
    CANCELLED = "cancelled", _("已撤销")


ORDER: list[str] = [
    Stage.RESERVE, Stage.PROPOSAL, Stage.FEASIBILITY, Stage.DESIGN, Stage.PROCUREMENT,
    Stage.CONSTRUCTION, Stage.ACCEPTANCE, Stage.FINAL_ACCOUNTS, Stage.OPERATION, Stage.POST_EVALUATION,
]
TERMINAL = frozenset({Stage.CANCELLED, Stage.POST_EVALUATION})


class DocumentKind(models.TextChoices):
    PROPOSAL = "proposal", _("项目建议书")
    FSR = "fsr", _("可行性研究报告")
    OPINION_SURVEY = "opinion_survey", _("民意调查报告")
    EXPERT_REVIEW = "expert_review", _("专家论证意见")
    RISK_ASSESSMENT = "risk_assessment", _("社会稳定风险评估")
    DESIGN = "design", _("初步设计文件")
    ESTIMATE_EXCESS = "estimate_excess", _("概算超估算情况报告")
    EMERGENCY_BASIS = "emergency_basis", _("应急项目依据")
    APPROVAL = "approval", _("批复文件")
    TENDER = "tender", _("招标文件")
    CONTRACT = "contract", _("施工合同")
    COMPLETION = "completion", _("竣工报告")
    ACCEPTANCE = "acceptance", _("竣工验收报告")
    FINAL_ACCOUNTS = "final_accounts", _("竣工决算报告")
    OM_REPORT = "om_report", _("运营维护报告")
    PHOTO = "photo", _("现场照片")
    OTHER = "other", _("其他")


class Slot(models.TextChoices):
    """Who fills an approval slot."""

    INVESTMENT = "investment", _("投资主管部门（发改）")
    LEAD_DEPARTMENT = "lead_department", _("项目主管部门")
    FINANCE = "finance", _("财政部门")
    LEADER = "leader", _("分管领导")


class PathKind(models.TextChoices):
    FULL = "full", _("完整程序")
    FSR_REPLACES_PROPOSAL = "fsr_replaces_proposal", _("简化：可研代项目建议书")
    DESIGN_ONLY = "design_only", _("简化：直接初步设计")
    EMERGENCY = "emergency", _("应急项目简化")
    SUSPEND = "suspend", _("暂停")
    RESUME = "resume", _("恢复")
    CANCEL = "cancel", _("撤销")


@dataclass(frozen=True)
class Gate:
    from_stage: str
    to_stage: str
    path: str = PathKind.FULL
    documents: tuple[str, ...] = ()
    major_documents: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    needs_targets: bool = False
    wbs_complete: bool = False
    check_estimate_excess: bool = False
    slots: tuple[str, ...] = ()
    tiered: bool = True  # the approver's level depends on the project's size
    needs_reason: bool = False

    @property
    def key(self) -> str:
        return f"{self.from_stage}>{self.to_stage}"


_ENTRY = dict(fields=("estimate_amount", "lead_department", "responsible_person", "division"), needs_targets=True)

GATES: list[Gate] = [
    Gate(Stage.RESERVE, Stage.PROPOSAL, **_ENTRY),
    Gate(Stage.RESERVE, Stage.FEASIBILITY, PathKind.FSR_REPLACES_PROPOSAL, slots=(Slot.INVESTMENT,), **_ENTRY),
    Gate(Stage.RESERVE, Stage.DESIGN, PathKind.DESIGN_ONLY, slots=(Slot.INVESTMENT,), **_ENTRY),
    Gate(Stage.RESERVE, Stage.DESIGN, PathKind.EMERGENCY, documents=(DocumentKind.EMERGENCY_BASIS,),
         slots=(Slot.INVESTMENT,), **_ENTRY),
    Gate(Stage.PROPOSAL, Stage.FEASIBILITY, documents=(DocumentKind.PROPOSAL,), slots=(Slot.INVESTMENT,)),
    Gate(Stage.FEASIBILITY, Stage.DESIGN, documents=(DocumentKind.FSR,),
         major_documents=(DocumentKind.OPINION_SURVEY, DocumentKind.EXPERT_REVIEW, DocumentKind.RISK_ASSESSMENT),
         fields=("estimate_amount",), slots=(Slot.INVESTMENT,)),
    Gate(Stage.DESIGN, Stage.PROCUREMENT, documents=(DocumentKind.DESIGN,), fields=("design_estimate_amount",),
         check_estimate_excess=True, slots=(Slot.INVESTMENT,)),
    Gate(Stage.PROCUREMENT, Stage.CONSTRUCTION, documents=(DocumentKind.CONTRACT,), slots=(Slot.LEAD_DEPARTMENT,),
         tiered=False),
    Gate(Stage.CONSTRUCTION, Stage.ACCEPTANCE, documents=(DocumentKind.COMPLETION,), wbs_complete=True,
         slots=(Slot.LEAD_DEPARTMENT,), tiered=False),
    Gate(Stage.ACCEPTANCE, Stage.FINAL_ACCOUNTS, documents=(DocumentKind.ACCEPTANCE,),
         slots=(Slot.LEAD_DEPARTMENT,), tiered=False),
    Gate(Stage.FINAL_ACCOUNTS, Stage.OPERATION, documents=(DocumentKind.FINAL_ACCOUNTS,),
         slots=(Slot.FINANCE, Slot.LEAD_DEPARTMENT), tiered=False),
    Gate(Stage.OPERATION, Stage.POST_EVALUATION, documents=(DocumentKind.OM_REPORT,), slots=(Slot.INVESTMENT,),
         tiered=False),
]
# Suspending and cancelling are open from every non-terminal stage; resuming returns to where it was.
for _stage in ORDER[:-1]:
    GATES.append(Gate(_stage, Stage.SUSPENDED, PathKind.SUSPEND, slots=(Slot.LEADER,), tiered=False, needs_reason=True))
    GATES.append(Gate(_stage, Stage.CANCELLED, PathKind.CANCEL, slots=(Slot.LEADER,), tiered=False, needs_reason=True))
    GATES.append(Gate(Stage.SUSPENDED, _stage, PathKind.RESUME, slots=(Slot.LEADER,), tiered=False))
GATES.append(Gate(Stage.SUSPENDED, Stage.CANCELLED, PathKind.CANCEL, slots=(Slot.LEADER,), tiered=False,
                  needs_reason=True))


@dataclass(frozen=True)
class SimplifiedPathRule:
    """Thresholds in yuan (per-jurisdiction data): at or above `all_documents_from` every document is
    needed; from `fsr_replaces_proposal_from` the FSR may replace the proposal; below, design only."""

    all_documents_from: Decimal
    fsr_replaces_proposal_from: Decimal


@dataclass
class Facts:
    """What is known about a project when a gate is checked."""

    stage: str
    previous_stage: str | None
    amount: Decimal | None  # total investment: 概算 when approved, else 估算
    estimate_amount: Decimal | None
    design_estimate_amount: Decimal | None
    is_major: bool
    is_emergency: bool
    filled_fields: set[str] = field(default_factory=set)
    documents: set[str] = field(default_factory=set)
    target_count: int = 0
    wbs_total: int = 0
    wbs_incomplete: int = 0
    estimate_excess_ratio: Decimal = Decimal("0.10")


def gates_from(stage: str, previous_stage: str | None = None) -> list[Gate]:
    out = [g for g in GATES if g.from_stage == stage]
    if stage == Stage.SUSPENDED:
        out = [g for g in out if g.path != PathKind.RESUME or g.to_stage == previous_stage]
    return out


def find_gate(stage: str, to_stage: str, path: str | None, previous_stage: str | None = None) -> Gate | None:
    for g in gates_from(stage, previous_stage):
        if g.to_stage == to_stage and (path is None or g.path == path):
            return g
    return None


def path_allowed(gate: Gate, facts: Facts, rule: SimplifiedPathRule) -> str | None:
    """None when the path is open to this project; otherwise why not."""
    amount = facts.amount
    if gate.path == PathKind.FSR_REPLACES_PROPOSAL:
        if amount is None or amount >= rule.all_documents_from:
            return str(_("总投资达到 %(t)s 元及以上的项目须编报项目建议书，不能走简化程序。")
                       % {"t": f"{rule.all_documents_from:,.0f}"})
    if gate.path == PathKind.DESIGN_ONLY:
        if amount is None or amount >= rule.fsr_replaces_proposal_from:
            return str(_("只有总投资低于 %(t)s 元的项目可直接编制初步设计。")
                       % {"t": f"{rule.fsr_replaces_proposal_from:,.0f}"})
    if gate.path == PathKind.EMERGENCY and not facts.is_emergency:
        return str(_("只有应急项目可以走应急简化程序。"))
    return None


FIELD_LABELS = {
    "estimate_amount": _("估算总投资"),
    "design_estimate_amount": _("概算总投资"),
    "lead_department": _("牵头部门"),
    "responsible_person": _("项目责任人"),
    "division": _("所在区划"),
}


def missing_evidence(gate: Gate, facts: Facts, rule: SimplifiedPathRule, *, reason: str = "") -> list[str]:
    """Every reason the gate cannot be passed yet, in the order a person would fix them."""
    out: list[str] = []
    why_not = path_allowed(gate, facts, rule)
    if why_not:
        out.append(why_not)
    for name in gate.fields:
        if name not in facts.filled_fields:
            out.append(str(_("缺少必填信息：%(f)s。") % {"f": FIELD_LABELS.get(name, name)}))
    if gate.needs_targets and facts.target_count == 0:
        out.append(str(_("未设定绩效目标（至少一项指标）。")))
    needed = list(gate.documents)
    if facts.is_major:
        needed += list(gate.major_documents)
    for kind in needed:
        if kind not in facts.documents:
            out.append(str(_("缺少文件：%(d)s。") % {"d": DocumentKind(kind).label}))
    if gate.check_estimate_excess and facts.estimate_amount and facts.design_estimate_amount:
        limit = facts.estimate_amount * (1 + facts.estimate_excess_ratio)
        if facts.design_estimate_amount > limit and DocumentKind.ESTIMATE_EXCESS not in facts.documents:
            out.append(str(_("概算超过可研估算 %(p)s%% 以上，须上传《概算超估算情况报告》，必要时重新报批可研。")
                           % {"p": f"{facts.estimate_excess_ratio * 100:.0f}"}))
    if gate.wbs_complete:
        if facts.wbs_total == 0:
            out.append(str(_("责任清单为空，无法确认完工。")))
        elif facts.wbs_incomplete:
            out.append(str(_("还有 %(n)d 个子项未完成。") % {"n": facts.wbs_incomplete}))
    if gate.needs_reason and not reason.strip():
        out.append(str(_("请填写理由。")))
    return out


def approval_level(tiers: list[dict], amount: Decimal | None) -> int:
    """The division level (1 province … 3 county) that approves a project of this size."""
    value = amount or Decimal(0)
    for tier in tiers:
        below = tier.get("below")
        if below is None or value < Decimal(str(below)):
            return int(tier["level"])
    return 1
