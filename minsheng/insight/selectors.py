"""Reads, scoped. Red flags are seen by those with `redflag.view` (auditors, finance officers, leaders) within their
division subtree, and by the named owner of each flag; audit samples by those with `audit.sample`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet

from minsheng.accounts.roles import Cap, has_cap
from minsheng.accounts.scoping import scope_for
from minsheng.core.errors import NotFound
from minsheng.insight.models import AuditSample, AuditSampleItem, RedFlag


def _can(user: Any, cap: str) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or has_cap(user.role, cap)))


def _area(user: Any, field: str) -> Q | None:
    """The division-subtree filter of `user` on `field` (None: everything; Q(pk__in=[]): nothing)."""
    scope = scope_for(user)
    if scope.nothing:
        return Q(pk__in=[])
    if scope.everything:
        return None
    if scope.division_path is None or scope.assigned_only:
        return Q(pk__in=[])
    return Q(**{f"{field}__startswith": scope.division_path})


def flags_visible(user: Any) -> QuerySet[RedFlag]:
    if not (user and user.is_authenticated and user.is_active):
        return RedFlag.objects.none()
    own = Q(owner_id=user.pk)
    if not _can(user, Cap.REDFLAG_VIEW):
        return RedFlag.objects.filter(own)
    area = _area(user, "division_path")
    return RedFlag.objects.all() if area is None else RedFlag.objects.filter(area | own)


@dataclass
class FlagFilters:
    kind: str = ""
    severity: str = ""
    status: str = ""
    department: int | None = None
    project: str = ""


def flag_list(user: Any, filters: FlagFilters) -> QuerySet[RedFlag]:
    qs = flags_visible(user).select_related("project", "department", "owner")
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.department:
        qs = qs.filter(department_id=filters.department)
    if filters.project:
        qs = qs.filter(project__code=filters.project.replace("-", ""))
    return qs.order_by("status", "-severity", "-computed_at", "-id")


def flag_get(user: Any, pk: int) -> RedFlag:
    try:
        return flags_visible(user).select_related("project", "department", "owner", "decided_by").get(pk=pk)
    except RedFlag.DoesNotExist:
        raise NotFound() from None


def payments_visible(user: Any) -> QuerySet[Any]:
    PaymentRequest = apps.get_model("finance", "PaymentRequest")
    if not _can(user, Cap.AUDIT_SAMPLE):
        return PaymentRequest.objects.none()
    area = _area(user, "project__division_path")
    return PaymentRequest.objects.all() if area is None else PaymentRequest.objects.filter(area)


def samples_visible(user: Any) -> QuerySet[AuditSample]:
    if not _can(user, Cap.AUDIT_SAMPLE):
        return AuditSample.objects.none()
    area = _area(user, "division_path")
    return AuditSample.objects.all() if area is None else AuditSample.objects.filter(area)


def sample_get(user: Any, pk: int) -> AuditSample:
    try:
        return samples_visible(user).select_related("drawn_by").get(pk=pk)
    except AuditSample.DoesNotExist:
        raise NotFound() from None


def sample_item_get(user: Any, pk: int) -> AuditSampleItem:
    try:
        return AuditSampleItem.objects.select_related("sample").get(pk=pk, sample__in=samples_visible(user))
    except AuditSampleItem.DoesNotExist:
        raise NotFound() from None
