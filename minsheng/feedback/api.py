"""Citizen requests API for handling units (the portal and Open311 are the public channels).
Parse → call a selector or service → return; scoping by `selectors.requests_visible`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.responses import Status as Reply

from minsheng.core.errors import MinshengError, ValidationFailed
from minsheng.core.models import Department
from minsheng.feedback import selectors, services
from minsheng.feedback.models import CitizenRequest, Status, Transfer
from minsheng.feedback.schemas import (
    CitizenRequestOut,
    DecideIn,
    NoteIn,
    ReasonIn,
    ReopenIn,
    ReopenOut,
    ReplyIn,
    ReturnVisitIn,
    TransferIn,
    TransferOut,
    WaitIn,
)

router = Router(tags=["feedback"])
PAGE = 25


class Throttled(MinshengError):
    status = 429
    code = "throttled"


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


# Before the detail route: its path parameter would otherwise take "reopen".
@router.post("/citizen-requests/reopen", response=ReopenOut, auth=None,
             summary="The citizen reopens a closed request within the set days, with the receipt code and "
                     "the phone given with it (no login; rate-limited per address)")
def citizen_request_reopen(request: HttpRequest, payload: ReopenIn):
    from django.conf import settings
    from django_ratelimit.core import is_ratelimited

    if is_ratelimited(request, group="feedback.reopen", key="ip", rate=settings.FEEDBACK_SUBMIT_RATE,
                      increment=True):
        raise Throttled(_("提交过于频繁，请稍后再试，或拨打 12345 热线。"))
    req = services.request_reopen(receipt_code=payload.receipt_code, phone=payload.phone, reason=payload.reason)
    return {"receipt_code": req.receipt_code, "status": req.status, "reopen_count": req.reopen_count}


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


def _unit(pk: int, field: str) -> Department:
    unit = Department.objects.select_related("division").filter(pk=pk).first()
    if unit is None:
        raise ValidationFailed(fields={field: [_("没有这个单位。")]})
    return unit


def _transfer_out(t: Transfer) -> dict[str, Any]:
    return {"id": t.pk, "citizen_request": t.request_id, "from_unit": t.from_unit_id, "to_unit": t.to_unit_id,
            "reason": t.reason, "status": t.status, "requested_at": t.requested_at, "deadline": t.deadline,
            "coordinator": t.coordinator_id, "coordinator_deadline": t.coordinator_deadline}


@router.post("/citizen-requests/{citizen_request_id}/contact", response=CitizenRequestOut,
             summary="Record that your unit has contacted the citizen (stops the first-contact clock)")
def citizen_request_contact(request: HttpRequest, citizen_request_id: int, payload: NoteIn):
    req = selectors.request_get(request.user, pk=citizen_request_id)
    return _out(request.user, services.request_contact(actor=request.user, request=req, note=payload.note))


@router.post("/citizen-requests/{citizen_request_id}/wait", response=CitizenRequestOut,
             summary="Pause (waiting=true, with what the citizen must supply) or resume the SLA clocks")
def citizen_request_wait(request: HttpRequest, citizen_request_id: int, payload: WaitIn):
    req = selectors.request_get(request.user, pk=citizen_request_id)
    return _out(request.user, services.request_wait(actor=request.user, request=req, waiting=payload.waiting,
                                                    note=payload.note))


@router.post("/citizen-requests/{citizen_request_id}/transfer", response={201: TransferOut},
             summary="Ask another unit in the request's division tree to take the request over (reason required)")
def citizen_request_transfer(request: HttpRequest, citizen_request_id: int, payload: TransferIn):
    req = selectors.request_get(request.user, pk=citizen_request_id)
    t = services.transfer_request(actor=request.user, request=req, to_unit=_unit(payload.to_unit, "to_unit"),
                                  reason=payload.reason)
    return Reply(201, _transfer_out(t))


@router.post("/citizen-requests/{citizen_request_id}/transfer/accept", response=CitizenRequestOut,
             summary="The receiving unit accepts the pending transfer")
def citizen_request_transfer_accept(request: HttpRequest, citizen_request_id: int):
    req = selectors.request_get(request.user, pk=citizen_request_id)
    return _out(request.user, services.transfer_accept(actor=request.user, request=req))


@router.post("/citizen-requests/{citizen_request_id}/transfer/refuse", response=TransferOut,
             summary="The receiving unit refuses the pending transfer (reason required): it goes to the "
                     "coordinating office")
def citizen_request_transfer_refuse(request: HttpRequest, citizen_request_id: int, payload: ReasonIn):
    req = selectors.request_get(request.user, pk=citizen_request_id)
    return _transfer_out(services.transfer_dispute(actor=request.user, request=req, reason=payload.reason))


@router.post("/citizen-requests/{citizen_request_id}/transfer/decide", response=CitizenRequestOut,
             summary="The coordinating office names the handling unit of a disputed transfer")
def citizen_request_transfer_decide(request: HttpRequest, citizen_request_id: int, payload: DecideIn):
    req = selectors.request_get(request.user, pk=citizen_request_id)
    return _out(request.user, services.transfer_decide(actor=request.user, request=req,
                                                       unit=_unit(payload.unit, "unit")))


@router.post("/citizen-requests/{citizen_request_id}/return-visit", response=CitizenRequestOut,
             summary="Record the return visit (回访): resolved?, satisfaction 1–5, comment")
def citizen_request_return_visit(request: HttpRequest, citizen_request_id: int, payload: ReturnVisitIn):
    req = selectors.request_get(request.user, pk=citizen_request_id)
    return _out(request.user, services.request_return_visit(
        actor=request.user, request=req, resolved=payload.resolved, satisfaction=payload.satisfaction,
        comment=payload.comment))


@router.post("/citizen-requests/{citizen_request_id}/close", response=CitizenRequestOut,
             summary="Close (办结) a request after its return visit")
def citizen_request_close(request: HttpRequest, citizen_request_id: int):
    req = selectors.request_get(request.user, pk=citizen_request_id)
    return _out(request.user, services.request_close(actor=request.user, request=req))
