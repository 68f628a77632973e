"""Shared helpers of the procurement services: who may act, the clock, money with a sign."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.roles import Cap, Role
from minsheng.core.errors import NotFound, PermissionDenied, ValidationFailed
from minsheng.core.money import parse_yuan
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible
from minsheng.projects.services.permissions import can_manage

# Roles that can never hold an opening key share: they are (or act for) parties to the tender.
NOT_OFFICIALS = frozenset({Role.CONTRACTOR, Role.EXPERT, Role.VILLAGE_REP, Role.EVALUATOR, Role.SUPERVISOR})


def now_or(now: dt.datetime | None) -> dt.datetime:
    """The clock: services read it here so tests and the demo can pass a time."""
    return now or timezone.now()


def require_visible(user: Any, project: Project) -> None:
    if not projects_visible(user).filter(pk=project.pk).exists():
        raise NotFound()


def require_manage(user: Any, project: Project, cap: str = Cap.TENDER_MANAGE) -> None:
    """The organiser: a department officer (or administrator) who manages the project and holds `cap`."""
    require_visible(user, project)
    if not user.can(cap) or not can_manage(user, project):
        raise PermissionDenied()


def may_manage(user: Any, project: Project, cap: str = Cap.TENDER_MANAGE) -> bool:
    return bool(user.is_authenticated and user.can(cap) and can_manage(user, project))


def clean_text(value: Any, *, field: str, max_length: int, required: bool = True) -> str:
    cleaned = str(value or "").strip()
    if required and not cleaned:
        raise ValidationFailed(fields={field: [_("此项必填。")]})
    if len(cleaned) > max_length:
        raise ValidationFailed(fields={field: [_("内容过长（最多 %(n)d 字）。") % {"n": max_length}]})
    return cleaned


def signed_yuan(value: Any, *, field: str) -> Decimal:
    """An amount that may be negative (a change order that reduces the price)."""
    raw = str(value if value is not None else "").strip()
    negative = raw.startswith("-")
    amount = parse_yuan(raw[1:] if negative else raw, field=field, allow_zero=False)
    return -amount if negative else amount
