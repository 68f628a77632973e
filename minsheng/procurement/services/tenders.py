"""Tenders: creation from an approved budget, publication (with the sealing key ceremony), clarifications."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.roles import Cap
from minsheng.core import audit
from minsheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from minsheng.core.events import send_on_commit
from minsheng.core.jurisdiction import rule_for
from minsheng.core.money import parse_yuan
from minsheng.core.services import notify_many
from minsheng.finance.models import BudgetKind, BudgetStatus, BudgetVersion
from minsheng.ledger.services import anchor
from minsheng.procurement import sealing
from minsheng.procurement.anchoring import CANCELLATION_KIND
from minsheng.procurement.models import (
    AwardCriteria,
    BidStatus,
    Clarification,
    KeyShareHolder,
    Method,
    PanelMember,
    ProcurementCategory,
    Supplier,
    Tender,
    TenderCancellation,
    TenderStatus,
)
from minsheng.procurement.services.common import NOT_OFFICIALS, clean_text, now_or, require_manage
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible

TENDER_BUDGET_KINDS = (BudgetKind.DESIGN, BudgetKind.BUDGET)
# 招标投标法实施条例第五十四条: the winning candidates are published for at least three days.
MIN_STANDSTILL_DAYS = 3
MAX_SHARES = 9
REASON_REQUIRED = (Method.NEGOTIATION, Method.SINGLE_SOURCE)


def _threshold(project: Project, category: str) -> Decimal | None:
    limits = rule_for("procurement.must_tender_from", project.division).value
    raw = limits.get(category)
    return Decimal(str(raw)) if raw is not None else None


def _next_reference(project: Project) -> str:
    n = Tender.objects.filter(project=project).count() + 1
    while Tender.objects.filter(reference=f"{project.code}-T{n:02d}").exists():
        n += 1
    return f"{project.code}-T{n:02d}"


@transaction.atomic
def tender_create(
    *,
    actor: Any,
    project: Project,
    budget_version: BudgetVersion,
    title: str,
    category: str,
    method: str,
    value: Any,
    method_reason: str = "",
    description: str = "",
    award_criteria: str = AwardCriteria.RATED,
    price_weight: int = 30,
    quality_standards: str = "",
    standstill_days: int = MIN_STANDSTILL_DAYS,
    key_threshold: int = 2,
    key_share_count: int = 3,
    invited_suppliers: list[Supplier] | tuple[Supplier, ...] = (),
) -> Tender:
    """A draft tender for part of a project, drawn from an approved 概算 or 预算 of that project."""
    require_manage(actor, project)
    errors: dict[str, list[Any]] = {}
    if budget_version.project_id != project.pk:
        errors["budget_version"] = [_("所选预算不属于该项目。")]
    elif budget_version.status != BudgetStatus.APPROVED or budget_version.kind not in TENDER_BUDGET_KINDS:
        errors["budget_version"] = [_("招标须依据已批准的设计概算或施工图预算。")]
    title = clean_text(title, field="title", max_length=128)
    amount = parse_yuan(value, field="value", allow_zero=False)
    if "budget_version" not in errors:
        committed = (Tender.objects.filter(budget_version=budget_version)
                     .exclude(status__in=[TenderStatus.CANCELLED, TenderStatus.UNSUCCESSFUL])
                     .aggregate(s=Sum("value"))["s"] or Decimal(0))
        if amount + committed > budget_version.total:
            errors["value"] = [_("最高投标限价超出预算：预算 %(total)s 元，已用于其他招标 %(used)s 元。")
                               % {"total": budget_version.total, "used": committed}]
    if category not in ProcurementCategory.values:
        errors["category"] = [_("采购类别无效。")]
    if method not in Method.values:
        errors["method"] = [_("采购方式无效。")]
    if award_criteria not in AwardCriteria.values:
        errors["award_criteria"] = [_("评标办法无效。")]
    if not isinstance(price_weight, int) or not 0 <= price_weight <= 100:
        errors["price_weight"] = [_("价格分权重应在 0 到 100 之间。")]
    if not isinstance(standstill_days, int) or standstill_days < MIN_STANDSTILL_DAYS:
        errors["standstill_days"] = [_("中标公示期不得少于 %(n)d 日。") % {"n": MIN_STANDSTILL_DAYS}]
    if not (isinstance(key_threshold, int) and isinstance(key_share_count, int)
            and 2 <= key_threshold <= key_share_count <= MAX_SHARES):
        errors["key_threshold"] = [_("开标密钥须由 2 至 %(n)d 名开标人分持，且开启门限不大于分持人数。")
                                   % {"n": MAX_SHARES}]
    reason = str(method_reason or "").strip()
    if method in REASON_REQUIRED and not reason:
        errors["method_reason"] = [_("采用竞争性谈判或单一来源方式须说明理由。")]
    if category in ProcurementCategory.values and method in Method.values:
        threshold = _threshold(project, category)
        if threshold is not None and amount >= threshold and method not in (Method.OPEN, Method.INVITED):
            errors["method"] = [_("%(cat)s类采购达到 %(limit)s 元必须招标，只能采用公开招标或邀请招标。")
                                % {"cat": ProcurementCategory(category).label, "limit": threshold}]
    suppliers = list(dict.fromkeys(invited_suppliers))
    if method == Method.INVITED:
        minimum = int(rule_for("procurement.invited_min_suppliers", project.division).value)
        if len(suppliers) < minimum:
            errors["invited_suppliers"] = [_("邀请招标须邀请不少于 %(n)d 家供应商。") % {"n": minimum}]
    elif method == Method.SINGLE_SOURCE and len(suppliers) != 1:
        errors["invited_suppliers"] = [_("单一来源采购须指定唯一的供应商。")]
    if errors:
        raise ValidationFailed(fields=errors)
    tender = Tender.objects.create(
        project=project, budget_version=budget_version, reference=_next_reference(project), title=title,
        description=str(description or "").strip(), category=category, method=method, method_reason=reason,
        award_criteria=award_criteria, price_weight=price_weight, value=amount,
        quality_standards=str(quality_standards or "").strip(), standstill_days=standstill_days,
        key_threshold=key_threshold, key_share_count=key_share_count, created_by=actor,
    )
    tender.invited_suppliers.set(suppliers)
    audit.record(actor=actor, action="tender.create", obj=tender,
                 after=audit.snapshot(tender) | {"invited_suppliers": [s.pk for s in suppliers]},
                 project_code=project.code, division_path=project.division_path)
    return tender


@dataclass(frozen=True)
class Published:
    tender: Tender
    shares: list[tuple[Any, str]]  # (holder, share text) — shown once, never stored


def min_submission_days(tender: Tender) -> int:
    days = rule_for("procurement.min_submission_days", tender.project.division).value
    return int(days.get(tender.method, 20))


@transaction.atomic
def tender_publish(
    *,
    actor: Any,
    tender: Tender,
    submission_deadline: dt.datetime,
    holders: list[Any],
    clarification_deadline: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Published:
    """Publish the notice and hold the key ceremony: a fresh X25519 key pair; its private key split k-of-n
    among the named opening officials and forgotten. Only the public key and the shares' digests are kept;
    the share texts are returned once for handing over."""
    tender = Tender.objects.select_for_update().select_related("project", "project__division").get(pk=tender.pk)
    require_manage(actor, tender.project)
    if tender.status != TenderStatus.DRAFT:
        raise Conflict(_("只有草稿状态的招标项目可以发布。"))
    at = now_or(now)
    errors: dict[str, list[Any]] = {}
    days = min_submission_days(tender)
    if submission_deadline is None or submission_deadline <= at:
        errors["submission_deadline"] = [_("投标截止时间须晚于发布时间。")]
    elif submission_deadline < at + dt.timedelta(days=days):
        errors["submission_deadline"] = [
            _("%(method)s自发布之日起至投标截止不得少于 %(days)d 日。")
            % {"method": tender.get_method_display(), "days": days}]
    if clarification_deadline is None and submission_deadline is not None:
        clarification_deadline = max(at, submission_deadline - dt.timedelta(days=3))
    if (clarification_deadline is not None and submission_deadline is not None
            and not at <= clarification_deadline <= submission_deadline):
        errors["clarification_deadline"] = [_("澄清截止时间须在发布之后、投标截止之前。")]
    people = list(dict.fromkeys(holders))
    visible_to = {u.pk for u in people if projects_visible(u).filter(pk=tender.project_id).exists()}
    if len(people) != tender.key_share_count:
        errors["holders"] = [_("须指定 %(n)d 名不同的开标密钥分持人。") % {"n": tender.key_share_count}]
    elif any(not u.is_active or u.role in NOT_OFFICIALS or u.pk not in visible_to for u in people):
        errors["holders"] = [_("开标密钥分持人须为能查看本项目的在职工作人员，不能是投标人、评标专家或监理。")]
    if tender.method == Method.INVITED and not tender.invited_suppliers.exists():
        errors["invited_suppliers"] = [_("邀请招标须先确定受邀供应商。")]
    if errors:
        raise ValidationFailed(fields=errors)
    pair = sealing.generate_key_pair()
    shares = sealing.split(pair.private, k=tender.key_threshold, n=tender.key_share_count)
    handed: list[tuple[Any, str]] = []
    for holder, share in zip(people, shares, strict=True):
        share_text = share.encode(str(tender.pk))
        KeyShareHolder.objects.create(tender=tender, index=share.index, holder=holder,
                                      share_digest=sealing.share_digest(share_text), issued_at=at)
        handed.append((holder, share_text))
    if _public_from_shares(shares, tender.key_threshold) != pair.public:
        raise AssertionError("key split does not reconstruct")
    public_key = pair.public
    del pair  # the private key is dropped here; only its shares (returned once) remain
    before = audit.snapshot(tender, ["status", "published_at", "submission_deadline"])
    tender.sealing_public_key = public_key
    tender.status = TenderStatus.PUBLISHED
    tender.published_at = at
    tender.submission_start = at
    tender.submission_deadline = submission_deadline
    tender.clarification_deadline = clarification_deadline
    tender.save()
    audit.record(actor=actor, action="tender.publish", obj=tender, before=before,
                 after=audit.snapshot(tender, ["status", "published_at", "submission_deadline"])
                 | {"share_holders": [u.pk for u in people], "key_threshold": tender.key_threshold},
                 project_code=tender.project.code, division_path=tender.project.division_path)
    send_on_commit("procurement.tender_published", tender_id=tender.pk)
    return Published(tender, handed)


def _public_from_shares(shares: list[sealing.Share], k: int) -> bytes:
    """The public key, derived back from k of the fresh shares: proves the split is sound before any
    bidder relies on it."""
    return sealing.public_of(sealing.combine(shares[:k]))


@transaction.atomic
def share_confirm(*, actor: Any, tender: Tender, share_text: str, now: dt.datetime | None = None) -> KeyShareHolder:
    """An opening official checks that the share they were handed is the one registered to them."""
    holder = KeyShareHolder.objects.filter(tender=tender, holder=actor).first()
    if holder is None:
        raise PermissionDenied(_("您不是本项目的开标密钥分持人。"))
    if tender.status == TenderStatus.CANCELLED:
        raise Conflict(_("该招标项目已终止，开标密钥分片不再需要，请销毁。"), code="cancelled")
    if sealing.share_digest(share_text) != holder.share_digest:
        raise ValidationFailed(fields={"share": [_("分片与登记的摘要不符，请核对后重新输入。")]})
    holder.collected_at = now_or(now)
    holder.save(update_fields=["collected_at"])
    audit.record(actor=actor, action="tender.share_confirm", obj=tender, after={"index": holder.index},
                 project_code=tender.project.code, division_path=tender.project.division_path)
    return holder


@transaction.atomic
def clarification_ask(*, actor: Any, tender: Tender, question: str, now: dt.datetime | None = None) -> Clarification:
    """A bidder's question. Published with its answer; who asked is never shown."""
    if not actor.can(Cap.BID_SUBMIT) or not actor.suppliers.exists():
        raise PermissionDenied(_("只有投标单位的账号可以提问。"))
    at = now_or(now)
    if tender.status != TenderStatus.PUBLISHED:
        raise Conflict(_("该项目不在公告期，不能提问。"))
    if tender.clarification_deadline and at > tender.clarification_deadline:
        raise Conflict(_("澄清截止时间已过。"))
    if tender.invited_suppliers.exists() and not tender.invited_suppliers.filter(users=actor).exists():
        raise PermissionDenied(_("本项目只接受受邀供应商的提问和投标。"))
    item = Clarification.objects.create(tender=tender, question=clean_text(question, field="question", max_length=2000),
                                        asked_by=actor, asked_at=at)
    audit.record(actor=actor, action="clarification.ask", obj=item, project_code=tender.project.code,
                 division_path=tender.project.division_path)
    return item


@transaction.atomic
def clarification_answer(*, actor: Any, clarification: Clarification, answer: str,
                         now: dt.datetime | None = None) -> Clarification:
    tender = clarification.tender
    require_manage(actor, tender.project)
    if clarification.answered_at is not None:
        raise Conflict(_("该问题已答复，答复一经公开不能修改。"))
    clarification.answer = clean_text(answer, field="answer", max_length=4000)
    clarification.answered_by = actor
    clarification.answered_at = now_or(now)
    clarification.save(update_fields=["answer", "answered_by", "answered_at"])
    audit.record(actor=actor, action="clarification.answer", obj=clarification,
                 after={"answer": clarification.answer}, project_code=tender.project.code,
                 division_path=tender.project.division_path)
    return clarification


# Before the award a published tender may be ended (终止招标): sealed bids are then never opened.
CANCELLABLE = (TenderStatus.PUBLISHED, TenderStatus.OPENED, TenderStatus.EVALUATED)


@transaction.atomic
def tender_cancel(*, actor: Any, tender: Tender, reason: str, now: dt.datetime | None = None) -> TenderCancellation:
    """End a published tender before the award, with a public reason. Bids still sealed stay sealed for good (the
    opening is refused from now on) and the opening key shares are no longer needed. The notice is anchored in the
    evidence ledger with the commitments of the bids lodged; bidders, the panel and the share holders are told."""
    tender = Tender.objects.select_for_update().select_related("project", "project__division").get(pk=tender.pk)
    require_manage(actor, tender.project)
    if tender.status in (TenderStatus.AWARDED, TenderStatus.CONTRACTED):
        raise Conflict(_("已定标的招标项目不能终止。"), code="awarded")
    if tender.status not in CANCELLABLE:
        raise Conflict(_("只有已发布、尚未定标的招标项目可以终止。"), code="not_cancellable")
    text = str(reason or "").strip()
    if not text:
        raise ValidationFailed(fields={"reason": [_("请填写终止招标的理由，理由将随终止公告公开。")]})
    text = clean_text(text, field="reason", max_length=2000)
    at = now_or(now)
    bids = list(tender.bids.exclude(status=BidStatus.WITHDRAWN).select_related("supplier").order_by("submitted_at",
                                                                                                     "pk"))
    cancellation = TenderCancellation.objects.create(
        tender=tender, reason=text, cancelled_by=actor, cancelled_at=at, status_before=tender.status,
        bid_commitments=[b.commitment for b in bids])
    leaf = anchor(kind=CANCELLATION_KIND, project_code=tender.project.code, record=cancellation, actor=actor, at=at)
    cancellation.ledger_index = leaf.index
    cancellation.save(update_fields=["ledger_index"])
    before = audit.snapshot(tender, ["status"])
    tender.status = TenderStatus.CANCELLED
    tender.save(update_fields=["status"])
    audit.record(actor=actor, action="tender.cancel", obj=tender, before=before,
                 after={"status": tender.status, "reason": text, "ledger_index": leaf.index,
                        "sealed_bids": sum(b.status == BidStatus.SEALED for b in bids)},
                 project_code=tender.project.code, division_path=tender.project.division_path)
    _tell_cancelled(tender, bids, opened=cancellation.status_before != TenderStatus.PUBLISHED)
    send_on_commit("procurement.tender_cancelled", tender_id=tender.pk)
    return cancellation


def _tell_cancelled(tender: Tender, bids: list[Any], *, opened: bool) -> None:
    names = {"ref": tender.reference, "title": tender.title}
    bidders = set(Supplier.users.through.objects.filter(supplier_id__in={b.supplier_id for b in bids})
                  .values_list("user_id", flat=True))
    told = (gettext("招标已终止：%(ref)s %(title)s，请查看终止公告。") if opened
            else gettext("招标已终止：%(ref)s %(title)s。贵单位的密封投标不会开启，请查看终止公告。"))
    notify_many(recipient_ids=sorted(bidders), kind="tender_cancelled", text=told % names,
                link=reverse("procurement:tender", args=[tender.pk]), dedupe_key=f"tender_cancelled:{tender.pk}")
    console = reverse("procurement_console:tender", args=[tender.pk])
    panel = set(PanelMember.objects.filter(tender=tender).values_list("expert_id", flat=True)) - bidders
    notify_many(recipient_ids=sorted(panel), kind="tender_cancelled",
                text=gettext("招标已终止：%(ref)s %(title)s，评标工作取消。") % names,
                link=console, dedupe_key=f"tender_cancelled:{tender.pk}")
    if not opened:
        holders = set(KeyShareHolder.objects.filter(tender=tender).values_list("holder_id", flat=True))
        notify_many(recipient_ids=sorted(holders), kind="tender_cancelled",
                    text=gettext("招标已终止：%(ref)s %(title)s。不再开标，您保管的开标密钥分片无需再用，请销毁。")
                    % names,
                    link=console, dedupe_key=f"tender_shares_void:{tender.pk}")
