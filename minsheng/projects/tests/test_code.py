"""The national project code: ISO 7064 MOD 11,10 check digit, build/parse, malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minsheng.core.errors import ValidationFailed
from minsheng.projects import code

DIGITS = "0123456789"


def _step(p: int, d: int) -> int:
    s = (p + d) % 10 or 10
    return (s * 2) % 11


# Adjacent pairs (a, b) that MOD 11,10 tells apart from (b, a) whatever came before them: the
# algorithm guarantees detection of these transpositions and of no others.
GUARANTEED_PAIRS = frozenset(
    (a, b)
    for a in range(10)
    for b in range(10)
    if a != b and all(_step(_step(p, a), b) != _step(_step(p, b), a) for p in range(1, 11))
)

valid_body = st.text(alphabet=DIGITS, min_size=23, max_size=23)


def _valid_code(body: str) -> str:
    """A well-formed code with the given serial and check digit (fixed valid prefix segments)."""
    head = "2026" + "990102" + "03" + "01"
    full = head + body[14:23]
    return full + code.check_digit(full)


def _check_ok(digits: str) -> bool:
    return code.check_digit(digits[:23]) == digits[23]


@pytest.mark.parametrize(
    ("body", "check"),
    [
        # Published ISO 7064 MOD 11,10 examples (Croatian OIB, German tax IdNr).
        ("3339200596", "1"),
        ("3657426180", "9"),
        ("8609574271", "9"),
    ],
)
def test_check_digit_matches_published_mod_11_10_examples(body, check):
    assert code.check_digit(body) == check


@given(valid_body, st.integers(min_value=0, max_value=23), st.sampled_from(DIGITS))
def test_every_single_digit_change_is_detected(body, pos, digit):
    good = body + code.check_digit(body)
    if good[pos] == digit:
        digit = str((int(digit) + 1) % 10)
    bad = good[:pos] + digit + good[pos + 1 :]
    assert _check_ok(good)
    assert not _check_ok(bad)


@given(valid_body, st.integers(min_value=0, max_value=21))
def test_adjacent_transposition_is_detected_where_the_algorithm_guarantees_it(body, pos):
    good = body + code.check_digit(body)
    a, b = int(good[pos]), int(good[pos + 1])
    swapped = good[:pos] + good[pos + 1] + good[pos] + good[pos + 2 :]
    if (a, b) in GUARANTEED_PAIRS:
        assert not _check_ok(swapped)


def test_most_adjacent_transpositions_are_detected():
    assert len(GUARANTEED_PAIRS) == 70  # of the 90 ordered pairs of distinct digits


@given(
    st.integers(min_value=2000, max_value=2099),
    st.sampled_from(sorted(code.DEPARTMENT_CODES)),
    st.integers(min_value=1, max_value=10**9 - 1),
    st.sampled_from(sorted(code.TYPE_CODES)),
)
def test_build_then_parse_round_trips(year, kind, serial, type_code):
    built = code.build(year=year, region="990102", department_kind=kind, serial=serial, type_code=type_code)
    assert len(built.value) == 24 and built.value.isdigit()
    assert code.parse(built.value) == built
    assert code.parse(built.display) == built
    assert built.display.replace("-", "") == built.value
    assert int(built.serial) == serial


def test_parse_accepts_hyphens_and_spaces_for_readability():
    value = _valid_code("0" * 14 + "000000042")
    spaced = f" {value[:4]} {value[4:10]}-{value[10:]} "
    assert code.parse(spaced).value == value


def _message(exc: pytest.ExceptionInfo) -> str:
    return str(exc.value.fields["code"][0])


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "24 位数字"),
        ("2026", "24 位数字"),
        ("2026990102030100000004200", "24 位数字"),  # 25 digits
        ("20269901020301000000042X", "24 位数字"),
        ("２０２６９９０１０２０３０１０００００００４２５", "24 位数字"),  # full-width digits
        ("²02699010203010000000425", "24 位数字"),  # a "digit" int() cannot read
        ("19999901020301000000042" + code.check_digit("19999901020301000000042"), "年份段"),
        ("20260001020301000000042" + code.check_digit("20260001020301000000042"), "地区段"),
        ("20269901029901000000042" + code.check_digit("20269901029901000000042"), "部门段"),
        ("20269901020309000000042" + code.check_digit("20269901020309000000042"), "项目类型段"),
    ],
)
def test_malformed_codes_are_refused_with_the_exact_reason(raw, fragment):
    with pytest.raises(ValidationFailed) as exc:
        code.parse(raw)
    assert fragment in _message(exc)


def test_wrong_check_digit_is_refused_as_a_copying_error():
    good = _valid_code("0" * 14 + "000000042")
    bad = good[:23] + str((int(good[23]) + 1) % 10)
    with pytest.raises(ValidationFailed) as exc:
        code.parse(bad)
    assert "校验位" in _message(exc)


def test_build_refuses_a_bad_region_or_exhausted_serial():
    with pytest.raises(ValidationFailed):
        code.build(year=2026, region="99010", department_kind="drc", serial=1)
    with pytest.raises(ValidationFailed):
        code.build(year=2026, region="990102", department_kind="drc", serial=10**9)
    with pytest.raises(ValidationFailed):
        code.build(year=2026, region="990102", department_kind="drc", serial=0)


def test_every_department_kind_has_a_code_segment():
    from minsheng.core.models import DepartmentKind

    assert set(DepartmentKind.values) == set(code.DEPARTMENT_CODES)
    assert len(set(code.DEPARTMENT_CODES.values())) == len(code.DEPARTMENT_CODES)
