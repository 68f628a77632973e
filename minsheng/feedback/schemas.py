"""API schemas for citizen requests. The phone is filled in by the view: full for the handling unit,
masked for everyone else."""

from __future__ import annotations

import datetime as dt

from ninja import Schema


class CitizenRequestOut(Schema):
    id: int
    receipt_code: str
    kind: str
    category: str
    urgency: str
    channel: str
    status: str
    description: str
    address: str
    division: int
    first_responder: int
    owner: int | None
    phone: str
    created_at: dt.datetime
    first_contact_at: dt.datetime | None
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    merged_into: int | None
    escalated: bool


class ReplyIn(Schema):
    text: str


class NoteIn(Schema):
    note: str


class WaitIn(Schema):
    waiting: bool
    note: str = ""


class TransferIn(Schema):
    to_unit: int
    reason: str


class ReasonIn(Schema):
    reason: str


class DecideIn(Schema):
    unit: int


class ReturnVisitIn(Schema):
    resolved: bool
    satisfaction: int
    comment: str = ""


class ReopenIn(Schema):
    receipt_code: str
    phone: str = ""
    reason: str


class ReopenOut(Schema):
    receipt_code: str
    status: str
    reopen_count: int


class TransferOut(Schema):
    id: int
    citizen_request: int
    from_unit: int
    to_unit: int
    reason: str
    status: str
    requested_at: dt.datetime
    deadline: dt.datetime
    coordinator: int | None
    coordinator_deadline: dt.datetime | None
