"""Reads for procurement. Staff see the tenders and contracts of the projects they may see; experts see
the tenders whose panel they sit on; contractors see published tenders (public anyway) and only their own
bids and contracts. Bid contents exist only after the opening."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet, Sum

from minsheng.accounts.roles import Cap, Role
from minsheng.accounts.scoping import scope_for
from minsheng.core.errors import NotFound
from minsheng.core.jurisdiction import rule_for
from minsheng.procurement.models import (
    Award,
    Bid,
    BidStatus,
    Clarification,
    Contract,
    PanelMember,
    Supplier,
    Tender,
    TenderCancellation,
    TenderStatus,
    Variation,
)
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible

PUBLIC_STATUSES = [s for s in TenderStatus.values if s != TenderStatus.DRAFT]
OPENED_STATUSES = [TenderStatus.OPENED, TenderStatus.EVALUATED, TenderStatus.AWARDED, TenderStatus.CONTRACTED,
                   TenderStatus.UNSUCCESSFUL]
# A bid whose contents were decrypted at the opening (valid, disqualified later, or the winner).
READ_BIDS = [BidStatus.OPENED, BidStatus.DISQUALIFIED, BidStatus.WINNER]


def tenders_visible(user: Any) -> QuerySet[Tender]:
    scope = scope_for(user)
    if scope.nothing:
        return Tender.objects.none()
    if scope.everything:
        return Tender.objects.all()
    flt = Q(project__in=projects_visible(user))
    if user.role == Role.EXPERT:
        flt |= Q(pk__in=PanelMember.objects.filter(expert=user).values("tender_id"))
    if user.role == Role.CONTRACTOR:
        flt |= Q(status__in=PUBLIC_STATUSES)
    return Tender.objects.filter(flt)


def tender_get(user: Any, *, pk: int) -> Tender:
    found = tenders_visible(user).select_related("project", "project__division", "budget_version").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def public_tenders() -> QuerySet[Tender]:
    return (Tender.objects.filter(status__in=PUBLIC_STATUSES)
            .select_related("project", "project__division").order_by("-published_at", "-id"))


def public_tender_get(pk: int) -> Tender:
    found = public_tenders().filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def is_opened(tender: Tender) -> bool:
    """Whether the bids were opened in public: at the opening, also for a tender cancelled after it."""
    return tender.status in OPENED_STATUSES or (tender.status == TenderStatus.CANCELLED
                                                 and tender.opened_at is not None)


def cancellation_of(tender: Tender) -> TenderCancellation | None:
    """The public cancellation notice (终止公告) of a cancelled tender."""
    if tender.status != TenderStatus.CANCELLED:
        return None
    return TenderCancellation.objects.filter(tender=tender).first()


def bids_received(tender: Tender) -> int:
    """How many live bids a tender has: the one thing anyone may know before the opening."""
    return tender.bids.exclude(status=BidStatus.WITHDRAWN).count()


def own_bids(user: Any, tender: Tender | None = None) -> QuerySet[Bid]:
    if not user.is_authenticated:
        return Bid.objects.none()
    qs = Bid.objects.filter(supplier__users=user).select_related("tender", "supplier")
    return qs.filter(tender=tender) if tender is not None else qs


def bids_for(user: Any, tender: Tender) -> QuerySet[Bid]:
    """Bids a user may list on a tender they can see: bidders their own; officials every bid, and only
    once the tender has been opened."""
    if user.role == Role.CONTRACTOR or not is_opened(tender):
        return own_bids(user, tender)
    return tender.bids.select_related("supplier").order_by("rank", "submitted_at", "pk")


def bid_get(user: Any, *, pk: int) -> Bid:
    bid = Bid.objects.select_related("tender", "tender__project", "supplier").filter(pk=pk).first()
    if bid is None:
        raise NotFound()
    if own_bids(user).filter(pk=pk).exists():
        return bid
    if user.role != Role.CONTRACTOR and tenders_visible(user).filter(pk=bid.tender_id).exists() and is_opened(
            bid.tender):
        return bid
    raise NotFound()


def opening_record(tender: Tender) -> QuerySet[Bid]:
    """The public opening record (开标记录): every bid lodged and not withdrawn, with its check results."""
    if not is_opened(tender):
        return Bid.objects.none()
    return (tender.bids.exclude(status=BidStatus.WITHDRAWN).select_related("supplier")
            .order_by("submitted_at", "pk"))


def clarifications_public(tender: Tender) -> QuerySet[Clarification]:
    return tender.clarifications.filter(answered_at__isnull=False).order_by("asked_at", "pk")


def panel_tenders(user: Any) -> QuerySet[Tender]:
    return Tender.objects.filter(panel__expert=user).select_related("project").order_by("-published_at")


def panel_member(user: Any, tender: Tender) -> PanelMember | None:
    return PanelMember.objects.filter(tender=tender, expert=user).first() if user.is_authenticated else None


def contracts_visible(user: Any) -> QuerySet[Contract]:
    scope = scope_for(user)
    if scope.nothing:
        return Contract.objects.none()
    if scope.everything:
        return Contract.objects.all()
    return Contract.objects.filter(Q(project__in=projects_visible(user)) | Q(supplier__users=user)).distinct()


def contract_get(user: Any, *, pk: int) -> Contract:
    found = contracts_visible(user).select_related("project", "supplier", "tender").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def public_contracts(project: Project | None = None) -> QuerySet[Contract]:
    qs = Contract.objects.select_related("project", "supplier", "tender").order_by("-signed_on", "-id")
    return qs.filter(project=project) if project is not None else qs


def variation_get(user: Any, *, pk: int) -> Variation:
    found = Variation.objects.filter(pk=pk, contract__in=contracts_visible(user)).select_related(
        "contract", "contract__project").first()
    if found is None:
        raise NotFound()
    return found


# ---------------------------------------------------------------------------------------------
# suppliers: the registry is open to the staff who organise, sign, oversee or audit procurement; a contractor
# account sees the suppliers it acts for. What a supplier did is shown within the viewer's procurement scope.

SUPPLIER_VIEW_CAPS = (Cap.TENDER_MANAGE, Cap.CONTRACT_MANAGE, Cap.AUDIT_VIEW, Cap.REDFLAG_VIEW)


def suppliers_visible(user: Any) -> QuerySet[Supplier]:
    scope = scope_for(user)
    if scope.nothing:
        return Supplier.objects.none()
    if scope.everything or any(user.can(cap) for cap in SUPPLIER_VIEW_CAPS):
        return Supplier.objects.all()
    if user.role == Role.CONTRACTOR:
        return Supplier.objects.filter(users=user)
    return Supplier.objects.none()


def supplier_search(user: Any, q: str = "", *, invalid_code: bool = False) -> QuerySet[Supplier]:
    """By name or 统一社会信用代码 (any part, any case); `invalid_code`: only those whose code fails the
    GB 32100-2015 check (recorded before it was enforced)."""
    qs = suppliers_visible(user)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code__icontains=q.upper()))
    if invalid_code:
        qs = qs.filter(pk__in=invalid_code_ids(user))
    return qs.order_by("name", "pk")


def invalid_code_ids(user: Any) -> list[int]:
    """Visible suppliers whose code fails the check (the check character is computed here, not in SQL)."""
    from minsheng.procurement import uscc

    return [pk for pk, code in suppliers_visible(user).values_list("pk", "credit_code") if not uscc.is_valid(code)]


def supplier_get(user: Any, *, pk: int) -> Supplier:
    found = suppliers_visible(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def supplier_bids(user: Any, supplier: Supplier) -> QuerySet[Bid]:
    """The supplier's bids that were opened in public, on tenders the user may see: a sealed bid is nobody's
    business, not even that it was lodged by this supplier."""
    return (Bid.objects.filter(supplier=supplier, opened_at__isnull=False, tender__in=tenders_visible(user))
            .exclude(status=BidStatus.WITHDRAWN).select_related("tender", "tender__project")
            .order_by("-opened_at", "-pk"))


def supplier_awards(user: Any, supplier: Supplier) -> QuerySet[Award]:
    return (Award.objects.filter(supplier=supplier, tender__in=tenders_visible(user))
            .select_related("tender", "tender__project").order_by("-decided_at", "-pk"))


def supplier_contracts(user: Any, supplier: Supplier) -> QuerySet[Contract]:
    return contracts_visible(user).filter(supplier=supplier).select_related("project").order_by("-signed_on", "-pk")


def supplier_payments(user: Any, supplier: Supplier) -> QuerySet[Any]:
    """Payment requests under the supplier's contracts the user may see (the payment layer sits above procurement,
    decision 0004: its rows are read through the model registry)."""
    payments = apps.get_model("finance", "PaymentRequest").objects
    return (payments.filter(contract__in=supplier_contracts(user, supplier).values("pk"))
            .select_related("contract", "milestone").order_by("-requested_at", "-pk"))


# ---------------------------------------------------------------------------------------------
# contract arithmetic (the finance helper's payment checks use `contract_ceiling`)


def approved_variations_total(contract: Contract) -> Decimal:
    return contract.variations.filter(status=Variation.Status.APPROVED).aggregate(
        s=Sum("amount"))["s"] or Decimal("0.00")


def contract_ceiling(contract: Contract) -> Decimal:
    """What may be paid under a contract: its value plus the approved variations (which may be negative)."""
    return contract.value + approved_variations_total(contract)


def milestone_total(contract: Contract) -> Decimal:
    return contract.milestones.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")


def variation_limits(contract: Contract) -> dict[str, Decimal]:
    raw = rule_for("procurement.variation_share", contract.project.division).value
    return {"warn": Decimal(str(raw["warn"])), "higher_approval": Decimal(str(raw["higher_approval"]))}


def variation_share(contract: Contract, *, extra: Decimal = Decimal(0)) -> Decimal:
    """Cumulative change as a share of the signed value: approved changes (and `extra`) counted by size,
    so a cut and an addition do not cancel out."""
    amounts = [abs(a) for a in contract.variations.filter(status=Variation.Status.APPROVED)
               .values_list("amount", flat=True)]
    return (sum(amounts, Decimal(0)) + abs(extra)) / contract.value


@dataclass(frozen=True)
class ContractSummary:
    value: Decimal
    ceiling: Decimal
    approved_variations: Decimal
    share: Decimal  # 0..1
    share_percent: Decimal
    warn: bool
    needs_leader: bool
    warn_percent: Decimal
    leader_percent: Decimal
    milestones_total: Decimal


def contract_summary(contract: Contract) -> ContractSummary:
    limits = variation_limits(contract)
    share = variation_share(contract)
    return ContractSummary(
        value=contract.value,
        ceiling=contract_ceiling(contract),
        approved_variations=approved_variations_total(contract),
        share=share,
        share_percent=(share * 100).quantize(Decimal("0.1")),
        warn=share > limits["warn"],
        needs_leader=share > limits["higher_approval"],
        warn_percent=(limits["warn"] * 100).normalize(),
        leader_percent=(limits["higher_approval"] * 100).normalize(),
        milestones_total=milestone_total(contract),
    )
