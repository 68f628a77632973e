"""Reads of payment requests, scoped to the user."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from minsheng.core.errors import NotFound
from minsheng.finance.models import PaymentRequest, PaymentStatus
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible

_RELATED = ("project", "project__division", "project__lead_department", "contract", "contract__supplier",
            "milestone", "requested_by", "supervisor_signoff")


def payments_visible(user: Any) -> QuerySet[PaymentRequest]:
    return PaymentRequest.objects.filter(project__in=projects_visible(user)).select_related(*_RELATED)


def payments_for(user: Any, project: Project) -> QuerySet[PaymentRequest]:
    if not projects_visible(user).filter(pk=project.pk).exists():
        raise NotFound()
    return PaymentRequest.objects.filter(project=project).select_related(*_RELATED)


def payment_get(user: Any, *, pk: int) -> PaymentRequest:
    try:
        return payments_visible(user).prefetch_related("decisions__decided_by", "evidence").get(pk=pk)
    except (PaymentRequest.DoesNotExist, ValueError):
        raise NotFound() from None


def payments_awaiting_signoff(user: Any) -> QuerySet[PaymentRequest]:
    """The requests waiting for `user`, the supervisor they name, to confirm the measured quantities."""
    return payments_visible(user).filter(status=PaymentStatus.AWAITING_SIGNOFF, supervisor_signoff=user).order_by(
        "requested_at", "id")


def public_payments(project: Project) -> QuerySet[PaymentRequest]:
    """What the public portal shows: approved and paid disbursements, with no personal data."""
    return PaymentRequest.objects.filter(
        project=project, status__in=[PaymentStatus.APPROVED, PaymentStatus.PAID]
    ).select_related("contract__supplier", "milestone").only(
        "amount", "currency", "status", "paid_on", "requested_at", "milestone__title", "contract__number",
        "contract__supplier__name").order_by("requested_at", "id")


def milestones_open(project: Project) -> QuerySet[Any]:
    from minsheng.procurement.models import ContractMilestone, ContractStatus

    return ContractMilestone.objects.filter(contract__project=project, contract__status=ContractStatus.ACTIVE
                                            ).select_related("contract", "contract__supplier")
