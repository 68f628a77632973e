"""Small display helpers for console and portal templates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from minsheng.core.money import format_wan
from minsheng.projects.lifecycle import DocumentKind, Slot, Stage

register = template.Library()

ACTIONS = {
    "project.create": _("登记项目"),
    "project.update": _("修改项目信息"),
    "project.transition": _("阶段转换"),
    "target.add": _("设定绩效目标"),
    "member.add": _("添加参与人"),
    "document.upload": _("上传文件"),
    "gate.request": _("申请阶段转换"),
    "gate.approve": _("同意阶段转换"),
    "gate.reject": _("退回阶段转换"),
    "gate.withdraw": _("撤回申请"),
    "wbs.create": _("添加子项"),
    "wbs.update": _("修改子项"),
    "wbs.progress": _("填报子项进度"),
}


@register.filter
def wan(amount: Decimal | None) -> str:
    """Yuan shown as 万元, the unit officials read project sizes in."""
    return format_wan(amount)


@register.filter
def minutes(value: dt.timedelta | None) -> int:
    return int(value.total_seconds() // 60) if value else 0


@register.filter
def stage_label(value: str) -> str:
    return str(Stage(value).label) if value in Stage.values else value


@register.filter
def slot_label(value: str) -> str:
    return str(Slot(value).label) if value in Slot.values else value


@register.filter
def document_label(value: str) -> str:
    return str(DocumentKind(value).label) if value in DocumentKind.values else value


@register.filter
def action_label(value: str) -> str:
    return str(ACTIONS.get(value, value))


@register.filter
def days_since(value: dt.date | None) -> int:
    from django.utils import timezone

    return (timezone.localdate() - value).days if value else 0


@register.filter
def filesize_kb(value: int | None) -> str:
    if not value:
        return "0 KB"
    return f"{value / 1024 / 1024:.1f} MB" if value >= 1024 * 1024 else f"{max(1, round(value / 1024))} KB"


@register.filter
def can(user: Any, cap: str) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.can(cap))


@register.simple_tag(takes_context=True)
def nav_current(context: Any, *names: str) -> str:
    """`aria-current="page"` for the nav link of the page being shown."""
    match = getattr(context.get("request"), "resolver_match", None)
    return mark_safe('aria-current="page"') if match and match.url_name in names else ""
