"""Publish a new OCDS release when a contracting process changes (events sent on commit)."""

from __future__ import annotations

import logging
from typing import Any

from minsheng.core.events import subscribe
from minsheng.procurement.models import Contract, Tender, Variation
from minsheng.procurement.ocds import events, publisher

log = logging.getLogger(__name__)


def _tender_changed(tender_id: int | None = None, **_: Any) -> None:
    tender = Tender.objects.filter(pk=tender_id).first()
    if tender is not None:
        publisher.publish_for_tender(tender)


def _contract_changed(contract_id: int | None = None, **_: Any) -> None:
    contract = Contract.objects.filter(pk=contract_id).first()
    if contract is not None:
        publisher.publish_for_contract(contract)


def _variation_approved(variation_id: int | None = None, **_: Any) -> None:
    variation = Variation.objects.select_related("contract").filter(pk=variation_id).first()
    if variation is not None:
        publisher.publish_for_contract(variation.contract)


def _payment_changed(payment_id: int | None = None, **_: Any) -> None:
    payment = publisher.payment_model().objects.select_related("contract").filter(pk=payment_id).first()
    if payment is not None:
        publisher.publish_for_payment(payment)


for _name in events.TENDER_EVENTS:
    subscribe(_name)(_tender_changed)
for _name in events.CONTRACT_EVENTS:
    subscribe(_name)(_contract_changed)
subscribe(events.VARIATION_APPROVED)(_variation_approved)
for _name in events.PAYMENT_EVENTS:
    subscribe(_name)(_payment_changed)
