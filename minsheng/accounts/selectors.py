"""Reads of the organisation: divisions, departments and staff a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet

from minsheng.accounts.models import User
from minsheng.accounts.scoping import scope_for
from minsheng.core.models import Department, Division, Notification


def divisions_visible(user: Any) -> QuerySet[Division]:
    scope = scope_for(user)
    if scope.nothing:
        return Division.objects.none()
    if scope.everything:
        return Division.objects.all()
    path = scope.division_path or (user.division.path if user.division_id else None)
    if path is None:
        return Division.objects.none()
    return Division.objects.filter(path__startswith=path)


def departments_visible(user: Any) -> QuerySet[Department]:
    return Department.objects.filter(division__in=divisions_visible(user)).select_related("division")


def staff_visible(user: Any) -> QuerySet[User]:
    """People a user may pick as a responsible person: active staff of visible divisions and above."""
    scope = scope_for(user)
    if scope.nothing:
        return User.objects.none()
    qs = User.objects.filter(is_active=True).select_related("division", "department")
    if scope.everything:
        return qs
    if user.division_id is None:
        return qs.filter(pk=user.pk)
    ancestors = [int(p) for p in user.division.path.strip("/").split("/") if p]
    return qs.filter(division__path__startswith=user.division.path) | qs.filter(division_id__in=ancestors)


def notifications_unread(user: Any) -> QuerySet[Notification]:
    """The user's own unread in-app notifications, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user, read_at__isnull=True).order_by("-created_at")


def notifications_for(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own in-app notifications (never anyone else's), unread first, then newest first."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by(F("read_at").desc(nulls_first=True), "-created_at", "-id")
