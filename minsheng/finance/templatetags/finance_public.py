"""Template tags for public pages: what the portal may show about a project's money (no personal data)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def public_payments(project: Any) -> list[Any]:
    from minsheng.finance.selectors.payments import public_payments as select

    return list(select(project))
