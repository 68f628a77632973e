"""API shapes for finance. Amounts go in as strings (parsed by the services, never float) and come out as
decimal strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class BudgetLineIn(Schema):
    category: str
    item: str
    quantity: str
    unit: str
    unit_cost: str
    justification: str
    standard: str
    funding_source: str = "county"


class BudgetLinePatch(Schema):
    """Only the fields sent change; the others keep their values."""

    category: str | None = None
    item: str | None = None
    quantity: str | None = None
    unit: str | None = None
    unit_cost: str | None = None
    justification: str | None = None
    standard: str | None = None
    funding_source: str | None = None


class BudgetLineOut(Schema):
    id: int
    category: str
    item: str
    quantity: Decimal
    unit: str
    unit_cost: Decimal
    amount: Decimal
    justification: str
    standard: str
    funding_source: str


class BudgetIn(Schema):
    kind: str = Field(..., description="estimate (估算) | design (概算) | budget (预算) | final (决算)")
    lines: list[BudgetLineIn] = []
    note: str = ""
    currency: str = "CNY"


class BudgetOut(Schema):
    id: int
    project: int = Field(..., alias="project_id")
    kind: str
    number: int
    status: str
    total: Decimal
    currency: str
    based_on: int | None = Field(None, alias="based_on_id")
    prepared_by: int = Field(..., alias="prepared_by_id")
    approved_by: int | None = Field(None, alias="approved_by_id")
    approval_authority: str
    decision_comment: str
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    lines: list[BudgetLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())


class DecisionIn(Schema):
    approve: bool
    comment: str = ""


class CommentIn(Schema):
    comment: str = ""


class SignoffIn(Schema):
    confirm: bool = Field(..., description="true: the measured quantities are confirmed; false: rejected (ends "
                                           "the request; comment required)")
    comment: str = ""


class QuantityIn(Schema):
    item: str
    quantity: str
    unit: str


class PaymentIn(Schema):
    milestone: int
    amount: str
    invoice_number: str
    invoice_amount: str
    invoice_date: str
    measured_quantities: list[QuantityIn]
    supervisor: int | None = None
    documents: list[int] = []
    currency: str = "CNY"


class PaymentDecisionOut(Schema):
    step: str
    decided_by: int = Field(..., alias="decided_by_id")
    approve: bool
    comment: str
    at: dt.datetime


class PaymentOut(Schema):
    id: int
    project: int = Field(..., alias="project_id")
    contract: int = Field(..., alias="contract_id")
    milestone: int = Field(..., alias="milestone_id")
    amount: Decimal
    currency: str
    invoice_number: str
    invoice_amount: Decimal
    invoice_date: dt.date
    measured_quantities: list[dict]
    supervisor_signoff: int | None = Field(None, alias="supervisor_signoff_id")
    signed_off_at: dt.datetime | None
    status: str
    requested_by: int = Field(..., alias="requested_by_id")
    requested_at: dt.datetime
    paid_on: dt.date | None
    decisions: list[PaymentDecisionOut]

    @staticmethod
    def resolve_decisions(obj) -> list:
        return list(obj.decisions.all())


class EvmOut(Schema):
    project: int
    as_of: dt.date
    bac: Decimal
    pv: Decimal
    ev: Decimal
    ac: Decimal
    spi: Decimal | None
    spi_t: Decimal | None
    cpi: Decimal | None
    eac: Decimal | None
    tcpi: Decimal | None
    slip_days: int | None
    health: str
    reasons: list[str]
    baseline: str


class RollupRowOut(Schema):
    key: int
    label: str
    projects: int
    red: int
    amber: int
    bac: Decimal
    pv: Decimal
    ev: Decimal
    ac: Decimal
    spi: Decimal | None
    cpi: Decimal | None


class RollupOut(Schema):
    as_of: dt.date | None
    group: str
    rows: list[RollupRowOut]
