"""Evaluation: the expert panel and its conflict-of-interest declarations, scores, disqualification,
ranking, award with a standstill period, and complaints (质疑) during it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.roles import Cap, Role
from minsheng.core import audit
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.events import send_on_commit
from minsheng.procurement import scoring
from minsheng.procurement.models import (
    Award,
    AwardCriteria,
    AwardStatus,
    Bid,
    BidStatus,
    Complaint,
    Method,
    PanelMember,
    Score,
    Supplier,
    Tender,
    TenderStatus,
)
from minsheng.procurement.services.common import clean_text, now_or, require_manage

# 招标投标法第二十八条: with fewer than three bidders an (open or invited) tender must be re-run.
MIN_BIDS_TENDERING = 3
TENDERING = (Method.OPEN, Method.INVITED)


def _record(actor: Any, action: str, obj: Any, tender: Tender, **after: Any) -> None:
    audit.record(actor=actor, action=action, obj=obj, after=after or None, project_code=tender.project.code,
                 division_path=tender.project.division_path)


def bidder_suppliers(tender: Tender) -> list[Supplier]:
    ids = tender.bids.exclude(status=BidStatus.WITHDRAWN).values("supplier_id")
    return list(Supplier.objects.filter(pk__in=ids))


def related_supplier(expert: Any, suppliers: list[Supplier]) -> Supplier | None:
    """The bidder an expert works for or acts for, if any: such an expert may not score."""
    org = (expert.organisation or "").strip()
    for s in suppliers:
        if s.users.filter(pk=expert.pk).exists() or (org and org == s.name):
            return s
    return None


@transaction.atomic
def panel_add(*, actor: Any, tender: Tender, expert: Any, is_chair: bool = False) -> PanelMember:
    require_manage(actor, tender.project)
    if expert.role != Role.EXPERT or not expert.is_active:
        raise ValidationFailed(fields={"expert": [_("只能从评标专家中组建评标委员会。")]})
    if tender.status not in (TenderStatus.DRAFT, TenderStatus.PUBLISHED, TenderStatus.OPENED):
        raise Conflict(_("评标已结束，不能再调整评标委员会。"))
    if PanelMember.objects.filter(tender=tender, expert=expert).exists():
        raise Conflict(_("该专家已在评标委员会中。"))
    if is_chair:
        PanelMember.objects.filter(tender=tender, is_chair=True).update(is_chair=False)
    member = PanelMember.objects.create(tender=tender, expert=expert, is_chair=is_chair)
    _record(actor, "panel.add", tender, tender, expert=expert.pk, is_chair=is_chair)
    return member


def _membership(actor: Any, tender: Tender) -> PanelMember:
    member = PanelMember.objects.filter(tender=tender, expert=actor).first()
    if member is None:
        raise NotFound()
    return member


@transaction.atomic
def conflict_declare(*, actor: Any, tender: Tender, has_conflict: bool, declaration: str = "",
                     now: dt.datetime | None = None) -> PanelMember:
    """Before seeing any bid, each expert declares whether they have an interest in a bidder. A declared
    conflict, or one the system finds (the expert works for or acts for a bidder), removes them."""
    member = _membership(actor, tender)
    if member.declared_at is not None:
        raise Conflict(_("您已作出回避声明。"))
    if tender.status != TenderStatus.OPENED:
        raise Conflict(_("开标后、评标前作出回避声明。"))
    found = related_supplier(actor, bidder_suppliers(tender))
    note = str(declaration or "").strip()
    if found is not None and not has_conflict:
        has_conflict = True
        finding = _("系统核查：与投标人 %(s)s 存在关联，依法回避。") % {"s": found.name}
        note = (note + "\n" if note else "") + str(finding)
    member.has_conflict = bool(has_conflict)
    member.declaration = note[:2000]
    member.declared_at = now_or(now)
    member.save(update_fields=["has_conflict", "declaration", "declared_at"])
    _record(actor, "panel.declare", tender, tender, expert=actor.pk, has_conflict=member.has_conflict)
    return member


def can_score(actor: Any, tender: Tender) -> bool:
    return PanelMember.objects.filter(tender=tender, expert=actor, declared_at__isnull=False,
                                      has_conflict=False).exists()


@transaction.atomic
def score_record(*, actor: Any, bid: Bid, technical: Any, comment: str = "") -> Score:
    tender = bid.tender
    member = _membership(actor, tender)
    if member.declared_at is None:
        raise Conflict(_("请先作出回避声明。"))
    if member.has_conflict or related_supplier(actor, [bid.supplier]) is not None:
        raise PermissionDenied(_("您已回避本项目（或与该投标人存在关联），不能评分。"))
    if tender.status != TenderStatus.OPENED:
        raise Conflict(_("该项目不在评标阶段。"))
    if tender.award_criteria != AwardCriteria.RATED:
        raise Conflict(_("本项目采用最低投标价法，不评技术分。"))
    if bid.status != BidStatus.OPENED:
        raise Conflict(_("只能对有效投标评分。"))
    ceiling = Decimal(100 - tender.price_weight)
    try:
        value = Decimal(str(technical).strip())
    except ArithmeticError:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value > ceiling or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationFailed(fields={"technical": [_("技术分应为 0 至 %(max)s 之间、最多两位小数的数。")
                                                     % {"max": ceiling}]})
    score, _created = Score.objects.update_or_create(
        bid=bid, expert=actor, defaults={"technical": value, "comment": str(comment or "").strip()[:2000]})
    _record(actor, "bid.score", bid, tender, technical=value)
    return score


@transaction.atomic
def bid_disqualify(*, actor: Any, bid: Bid, reason: str) -> Bid:
    """Declare a bid invalid (否决投标), with the reason, on the panel's finding."""
    tender = bid.tender
    chair = PanelMember.objects.filter(tender=tender, expert=actor, is_chair=True, has_conflict=False).exists()
    if not chair:
        require_manage(actor, tender.project)
    if tender.status != TenderStatus.OPENED or bid.status != BidStatus.OPENED:
        raise Conflict(_("只能在评标阶段否决有效投标。"))
    bid.disqualified_reason = clean_text(reason, field="reason", max_length=2000)
    bid.status = BidStatus.DISQUALIFIED
    bid.save(update_fields=["status", "disqualified_reason"])
    _record(actor, "bid.disqualify", bid, tender, reason=bid.disqualified_reason)
    return bid


@transaction.atomic
def evaluation_finish(*, actor: Any, tender: Tender) -> list[Bid]:
    """Compute price scores and the ranking. Returns the valid bids best first (empty: 流标)."""
    tender = Tender.objects.select_for_update().select_related("project").get(pk=tender.pk)
    require_manage(actor, tender.project)
    if tender.status != TenderStatus.OPENED:
        raise Conflict(_("该项目不在评标阶段。"))
    received = tender.bids.filter(status__in=[BidStatus.OPENED, BidStatus.DISQUALIFIED, BidStatus.TAMPERED,
                                              BidStatus.WINNER]).count()
    valid = list(tender.bids.filter(status=BidStatus.OPENED).order_by("submitted_at", "pk"))
    if (tender.method in TENDERING and received < MIN_BIDS_TENDERING) or not valid:
        tender.status = TenderStatus.UNSUCCESSFUL
        tender.save(update_fields=["status"])
        _record(actor, "tender.unsuccessful", tender, tender, received=received, valid=len(valid))
        send_on_commit("procurement.tender_unsuccessful", tender_id=tender.pk)
        return []
    members = list(PanelMember.objects.filter(tender=tender))
    if tender.award_criteria == AwardCriteria.RATED:
        if any(m.declared_at is None for m in members):
            raise Conflict(_("尚有评标专家未作回避声明。"))
        scorers = [m.expert_id for m in members if not m.has_conflict]
        if not scorers:
            raise Conflict(_("评标委员会没有可评分的专家。"))
        missing = Score.objects.filter(bid__in=valid, expert_id__in=scorers).count() != len(valid) * len(scorers)
        if missing:
            raise Conflict(_("尚有专家未对全部有效投标评分。"))
    scores: dict[int, list[Decimal]] = {}
    for s in Score.objects.filter(bid__in=valid, expert__in=[m.expert_id for m in members if not m.has_conflict]):
        scores.setdefault(s.bid_id, []).append(s.technical)
    entries = [scoring.Entry(b.pk, b.price, b.submitted_at, scores.get(b.pk, [])) for b in valid]
    ranked = scoring.rank(entries, criteria=tender.award_criteria, price_weight=tender.price_weight)
    by_id = {b.pk: b for b in valid}
    out = []
    for e in ranked:
        b = by_id[e.bid_id]
        b.price_score, b.technical_score, b.total_score, b.rank = (e.price_score, e.technical_score,
                                                                   e.total_score, e.rank)
        b.save(update_fields=["price_score", "technical_score", "total_score", "rank"])
        out.append(b)
    tender.status = TenderStatus.EVALUATED
    tender.save(update_fields=["status"])
    _record(actor, "tender.evaluate", tender, tender, ranking=[b.pk for b in out])
    return out


@transaction.atomic
def award_make(*, actor: Any, tender: Tender, now: dt.datetime | None = None) -> Award:
    """Award to the top-ranked valid bid and publish it for the standstill period (公示期)."""
    tender = Tender.objects.select_for_update().select_related("project").get(pk=tender.pk)
    require_manage(actor, tender.project)
    if tender.status != TenderStatus.EVALUATED:
        raise Conflict(_("评标完成后才能定标。"))
    top = tender.bids.filter(status=BidStatus.OPENED, rank__isnull=False).order_by("rank").first()
    if top is None:
        raise Conflict(_("没有可以中标的有效投标。"))
    at = now_or(now)
    until = at + dt.timedelta(days=tender.standstill_days)
    award, _created = Award.objects.update_or_create(
        bid=top, defaults={"tender": tender, "supplier": top.supplier, "value": top.price, "decided_at": at,
                           "decided_by": actor, "standstill_until": until, "status": AwardStatus.STANDSTILL})
    top.status = BidStatus.WINNER
    top.save(update_fields=["status"])
    tender.status = TenderStatus.AWARDED
    tender.save(update_fields=["status"])
    _record(actor, "award.make", award, tender, bid=top.pk, value=top.price, standstill_until=until)
    send_on_commit("procurement.award_made", tender_id=tender.pk, award_id=award.pk)
    return award


@transaction.atomic
def complaint_file(*, actor: Any, award: Award, text: str, now: dt.datetime | None = None) -> Complaint:
    """A bidder challenges the award during the standstill period; signing waits until it is resolved."""
    tender = award.tender
    supplier = Supplier.objects.filter(
        Q(users=actor), pk__in=tender.bids.exclude(status=BidStatus.WITHDRAWN).values("supplier_id")).first()
    if supplier is None or not actor.can(Cap.BID_SUBMIT):
        raise PermissionDenied(_("只有本项目的投标人可以提出质疑。"))
    at = now_or(now)
    if award.status != AwardStatus.STANDSTILL or at > award.standstill_until:
        raise Conflict(_("公示期已结束，不能再提出质疑。"))
    complaint = Complaint.objects.create(award=award, supplier=supplier, filed_by=actor, filed_at=at,
                                         text=clean_text(text, field="text", max_length=4000))
    _record(actor, "complaint.file", complaint, tender, award=award.pk)
    return complaint


@transaction.atomic
def complaint_resolve(*, actor: Any, complaint: Complaint, upheld: bool, resolution: str,
                      now: dt.datetime | None = None) -> Complaint:
    """Answer a complaint. Upheld: the award is withdrawn and the tender goes back to evaluation."""
    award = complaint.award
    tender = award.tender
    require_manage(actor, tender.project)
    if complaint.status != Complaint.Status.OPEN:
        raise Conflict(_("该质疑已处理。"))
    complaint.resolution = clean_text(resolution, field="resolution", max_length=4000)
    complaint.status = Complaint.Status.UPHELD if upheld else Complaint.Status.DISMISSED
    complaint.resolved_at = now_or(now)
    complaint.resolved_by = actor
    complaint.save(update_fields=["resolution", "status", "resolved_at", "resolved_by"])
    if upheld:
        award.status = AwardStatus.CANCELLED
        award.save(update_fields=["status"])
        Bid.objects.filter(pk=award.bid_id).update(status=BidStatus.OPENED)
        Bid.objects.filter(tender=tender).update(rank=None)
        Tender.objects.filter(pk=tender.pk, status=TenderStatus.AWARDED).update(status=TenderStatus.OPENED)
    _record(actor, "complaint.resolve", complaint, tender, upheld=upheld)
    return complaint
