"""Checks behind the ``renkei.format`` schema property, and the 個人番号 guard on every string.

Each check returns the value or raises ``ValueError`` with a reason free of personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from renkei.identifiers.municipality import municipality_code_problem
from renkei.identifiers.mynumber import looks_like_my_number

_POSTAL = re.compile(r"^[0-9]{7}$")
_RESIDENT_KEY = re.compile(r"^[0-9A-Za-z\-]{1,32}$")
_REGION = re.compile(r"^([0-9]{6})(:[0-9]{7})?$")


def check_municipality_code(value: str) -> str:
    problem = municipality_code_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def check_postal_code(value: str) -> str:
    if not _POSTAL.match(value):
        raise ValueError("must be a 7-digit postal code without hyphen (郵便番号7桁)")
    return value


def check_resident_key(value: str) -> str:
    if not _RESIDENT_KEY.match(value):
        raise ValueError("must be 1–32 ASCII letters, digits or hyphens (団体内統合宛名番号)")
    if len(value) == 12 and value.isdigit():
        # Bare 12-digit keys are refused outright: they cannot be told apart from 個人番号.
        raise ValueError("a 12-digit key is not allowed: it could be a 個人番号 (My Number)")
    return value


def check_region_code(value: str) -> str:
    match = _REGION.match(value)
    if not match:
        raise ValueError("must be '<6-digit municipality code>' or '<code>:<7-digit postal code>'")
    check_municipality_code(match.group(1))
    return value


FORMAT_CHECKS: dict[str, Callable[[str], str]] = {
    "municipality_code": check_municipality_code,
    "postal_code": check_postal_code,
    "resident_key": check_resident_key,
    "region_code": check_region_code,
}


def my_number_guard(field_name: str) -> Callable[[str], str]:
    """A check refusing a 個人番号 in the field ``field_name`` (the name sharpens detection)."""

    def guard(value: str) -> str:
        if looks_like_my_number(value, field_name):
            raise ValueError(
                "a 個人番号 (My Number) or 住民票コード must never be sent to Renkei; value refused"
            )
        return value

    return guard
