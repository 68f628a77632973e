"""Reads of citizen requests, always scoped to the user.

- system administrators see every request;
- a department officer sees the requests its unit owns, first received, is asked to take over, or
  coordinates (as the coordinating office);
- other staff with a division (leaders, auditors, inspectors) see the requests in their subtree;
- nobody else sees any.
The phone number is shown in full only to the handling unit (owner or first responder)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet

from minsheng.accounts.roles import Role
from minsheng.core.errors import NotFound
from minsheng.feedback.models import CitizenRequest, RequestEvent, Transfer, TransferStatus

# Who reads every request in their division (to oversee, coordinate or audit). Not village
# representatives, contractors, supervisors, evaluators or experts: a neighbour's complaint is personal.
DIVISION_WIDE_ROLES = frozenset(
    {Role.LEADER, Role.DEPT_OFFICER, Role.FINANCE_OFFICER, Role.TOWNSHIP_INSPECTOR, Role.AUDITOR}
)


def requests_visible(user: Any) -> QuerySet[CitizenRequest]:
    qs = CitizenRequest.objects.select_related("division", "owner", "first_responder", "project")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if user.is_superuser or user.role == Role.SYSADMIN:
        return qs
    if user.department_id is not None and user.role == Role.DEPT_OFFICER:
        unit = user.department_id
        transfers = Transfer.objects.filter(Q(to_unit_id=unit, status=TransferStatus.PENDING)
                                            | Q(coordinator_id=unit)).values("request_id")
        return qs.filter(Q(owner_id=unit) | Q(first_responder_id=unit) | Q(pk__in=transfers))
    if user.division_id is not None and user.role in DIVISION_WIDE_ROLES:
        return qs.filter(division__path__startswith=user.division.path)
    return qs.none()


def request_get(user: Any, *, pk: int) -> CitizenRequest:
    found = requests_visible(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def sees_phone(user: Any, req: CitizenRequest) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.role == Role.SYSADMIN:
        return True
    return user.department_id is not None and user.department_id in {req.owner_id, req.first_responder_id}


def caller_history(user: Any, phone: str, *, limit: int = 20) -> list[CitizenRequest]:
    if not phone:
        return []
    return list(requests_visible(user).filter(phone=phone).order_by("-created_at")[:limit])


def timeline(req: CitizenRequest, *, public_only: bool) -> QuerySet[RequestEvent]:
    qs = RequestEvent.objects.filter(request=req).select_related("unit")
    return qs.filter(public=True) if public_only else qs


def case_timeline(req: CitizenRequest) -> list[RequestEvent]:
    """What a citizen sees: the public steps of their request and, when it was merged as a near-duplicate,
    those of the case it follows."""
    own = list(timeline(req, public_only=True))
    if req.merged_into_id is None:
        return own
    return sorted(own + list(timeline(req.merged_into, public_only=True)), key=lambda e: (e.at, e.pk))


def transfer_open(req: CitizenRequest) -> Transfer | None:
    return (Transfer.objects.filter(request=req, status__in=[TransferStatus.PENDING, TransferStatus.DISPUTED])
            .select_related("from_unit", "to_unit", "coordinator").first())


def public_photo_request(pk: int) -> CitizenRequest | None:
    """A request whose photo the public may see: content public (not a complaint or report), personal
    data not erased, a photo present."""
    from minsheng.feedback.models import VERIFIED_KINDS

    req = (CitizenRequest.objects.filter(pk=pk, personal_data_erased_at__isnull=True)
           .exclude(kind__in=VERIFIED_KINDS).exclude(photo="").first())
    return req if req is not None and req.photo else None


def receipt(code: str) -> Any:
    """What the receipt page shows of a submission from its own browser (the code from the signed cookie):
    the intake row with only the columns shown, and the handling unit's name once registered."""
    from minsheng.feedback.models import Intake

    if not code:
        return None
    return (Intake.objects.filter(receipt_code=code)
            .only("receipt_code", "kind", "category", "created_at", "status", "request_id")
            .annotate(unit_name=F("request__owner__name")).first())
