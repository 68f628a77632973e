"""Procurement API: tenders, clarifications, sealed bid submission, contracts and variations."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router
from ninja.responses import Status

from minsheng.accounts.models import User
from minsheng.core.errors import ValidationFailed
from minsheng.procurement import selectors, services
from minsheng.procurement.models import Bid, Contract, Tender
from minsheng.procurement.schemas import (
    BidIn,
    BidOut,
    CancelIn,
    ClarificationIn,
    ClarificationOut,
    ContractDetailOut,
    ContractOut,
    DecisionIn,
    ReceiptOut,
    SupplierDetailOut,
    SupplierIn,
    SupplierOut,
    SupplierPatch,
    SupplierUserIn,
    TenderOut,
    VariationIn,
    VariationOut,
)
from minsheng.procurement.services.suppliers import require_supplier_manager

router = Router(tags=["procurement"])


def _tender_out(t: Tender) -> Tender:
    t.bids_received = selectors.bids_received(t)  # type: ignore[attr-defined]
    return t


@router.get("/tenders", response=list[TenderOut])
def tender_list(request: HttpRequest):
    return [_tender_out(t) for t in selectors.tenders_visible(request.user).select_related("project", "cancellation")
            .order_by("-created_at")[:200]]


@router.get("/tenders/{int:tender_id}", response=TenderOut)
def tender_detail(request: HttpRequest, tender_id: int):
    return _tender_out(selectors.tender_get(request.user, pk=tender_id))


@router.post("/tenders/{int:tender_id}/cancel", response=TenderOut,
             summary="Cancel a published tender before the award (终止招标), with the public reason")
def tender_cancel(request: HttpRequest, tender_id: int, payload: CancelIn):
    tender = selectors.tender_get(request.user, pk=tender_id)
    services.tender_cancel(actor=request.user, tender=tender, reason=payload.reason)
    return _tender_out(selectors.tender_get(request.user, pk=tender_id))


@router.get("/tenders/{int:tender_id}/clarifications", response=list[ClarificationOut],
            summary="Answered questions (askers are never shown)")
def clarification_list(request: HttpRequest, tender_id: int):
    return selectors.clarifications_public(selectors.tender_get(request.user, pk=tender_id))


@router.post("/tenders/{int:tender_id}/clarifications", response={201: ClarificationOut})
def clarification_ask(request: HttpRequest, tender_id: int, payload: ClarificationIn):
    tender = selectors.tender_get(request.user, pk=tender_id)
    return Status(201, services.clarification_ask(actor=request.user, tender=tender, question=payload.question))


@router.get("/tenders/{int:tender_id}/bids", response=list[BidOut],
            summary="The caller's own bids; after the opening, officials see every bid")
def bid_list(request: HttpRequest, tender_id: int):
    return selectors.bids_for(request.user, selectors.tender_get(request.user, pk=tender_id))


@router.post("/tenders/{int:tender_id}/bids", response={201: ReceiptOut},
             summary="Submit a sealed bid; returns the receipt (commitment, salt, ledger index)")
def bid_submit(request: HttpRequest, tender_id: int, payload: BidIn):
    tender = selectors.tender_get(request.user, pk=tender_id)
    supplier = services.supplier_for(request.user, payload.supplier)
    receipt = services.bid_submit(actor=request.user, tender=tender, supplier=supplier, price=payload.price,
                                  technical=payload.technical,
                                  attachments=[a.dict() for a in payload.attachments])
    return Status(201, {"bid": receipt.bid.pk, "commitment": receipt.commitment, "salt": receipt.salt,
                        "ledger_index": receipt.ledger_index, "submitted_at": receipt.submitted_at})


@router.post("/bids/{int:bid_id}/withdraw", response=BidOut)
def bid_withdraw(request: HttpRequest, bid_id: int):
    bid: Bid = selectors.bid_get(request.user, pk=bid_id)
    return services.bid_withdraw(actor=request.user, bid=bid)


@router.get("/contracts", response=list[ContractOut])
def contract_list(request: HttpRequest):
    return selectors.contracts_visible(request.user).select_related("supplier")[:200]


def _detail(contract: Contract) -> Contract:
    s = selectors.contract_summary(contract)
    contract.ceiling = s.ceiling  # type: ignore[attr-defined]
    contract.variation_share_percent = s.share_percent  # type: ignore[attr-defined]
    contract.variation_warn = s.warn  # type: ignore[attr-defined]
    contract.needs_leader_approval = s.needs_leader  # type: ignore[attr-defined]
    return contract


@router.get("/contracts/{int:contract_id}", response=ContractDetailOut)
def contract_detail(request: HttpRequest, contract_id: int):
    return _detail(selectors.contract_get(request.user, pk=contract_id))


@router.get("/contracts/{int:contract_id}/variations", response=list[VariationOut])
def variation_list(request: HttpRequest, contract_id: int):
    return selectors.contract_get(request.user, pk=contract_id).variations.all()


@router.post("/contracts/{int:contract_id}/variations", response={201: VariationOut})
def variation_propose(request: HttpRequest, contract_id: int, payload: VariationIn):
    contract = selectors.contract_get(request.user, pk=contract_id)
    return Status(201, services.variation_propose(actor=request.user, contract=contract, **payload.dict()))


@router.post("/variations/{int:variation_id}/decision", response=VariationOut)
def variation_decide(request: HttpRequest, variation_id: int, payload: DecisionIn):
    variation = selectors.variation_get(request.user, pk=variation_id)
    return services.variation_decide(actor=request.user, variation=variation, **payload.dict())


@router.get("/suppliers", response=list[SupplierOut], summary="The supplier registry, searched by name or credit code")
def supplier_list(request: HttpRequest, q: str = ""):
    return selectors.supplier_search(request.user, q)[:200]


@router.post("/suppliers", response={201: SupplierDetailOut})
def supplier_create(request: HttpRequest, payload: SupplierIn):
    supplier = services.supplier_create(actor=request.user, **payload.dict())
    return Status(201, supplier)


@router.get("/suppliers/{int:supplier_id}", response=SupplierDetailOut)
def supplier_detail(request: HttpRequest, supplier_id: int):
    return selectors.supplier_get(request.user, pk=supplier_id)


@router.patch("/suppliers/{int:supplier_id}", response=SupplierDetailOut)
def supplier_update(request: HttpRequest, supplier_id: int, payload: SupplierPatch):
    supplier = selectors.supplier_get(request.user, pk=supplier_id)
    return services.supplier_update(actor=request.user, supplier=supplier, **payload.dict(exclude_unset=True))


@router.post("/suppliers/{int:supplier_id}/users", response=SupplierDetailOut,
             summary="Link a contractor account: it may then ask, bid and complain for the supplier")
def supplier_user_link(request: HttpRequest, supplier_id: int, payload: SupplierUserIn):
    supplier = selectors.supplier_get(request.user, pk=supplier_id)
    require_supplier_manager(request.user)
    account = User.objects.filter(pk=payload.user).first()
    if account is None:
        raise ValidationFailed(fields={"user": [_("账号不存在。")]})
    return services.supplier_user_link(actor=request.user, supplier=supplier, user=account)


@router.delete("/suppliers/{int:supplier_id}/users/{int:user_id}", response=SupplierDetailOut,
               summary="Unlink a contractor account from the supplier")
def supplier_user_unlink(request: HttpRequest, supplier_id: int, user_id: int):
    supplier = selectors.supplier_get(request.user, pk=supplier_id)
    require_supplier_manager(request.user)
    account = supplier.users.filter(pk=user_id).first()
    if account is None:
        raise ValidationFailed(fields={"user": [_("该账号未关联本供应商。")]})
    return services.supplier_user_unlink(actor=request.user, supplier=supplier, user=account)
