"""Reads of budgets and funding. Never imports procurement (decision 0004): payments are read through
the finance model only, which names the contract by string."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce

from minsheng.core.errors import NotFound
from minsheng.finance.models import (
    BudgetAdjustment,
    BudgetKind,
    BudgetLine,
    BudgetStatus,
    BudgetVersion,
    FundingArrival,
    FundingCommitment,
    PaymentRequest,
    PaymentStatus,
)
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible

ORDER = [BudgetKind.ESTIMATE, BudgetKind.DESIGN, BudgetKind.BUDGET, BudgetKind.FINAL]
ZERO = Decimal(0)
# Payments that count against limits: everything not refused.
LIVE_PAYMENTS = [PaymentStatus.AWAITING_SIGNOFF, PaymentStatus.SUBMITTED, PaymentStatus.DEPT_APPROVED,
                 PaymentStatus.APPROVED, PaymentStatus.PAID]


def budget_versions(user: Any, project: Project) -> QuerySet[BudgetVersion]:
    if not projects_visible(user).filter(pk=project.pk).exists():
        raise NotFound()
    return BudgetVersion.objects.filter(project=project).select_related("prepared_by", "approved_by")


def budget_version_get(user: Any, *, pk: int) -> BudgetVersion:
    try:
        return BudgetVersion.objects.select_related(
            "project", "project__division", "project__lead_department", "prepared_by", "approved_by"
        ).get(pk=pk, project__in=projects_visible(user))
    except (BudgetVersion.DoesNotExist, ValueError):
        raise NotFound() from None


def budget_line_get(user: Any, *, pk: int) -> BudgetLine:
    try:
        return BudgetLine.objects.select_related(
            "version", "version__project", "version__project__division", "version__project__lead_department"
        ).get(pk=pk, version__project__in=projects_visible(user))
    except (BudgetLine.DoesNotExist, ValueError):
        raise NotFound() from None


def adjustment_get(user: Any, *, pk: int) -> BudgetAdjustment:
    try:
        return BudgetAdjustment.objects.select_related("project", "original", "proposed").get(
            pk=pk, project__in=projects_visible(user)
        )
    except (BudgetAdjustment.DoesNotExist, ValueError):
        raise NotFound() from None


def commitment_get(user: Any, *, pk: int) -> FundingCommitment:
    try:
        return FundingCommitment.objects.select_related("project").get(pk=pk, project__in=projects_visible(user))
    except (FundingCommitment.DoesNotExist, ValueError):
        raise NotFound() from None


def approved_version(project: Project | int, kind: str) -> BudgetVersion | None:
    return BudgetVersion.objects.filter(project=project, kind=kind, status=BudgetStatus.APPROVED).first()


def approved_cap(project: Project | int) -> BudgetVersion | None:
    """The budget payments may not exceed: the approved 预算 where there is one, else the approved 概算."""
    versions = {v.kind: v for v in BudgetVersion.objects.filter(
        project=project, status=BudgetStatus.APPROVED, kind__in=[BudgetKind.BUDGET, BudgetKind.DESIGN])}
    return versions.get(BudgetKind.BUDGET) or versions.get(BudgetKind.DESIGN)


def adjustments_for(project: Project) -> QuerySet[BudgetAdjustment]:
    return BudgetAdjustment.objects.filter(project=project).select_related(
        "original", "proposed", "original_approver", "requested_by").order_by("-requested_at")


def commitments_for(project: Project) -> QuerySet[FundingCommitment]:
    return FundingCommitment.objects.filter(project=project).annotate(
        arrived=Coalesce(Sum("arrivals__amount"), ZERO)).order_by("committed_on", "id")


def _rate(a: Decimal, b: Decimal) -> Decimal | None:
    if not b:
        return None
    return (a * 100 / b).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class FundingSummary:
    committed: Decimal
    arrived: Decimal
    paid: Decimal
    approved_budget: Decimal | None
    arrival_rate: Decimal | None  # 资金到位率 (%) = arrived / committed
    execution_rate: Decimal | None  # 预算执行率 (%) = paid / approved budget


def funding_summary(project: Project) -> FundingSummary:
    committed = FundingCommitment.objects.filter(project=project).aggregate(s=Coalesce(Sum("amount"), ZERO))["s"]
    arrived = FundingArrival.objects.filter(commitment__project=project).aggregate(
        s=Coalesce(Sum("amount"), ZERO))["s"]
    paid = PaymentRequest.objects.filter(project=project, status=PaymentStatus.PAID).aggregate(
        s=Coalesce(Sum("amount"), ZERO))["s"]
    cap = approved_cap(project)
    budget = cap.total if cap else None
    return FundingSummary(committed, arrived, paid, budget, _rate(arrived, committed),
                          _rate(paid, budget) if budget else None)
