"""Money is Decimal yuan with two places; bad amounts are refused with a field message."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minsheng.core.errors import ValidationFailed
from minsheng.core.money import MAX_AMOUNT, format_wan, parse_yuan


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.5", Decimal("12.50")),
        (" 1,234,567.89 ", Decimal("1234567.89")),
        (7, Decimal("7.00")),
        (Decimal("0.01"), Decimal("0.01")),
        (0.1, Decimal("0.10")),
        ("1e3", Decimal("1000.00")),
        ("0", Decimal("0.00")),
    ],
)
def test_valid_amounts_parse_to_two_decimal_places(raw, expected):
    value = parse_yuan(raw)
    assert value == expected
    assert value.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "请输入数字金额（元）。"),
        ("", "请输入数字金额（元）。"),
        (None, "请输入数字金额（元）。"),
        ("NaN", "请输入数字金额（元）。"),
        ("Infinity", "请输入数字金额（元）。"),
        (float("inf"), "请输入数字金额（元）。"),
        (float("nan"), "请输入数字金额（元）。"),
        ("-1", "金额必须大于零。"),
        ("1.001", "金额最多保留两位小数。"),
        ("1e-3", "金额最多保留两位小数。"),
        ("1000000000000", "金额超出允许范围。"),
        ("1e30", "金额超出允许范围。"),
    ],
)
def test_invalid_amounts_are_refused_with_the_reason_on_the_field(raw, message):
    with pytest.raises(ValidationFailed) as exc:
        parse_yuan(raw, field="estimate_amount")
    assert [str(m) for m in exc.value.fields["estimate_amount"]] == [message]


def test_zero_can_be_refused():
    with pytest.raises(ValidationFailed) as exc:
        parse_yuan("0", allow_zero=False)
    assert [str(m) for m in exc.value.fields["amount"]] == ["金额必须大于零。"]


@given(st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2))
def test_every_two_place_amount_in_range_round_trips(value):
    assert parse_yuan(str(value)) == value
    assert parse_yuan(f"{value:,}") == value


def test_format_wan_reads_as_officials_write_it():
    assert format_wan(Decimal("12345678.90")) == "1,234.57 万元"
    assert format_wan(Decimal("5000")) == "0.50 万元"
    assert format_wan(None) == "—"
