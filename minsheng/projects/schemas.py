from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class ProjectListOut(Schema):
    id: int
    code: str
    name: str
    domain: str
    stage: str
    division_id: int
    division_name: str = Field(alias="division.name")
    lead_department_id: int
    lead_department_name: str = Field(alias="lead_department.name")
    responsible_person: str = Field(alias="responsible_person.display_name")
    total_investment: Decimal | None
    progress: Decimal
    planned_end: dt.date | None
    updated_at: dt.datetime


class TargetOut(Schema):
    id: int
    dimension: str
    indicator: str
    unit: str
    comparator: str
    target_value: Decimal
    actual_value: Decimal | None


class ProjectOut(ProjectListOut):
    code_display: str
    summary: str
    owner_unit: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    is_high_impact: bool
    is_emergency: bool
    partner_department_ids: list[int]
    responsible_person_id: int
    beneficiaries_total: int
    beneficiaries_elderly: int
    beneficiaries_disabled: int
    beneficiaries_low_income: int
    beneficiaries_children: int
    estimate_amount: Decimal | None
    design_estimate_amount: Decimal | None
    previous_stage: str
    stage_changed_at: dt.datetime
    version: int
    planned_start: dt.date | None
    actual_start: dt.date | None
    actual_end: dt.date | None
    targets: list[TargetOut]

    @staticmethod
    def resolve_partner_department_ids(obj) -> list[int]:
        return [d.pk for d in obj.partner_departments.all()]

    @staticmethod
    def resolve_targets(obj) -> list:
        return list(obj.targets.all())


class ProjectIn(Schema):
    code: str | None = Field(None, description="24-digit national code; generated when omitted")
    name: str
    domain: str
    division: int
    lead_department: int
    partner_departments: list[int] = []
    responsible_person: int
    summary: str = ""
    owner_unit: str = ""
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    is_high_impact: bool = False
    is_emergency: bool = False
    beneficiaries_total: int = 0
    beneficiaries_elderly: int = 0
    beneficiaries_disabled: int = 0
    beneficiaries_low_income: int = 0
    beneficiaries_children: int = 0
    estimate_amount: str | None = Field(None, description="yuan, at most two decimals")
    design_estimate_amount: str | None = None
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None


class ProjectPatch(Schema):
    version: int | None = Field(None, description="send the version you read to detect concurrent edits")
    name: str | None = None
    domain: str | None = None
    summary: str | None = None
    owner_unit: str | None = None
    address: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    is_high_impact: bool | None = None
    is_emergency: bool | None = None
    beneficiaries_total: int | None = None
    beneficiaries_elderly: int | None = None
    beneficiaries_disabled: int | None = None
    beneficiaries_low_income: int | None = None
    beneficiaries_children: int | None = None
    estimate_amount: str | None = None
    design_estimate_amount: str | None = None
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None
    lead_department: int | None = None
    responsible_person: int | None = None


class TargetIn(Schema):
    dimension: str
    indicator: str
    unit: str
    target_value: Decimal
    comparator: str = ">="


class WbsOut(Schema):
    id: int
    project_id: int
    parent_id: int | None
    code: str
    name: str
    responsible_id: int
    responsible_name: str = Field(alias="responsible.display_name")
    department_id: int | None
    due_date: dt.date
    weight: Decimal
    progress: Decimal
    is_overdue: bool
    completed_at: dt.datetime | None


class WbsIn(Schema):
    code: str
    name: str
    responsible: int
    department: int | None = None
    due_date: dt.date
    weight: Decimal = Decimal(1)
    parent: int | None = None


class WbsPatch(Schema):
    code: str | None = None
    name: str | None = None
    responsible: int | None = None
    department: int | None = None
    due_date: dt.date | None = None
    weight: Decimal | None = None
    parent: int | None = None


class ProgressIn(Schema):
    progress: Decimal


class GateOptionOut(Schema):
    to_stage: str
    to_label: str
    path: str
    path_label: str
    missing: list[str]
    slots: list[str]
    needs_reason: bool


class GateRequestIn(Schema):
    to_stage: str
    path: str | None = None
    reason: str = ""


class ApprovalOut(Schema):
    slot: str
    approver: str = Field(alias="approver.display_name")
    approve: bool
    comment: str
    at: dt.datetime


class GateRequestOut(Schema):
    id: int
    project_id: int
    from_stage: str
    to_stage: str
    path: str
    reason: str
    status: str
    required_slots: list[str]
    required_level: int | None
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    approvals: list[ApprovalOut]

    @staticmethod
    def resolve_approvals(obj) -> list:
        return list(obj.approvals.all())


class GateDecisionIn(Schema):
    approve: bool
    comment: str = ""


class DocumentOut(Schema):
    id: int
    kind: str
    title: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    stage: str
    uploaded_at: dt.datetime


class AuditOut(Schema):
    at: dt.datetime
    actor_label: str
    actor_role: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    before: dict | None
    after: dict | None
