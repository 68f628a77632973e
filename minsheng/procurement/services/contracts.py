"""Contracts: signing after the standstill, milestones, and variations (change orders) with approval by
another person — a leader once their cumulative share passes the jurisdiction's threshold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.roles import Cap, Role
from minsheng.core import audit
from minsheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from minsheng.core.events import send_on_commit
from minsheng.core.money import parse_yuan
from minsheng.procurement import selectors
from minsheng.procurement.models import (
    Award,
    AwardStatus,
    Complaint,
    Contract,
    ContractMilestone,
    ContractStatus,
    Tender,
    TenderStatus,
    Variation,
)
from minsheng.procurement.services.common import (
    clean_text,
    may_manage,
    now_or,
    require_manage,
    require_visible,
    signed_yuan,
)
from minsheng.projects.models import WbsItem


def _record(actor: Any, action: str, obj: Any, contract: Contract, **after: Any) -> None:
    audit.record(actor=actor, action=action, obj=obj, after=after or None, project_code=contract.project.code,
                 division_path=contract.project.division_path)


def _milestone(contract: Contract, data: dict[str, Any], position: int) -> ContractMilestone:
    errors: dict[str, list[Any]] = {}
    title = str(data.get("title") or "").strip()
    if not title:
        errors["title"] = [_("请填写节点名称。")]
    amount = parse_yuan(data.get("amount"), field="amount")
    due = data.get("due_date")
    if isinstance(due, str):
        try:
            due = dt.date.fromisoformat(due)
        except ValueError:
            due = None
    if not isinstance(due, dt.date):
        errors["due_date"] = [_("请填写计划完成日期。")]
    elif not contract.period_start <= due <= contract.period_end:
        errors["due_date"] = [_("节点日期须在合同履约期内（%(a)s 至 %(b)s）。")
                              % {"a": contract.period_start, "b": contract.period_end}]
    item = data.get("wbs_item")
    if item is not None and not isinstance(item, WbsItem):
        item = WbsItem.objects.filter(pk=item).first()
        if item is None:
            errors["wbs_item"] = [_("子项不存在。")]
    if isinstance(item, WbsItem) and item.project_id != contract.project_id:
        errors["wbs_item"] = [_("子项须属于本合同的项目。")]
    if errors:
        raise ValidationFailed(fields=errors)
    return ContractMilestone(contract=contract, position=position, title=title[:128], due_date=due, amount=amount,
                             description=str(data.get("description") or "").strip(), wbs_item=item)


def _check_milestone_total(contract: Contract, extra: Decimal) -> None:
    ceiling = selectors.contract_ceiling(contract)
    planned = selectors.milestone_total(contract) + extra
    if planned > ceiling:
        raise ValidationFailed(fields={"amount": [_("各节点付款额合计 %(sum)s 元超过合同金额 %(cap)s 元。")
                                                  % {"sum": planned, "cap": ceiling}]})


@transaction.atomic
def contract_sign(
    *,
    actor: Any,
    award: Award,
    number: str,
    title: str,
    signed_on: dt.date,
    period_start: dt.date,
    period_end: dt.date,
    quality_standards: str = "",
    value: Any = None,
    milestones: list[dict[str, Any]] | None = None,
    now: dt.datetime | None = None,
) -> Contract:
    """Sign the contract with the winner, once the standstill period is over and no complaint is open."""
    award = Award.objects.select_for_update().select_related("tender", "tender__project", "supplier").get(pk=award.pk)
    tender = award.tender
    project = tender.project
    require_manage(actor, project, Cap.CONTRACT_MANAGE)
    at = now_or(now)
    if award.status != AwardStatus.STANDSTILL:
        raise Conflict(_("该中标结果不在待签约状态。"))
    if at < award.standstill_until:
        raise Conflict(_("中标公示期未满，不能签订合同。"), code="standstill")
    if award.complaints.filter(status=Complaint.Status.OPEN).exists():
        raise Conflict(_("有尚未处理完毕的质疑，暂停签订合同。"), code="complaint_open")
    errors: dict[str, list[Any]] = {}
    number = clean_text(number, field="number", max_length=40)
    title = clean_text(title, field="title", max_length=128)
    amount = award.value if value in (None, "") else parse_yuan(value, field="value", allow_zero=False)
    if not isinstance(period_start, dt.date) or not isinstance(period_end, dt.date) or period_end < period_start:
        errors["period_end"] = [_("履约结束日期不能早于开始日期。")]
    if not isinstance(signed_on, dt.date):
        errors["signed_on"] = [_("请填写签订日期。")]
    if Contract.objects.filter(number=number).exists():
        errors["number"] = [_("合同编号已存在。")]
    if errors:
        raise ValidationFailed(fields=errors)
    try:
        with transaction.atomic():
            contract = Contract.objects.create(
                project=project, tender=tender, award=award, supplier=award.supplier, number=number, title=title,
                value=amount, signed_on=signed_on, period_start=period_start, period_end=period_end,
                quality_standards=str(quality_standards or tender.quality_standards or "").strip(),
                created_by=actor, created_at=at)
    except IntegrityError:
        raise ValidationFailed(fields={"number": [_("合同编号已存在。")]}) from None
    rows = [_milestone(contract, m, i) for i, m in enumerate(milestones or [], start=1)]
    _check_milestone_total(contract, sum((r.amount for r in rows), Decimal(0)))
    ContractMilestone.objects.bulk_create(rows)
    award.status = AwardStatus.ACTIVE
    award.save(update_fields=["status"])
    Tender.objects.filter(pk=tender.pk).update(status=TenderStatus.CONTRACTED)
    _record(actor, "contract.sign", contract, contract, **audit.snapshot(contract),
            milestones=[(r.title, r.amount, r.due_date) for r in rows])
    send_on_commit("procurement.contract_signed", contract_id=contract.pk)
    return contract


@transaction.atomic
def milestone_add(*, actor: Any, contract: Contract, title: str, due_date: Any, amount: Any,
                  description: str = "", wbs_item: Any = None) -> ContractMilestone:
    require_manage(actor, contract.project, Cap.CONTRACT_MANAGE)
    if contract.status != ContractStatus.ACTIVE:
        raise Conflict(_("合同不在履行中。"))
    position = (contract.milestones.aggregate(m=Max("position"))["m"] or 0) + 1
    row = _milestone(contract, {"title": title, "due_date": due_date, "amount": amount, "description": description,
                                "wbs_item": wbs_item}, position)
    _check_milestone_total(contract, row.amount)
    row.save()
    _record(actor, "contract.milestone_add", row, contract, title=row.title, amount=row.amount, due=row.due_date)
    send_on_commit("procurement.contract_changed", contract_id=contract.pk)
    return row


@transaction.atomic
def variation_propose(*, actor: Any, contract: Contract, reason: str, amount: Any, days: Any = 0,
                      now: dt.datetime | None = None) -> Variation:
    """Propose a change order. Its amount may be negative; the contract's value never falls to zero."""
    contract = Contract.objects.select_for_update().select_related("project").get(pk=contract.pk)
    require_manage(actor, contract.project, Cap.CONTRACT_MANAGE)
    if contract.status != ContractStatus.ACTIVE:
        raise Conflict(_("合同不在履行中，不能变更。"))
    value = signed_yuan(amount, field="amount")
    try:
        days = int(days or 0)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"days": [_("工期变化须为整数天。")]}) from None
    if selectors.contract_ceiling(contract) + value <= 0:
        raise ValidationFailed(fields={"amount": [_("变更后的合同金额必须大于零。")]})
    number = (contract.variations.aggregate(m=Max("number"))["m"] or 0) + 1
    variation = Variation.objects.create(contract=contract, number=number, amount=value, days=days,
                                         reason=clean_text(reason, field="reason", max_length=4000),
                                         requested_by=actor, requested_at=now_or(now))
    _record(actor, "variation.propose", variation, contract, number=number, amount=value, days=days)
    return variation


def _may_decide(actor: Any, contract: Contract) -> bool:
    if actor.role == Role.LEADER:
        return selectors.contracts_visible(actor).filter(pk=contract.pk).exists()
    return may_manage(actor, contract.project, Cap.CONTRACT_MANAGE)


@transaction.atomic
def variation_decide(*, actor: Any, variation: Variation, approve: bool, comment: str = "",
                     now: dt.datetime | None = None) -> Variation:
    """Approve or reject a change order. The approver is not the proposer; when the contract's cumulative
    changes would pass the higher-approval share, only a leader (分管领导) may approve."""
    variation = Variation.objects.select_for_update().select_related("contract", "contract__project").get(
        pk=variation.pk)
    contract = variation.contract
    require_visible(actor, contract.project)
    if not _may_decide(actor, contract):
        raise PermissionDenied()
    if variation.status != Variation.Status.PROPOSED:
        raise Conflict(_("该变更已审批。"))
    if variation.requested_by_id == actor.pk:
        raise PermissionDenied(_("变更须由提出人以外的人员审批。"))
    if approve:
        share = selectors.variation_share(contract, extra=variation.amount)
        limits = selectors.variation_limits(contract)
        if share > limits["higher_approval"] and actor.role not in (Role.LEADER, Role.SYSADMIN):
            raise PermissionDenied(_("批准后累计变更将达合同金额的 %(share)s%%，超过 %(limit)s%%，须报分管领导审批。")
                                   % {"share": (share * 100).quantize(Decimal("0.1")),
                                      "limit": (limits["higher_approval"] * 100).normalize()})
    variation.status = Variation.Status.APPROVED if approve else Variation.Status.REJECTED
    variation.decided_by = actor
    variation.decided_at = now_or(now)
    variation.decision_comment = str(comment or "").strip()[:2000]
    variation.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    _record(actor, "variation.approve" if approve else "variation.reject", variation, contract,
            number=variation.number, amount=variation.amount)
    if approve:
        send_on_commit("procurement.variation_approved", contract_id=contract.pk, variation_id=variation.pk)
    return variation
