from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema


class TenderOut(Schema):
    id: int
    reference: str
    title: str
    project: int = Field(alias="project_id")
    project_code: str = Field(alias="project.code")
    category: str
    method: str
    method_reason: str
    award_criteria: str
    price_weight: int
    value: Decimal
    currency: str
    status: str
    published_at: dt.datetime | None
    clarification_deadline: dt.datetime | None
    submission_deadline: dt.datetime | None
    opened_at: dt.datetime | None
    key_threshold: int
    key_share_count: int
    bids_received: int = 0
    cancellation_reason: str | None = Field(None, description="Set once the tender is cancelled (终止招标)")
    cancelled_at: dt.datetime | None = None
    cancellation_ledger_index: int | None = None

    @staticmethod
    def resolve_cancellation_reason(obj: Any) -> str | None:
        c = getattr(obj, "cancellation", None)
        return c.reason if c is not None else None

    @staticmethod
    def resolve_cancelled_at(obj: Any) -> dt.datetime | None:
        c = getattr(obj, "cancellation", None)
        return c.cancelled_at if c is not None else None

    @staticmethod
    def resolve_cancellation_ledger_index(obj: Any) -> int | None:
        c = getattr(obj, "cancellation", None)
        return c.ledger_index if c is not None else None


class CancelIn(Schema):
    reason: str = Field("", description="Required; published with the cancellation notice")


class ClarificationIn(Schema):
    question: str


class ClarificationOut(Schema):
    id: int
    question: str
    answer: str
    asked_at: dt.datetime
    answered_at: dt.datetime | None


class AttachmentIn(Schema):
    name: str
    sha256: str


class BidIn(Schema):
    price: str = Field(..., description="Yuan, at most two decimals, as a string")
    technical: str
    attachments: list[AttachmentIn] = []
    supplier: int | None = Field(None, description="Which of the caller's suppliers bids (default: the first)")


class BidOut(Schema):
    id: int
    tender: int = Field(alias="tender_id")
    supplier: str = Field(alias="supplier.name")
    submitted_at: dt.datetime
    commitment: str
    ledger_index: int | None
    status: str
    price: Decimal | None = None
    commitment_ok: bool | None = None
    ledger_ok: bool | None = None
    rank: int | None = None
    total_score: Decimal | None = None


class ReceiptOut(Schema):
    bid: int
    commitment: str
    salt: str = Field(..., description="Shown once: SHA-256(RFC 8785 document ‖ salt) = commitment")
    ledger_index: int
    submitted_at: dt.datetime


class MilestoneOut(Schema):
    id: int
    position: int
    title: str
    due_date: dt.date
    amount: Decimal
    wbs_item: int | None = Field(None, alias="wbs_item_id")
    status: str


class VariationIn(Schema):
    reason: str
    amount: str = Field(..., description="Yuan; negative for a reduction")
    days: int = 0


class VariationOut(Schema):
    id: int
    number: int
    reason: str
    amount: Decimal
    days: int
    status: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None


class DecisionIn(Schema):
    approve: bool
    comment: str = ""


class ContractOut(Schema):
    id: int
    number: str
    title: str
    project: int = Field(alias="project_id")
    tender: int | None = Field(None, alias="tender_id")
    supplier: str = Field(alias="supplier.name")
    value: Decimal
    currency: str
    signed_on: dt.date
    period_start: dt.date
    period_end: dt.date
    quality_standards: str
    status: str


class ContractDetailOut(ContractOut):
    ceiling: Decimal
    variation_share_percent: Decimal
    variation_warn: bool
    needs_leader_approval: bool
    milestones: list[MilestoneOut]
    variations: list[VariationOut]


class SupplierIn(Schema):
    name: str
    credit_code: str = Field(..., description="统一社会信用代码: 18 characters, GB 32100-2015 check character")
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""


class SupplierPatch(Schema):
    name: str | None = None
    credit_code: str | None = Field(None, description="Only while the supplier has no bid, award or contract")
    address: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None


class SupplierOut(Schema):
    id: int
    name: str
    credit_code: str
    credit_code_valid: bool = Field(..., description="passes the GB 32100-2015 check (false: recorded before "
                                                     "the check, to be corrected)")
    address: str
    contact_name: str


class SupplierAccountOut(Schema):
    id: int
    username: str
    display_name: str


class SupplierDetailOut(SupplierOut):
    contact_phone: str = Field(..., description="Masked (138****1234) unless the caller keeps the registry")
    users: list[SupplierAccountOut] = []

    @staticmethod
    def resolve_contact_phone(obj: Any, context: Any) -> str:
        from minsheng.procurement.services.suppliers import may_manage_suppliers

        phone = obj.contact_phone
        request = (context or {}).get("request")
        if request is not None and may_manage_suppliers(request.user):
            return phone
        return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 11 else phone


class SupplierUserIn(Schema):
    user: int = Field(..., description="A contractor account's id")
