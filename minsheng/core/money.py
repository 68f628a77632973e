"""Money is Decimal yuan with two places; never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from minsheng.core.errors import ValidationFailed

CENT = Decimal("0.01")
WAN = Decimal("10000")
YI = Decimal("100000000")
MAX_AMOUNT = Decimal("999999999999.99")


def parse_yuan(value: Any, *, field: str = "amount", allow_zero: bool = True) -> Decimal:
    """Parse an amount in yuan: refuse floats' cousins (NaN, inf), negatives, more than two decimals."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(fields={field: [_("请输入数字金额（元）。")]}) from None
    if not amount.is_finite():
        raise ValidationFailed(fields={field: [_("请输入数字金额（元）。")]})
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed(fields={field: [_("金额必须大于零。")]})
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationFailed(fields={field: [_("金额最多保留两位小数。")]})
    if amount > MAX_AMOUNT:
        raise ValidationFailed(fields={field: [_("金额超出允许范围。")]})
    return amount.quantize(CENT)


def format_wan(amount: Decimal | None) -> str:
    """12345678.90 → '1,234.57 万元' — how officials read project sizes."""
    if amount is None:
        return "—"
    return f"{(amount / WAN).quantize(CENT, rounding=ROUND_HALF_UP):,} 万元"
