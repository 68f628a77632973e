"""统一社会信用代码 (GB 32100-2015): the check character, the alphabet, the length and normalisation. Pure."""

from __future__ import annotations

import pytest

from minsheng.procurement import uscc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _by_the_formula(body: str) -> str:
    """The standard's formula written out on its own: weights 3^(i-1) mod 31, check = 31 − (Σ mod 31), 31 → 0."""
    total = sum(ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return ALPHABET[(31 - total % 31) % 31]


@pytest.mark.parametrize("body", ["91330100MA2H3K4L5", "12100000400000624", "5133010050123456X", "Y1330100UW0000001",
                                  "93330102MA28F7PQ1"])
def test_codes_built_with_the_formula_are_valid(body):
    code = body + _by_the_formula(body)
    assert uscc.validate(code) == code and uscc.is_valid(code)
    assert uscc.check_character(body) == _by_the_formula(body)
    assert uscc.complete(body) == code


def test_a_published_code_is_valid():
    assert uscc.is_valid("91350100M000100Y43")


def test_the_weights_are_powers_of_three_mod_31():
    assert uscc.WEIGHTS == tuple(pow(3, i, 31) for i in range(17))


def test_a_check_value_of_31_becomes_0():
    body = next(b for b in (f"9133010000000{n:04d}" for n in range(10000)) if _by_the_formula(b) == "0")
    total = sum(ALPHABET.index(c) * w for c, w in zip(body, uscc.WEIGHTS, strict=True))
    assert total % 31 == 0  # 31 − 0 = 31, written as 0
    assert uscc.complete(body)[-1] == "0" and uscc.is_valid(body + "0")


def test_a_wrong_check_character_is_refused():
    code = uscc.complete("91330100MA2H3K4L5")
    wrong = next(c for c in ALPHABET if c != code[-1])
    with pytest.raises(uscc.InvalidCode) as exc:
        uscc.validate(code[:-1] + wrong)
    assert exc.value.reason == "check"


def test_a_changed_character_in_the_body_is_caught():
    code = uscc.complete("91330100MA2H3K4L5")
    assert not uscc.is_valid(code[:9] + ("B" if code[9] != "B" else "C") + code[10:])


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_left_out_of_the_alphabet_are_refused(letter):
    body = "91330100MA2H3K4L" + letter
    with pytest.raises(uscc.InvalidCode) as exc:
        uscc.validate(body + "0")
    assert exc.value.reason == "character"
    with pytest.raises(uscc.InvalidCode):
        uscc.check_character(body)


@pytest.mark.parametrize("code", ["", "9133010", "91330100MA2H3K4L", "91330100MA2H3K4L5XX", "9133 0100MA2H3K4L5X"])
def test_a_code_that_is_not_18_characters_is_refused(code):
    with pytest.raises(uscc.InvalidCode) as exc:
        uscc.validate(code)
    assert exc.value.reason in ("length", "character")
    if len(code.strip()) != 18:
        assert exc.value.reason == "length"


def test_lower_case_and_surrounding_blanks_are_normalised():
    code = uscc.complete("91330100MA2H3K4L5")
    assert uscc.validate(f"  {code.lower()} ") == code
    assert uscc.normalise(" 91330100ma2h3k4l5x ") == "91330100MA2H3K4L5X"
