"""Citizen requests API for handling units (the portal and Open311 are the public channels).
Parse → call a selector or service → return; scoping by `selectors.requests_visible`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from minsheng.core.errors import ValidationFailed
from minsheng.feedback import selectors, services
from minsheng.feedback.models import CitizenRequest, Status
from minsheng.feedback.schemas import CitizenRequestOut, ReplyIn

router = Router(tags=["feedback"])
PAGE = 25


def _out(user: Any, req: CitizenRequest) -> dict[str, Any]:
    return {
        "id": req.pk, "receipt_code": req.receipt_code, "kind": req.kind, "category": req.category,
        "urgency": req.urgency, "channel": req.channel, "status": req.status, "description": req.description,
        "address": req.address, "division": req.division_id, "first_responder": req.first_responder_id,
        "owner": req.owner_id, "phone": req.phone if selectors.sees_phone(user, req) else req.masked_phone,
        "created_at": req.created_at, "first_contact_at": req.first_contact_at, "replied_at": req.replied_at,
        "closed_at": req.closed_at, "merged_into": req.merged_into_id, "escalated": req.escalated,
    }


@router.get("/citizen-requests", response=list[CitizenRequestOut],
            summary="Citizen requests visible to you, newest first, 25 a page")
def citizen_request_list(request: HttpRequest, status: str = "open", page: int = 1):
    if status not in {"open", "all", *Status.values}:
        raise ValidationFailed(fields={"status": [_("状态无效。")]})
    if page < 1:
        raise ValidationFailed(fields={"page": [_("页码无效。")]})
    qs = selectors.requests_visible(request.user).order_by("-created_at", "-id")
    if status == "open":
        qs = qs.exclude(status=Status.CLOSED)
    elif status != "all":
        qs = qs.filter(status=status)
    return [_out(request.user, r) for r in qs[(page - 1) * PAGE:page * PAGE]]


@router.get("/citizen-requests/{citizen_request_id}", response=CitizenRequestOut, summary="One citizen request")
def citizen_request_get(request: HttpRequest, citizen_request_id: int):
    return _out(request.user, selectors.request_get(request.user, pk=citizen_request_id))


@router.post("/citizen-requests/{citizen_request_id}/accept", response=CitizenRequestOut,
             summary="Accept (签收) a request your unit owns")
def citizen_request_accept(request: HttpRequest, citizen_request_id: int):
    req = selectors.request_get(request.user, pk=citizen_request_id)
    return _out(request.user, services.request_accept(actor=request.user, request=req))


@router.post("/citizen-requests/{citizen_request_id}/reply", response=CitizenRequestOut,
             summary="Reply to the citizen")
def citizen_request_reply(request: HttpRequest, citizen_request_id: int, payload: ReplyIn):
    req = selectors.request_get(request.user, pk=citizen_request_id)
    return _out(request.user, services.request_reply(actor=request.user, request=req, text=payload.text))
