"""统一社会信用代码 (Unified Social Credit Code, GB 32100-2015): format and check character. Pure: no Django.

A code is 18 characters from the 31-character alphabet below (digits and capital letters without I, O, Z, S, V).
The 18th is a check character: with the weights W_i = 3^(i-1) mod 31 for the first 17 characters,
check = 31 − (Σ value_i × W_i mod 31), and 31 becomes 0.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


class InvalidCode(ValueError):
    """`reason` is one of "length", "character", "check"."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def normalise(code: str) -> str:
    """Surrounding blanks dropped and letters in upper case (codes are often typed in lower case)."""
    return str(code or "").strip().upper()


def check_character(body: str) -> str:
    """The check character of the first 17 characters of a code."""
    body = normalise(body)
    if len(body) != LENGTH - 1:
        raise InvalidCode("length")
    if any(c not in _VALUE for c in body):
        raise InvalidCode("character")
    total = sum(_VALUE[c] * w for c, w in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def complete(body: str) -> str:
    """A valid code from its first 17 characters (demo data and tests)."""
    body = normalise(body)
    return body + check_character(body)


def validate(code: str) -> str:
    """The normalised code, or `InvalidCode` saying what is wrong with it."""
    value = normalise(code)
    if len(value) != LENGTH:
        raise InvalidCode("length")
    if any(c not in _VALUE for c in value):
        raise InvalidCode("character")
    if check_character(value[:-1]) != value[-1]:
        raise InvalidCode("check")
    return value


def is_valid(code: str) -> bool:
    try:
        validate(code)
    except InvalidCode:
        return False
    return True
