"""Red flags recomputed when procurement and finance report a change (events sent on commit)."""

from __future__ import annotations

import logging
from typing import Any

from minsheng.core.events import subscribe
from minsheng.insight import services
from minsheng.procurement.models import Bid, Contract, Tender, Variation
from minsheng.procurement.ocds import events

log = logging.getLogger(__name__)


def _tender(tender_id: int | None = None, **_: Any) -> None:
    tender = Tender.objects.filter(pk=tender_id).first()
    if tender is not None:
        services.compute_for_tender(tender)


def _bid_tampered(bid_id: int | None = None, **_: Any) -> None:
    bid = Bid.objects.filter(pk=bid_id).select_related("tender").first()
    if bid is not None:
        services.compute_for_tender(bid.tender)


def _contract(contract_id: int | None = None, **_: Any) -> None:
    contract = Contract.objects.filter(pk=contract_id).first()
    if contract is not None:
        services.compute_for_contract(contract)


def _variation(variation_id: int | None = None, **_: Any) -> None:
    variation = Variation.objects.filter(pk=variation_id).select_related("contract").first()
    if variation is not None:
        services.compute_for_contract(variation.contract)


def _payment(payment_id: int | None = None, **_: Any) -> None:
    payment = services._payments().objects.filter(pk=payment_id).first()
    if payment is not None:
        services.compute_for_payment(payment)


for _name in events.TENDER_EVENTS:
    subscribe(_name)(_tender)
subscribe(events.BID_TAMPERED)(_bid_tampered)
for _name in events.CONTRACT_EVENTS:
    subscribe(_name)(_contract)
subscribe(events.VARIATION_APPROVED)(_variation)
subscribe("finance.payment_requested")(_payment)
for _name in events.PAYMENT_EVENTS:
    subscribe(_name)(_payment)
