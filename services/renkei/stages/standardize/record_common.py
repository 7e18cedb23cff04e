"""Shared steps of record standardization: locating errors, noting corrections, checking codes.

Every check raises :class:`StandardizationError` with the full dotted path of the field and a
reason that never contains the value (it may be personal data).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from renkei.identifiers.municipality import municipality_code_problem
from renkei.identifiers.mynumber import looks_like_my_number
from renkei.normalize.errors import MyNumberRefused, StandardizationError
from renkei.schemas.formats import check_region_code, check_resident_key

T = TypeVar("T")

MY_NUMBER_REASON: Final = (
    "a 個人番号 (My Number) or 住民票コード must never be sent to Renkei; value refused"
)
# Every character whose NFKC form holds an ASCII digit lies in these ranges (digits, full-width
# digits, super/subscripts, fractions, number forms, enclosed and squared numbers, math
# digits), and \d is every Unicode decimal digit (the detector reads Arabic-Indic, Devanagari…
# digits too); tests/stages/standardize/test_records.py checks all of Unicode against it. A
# string with none of them cannot hold a 個人番号, so the full check is skipped.
DIGIT_LIKE: Final = re.compile(
    "[\\d0-9\u00b2\u00b3\u00b9\u00bc-\u00be\u2070-\u218f\u2460-\u24ff\u2776-\u2793"
    "\u3251-\u33ff\uff10-\uff19\U0001d7ce-\U0001d7ff\U0001f100-\U0001f10a"
    "\U0001fbf0-\U0001fbf9]"
)
_MY_NUMBER_DIGITS: Final = 12
FORMULA_REASON: Final = (
    "starts like a spreadsheet formula (=, @, or +/- with a call): refused, it could run as a "
    "formula when a list is opened in a spreadsheet (CSV injection)"
)
_FORMULA_ALWAYS: Final = frozenset("=@＝＠")
_FORMULA_WITH_CALL: Final = frozenset("+-＋－")
_SCALARS: Final = frozenset({type(None), bool, int, float, bytes, dt.date, dt.datetime, uuid.UUID})
_POSTAL_SEPARATORS: Final = str.maketrans("", "", "-‐‑‒–—―−ー 　〒")


class Corrections:
    """The dotted paths whose value standardization changed, in the order they were found."""

    __slots__ = ("paths",)

    def __init__(self) -> None:
        self.paths: list[str] = []

    def note(self, path: str, before: object, after: object) -> None:
        """Remember ``path`` when ``before`` and ``after`` differ (each path once)."""
        if before != after and path not in self.paths:
            self.paths.append(path)

    def apply(self, path: str, value: str, step: Callable[[str], str]) -> str:
        """``step(value)``, its error located at ``path``, the path noted when it changed."""
        result = located(path, step, value)
        self.note(path, value, result)
        return result


def located(path: str, step: Callable[[str], T], value: str) -> T:
    """``step(value)`` with a StandardizationError re-raised at ``path``."""
    try:
        return step(value)
    except StandardizationError as exc:
        raise exc.at(path) from None


def refuse_my_numbers(value: Mapping[str, Any]) -> None:
    """Refuse a 個人番号 (My Number) in any string of ``value``, nested records and arrays too,
    and any string that starts like a spreadsheet formula (CSV injection: lists built from the
    streams are opened in spreadsheets by staff).

    Each string is checked with the name of the field holding it (a field called
    ``kojin_bango`` is searched for a number anywhere in its text). Strings without any
    character that could be a digit are skipped without the full check.
    """
    for key, item in value.items():
        _refuse_in(item, str(key), str(key))


def _refuse_in(item: Any, path: str, field_name: str) -> None:
    kind = type(item)
    if kind is str:
        if item and _looks_like_formula(item):
            raise StandardizationError(path, FORMULA_REASON)
        # Short ASCII text (codes, keys) cannot hold 12 digits: NFKC leaves ASCII unchanged.
        if (
            (len(item) >= _MY_NUMBER_DIGITS or not item.isascii())
            and DIGIT_LIKE.search(item)
            and looks_like_my_number(item, field_name)
        ):
            raise MyNumberRefused(path, MY_NUMBER_REASON)
    elif kind is dict:
        for key, child in item.items():
            _refuse_in(child, f"{path}.{key}", str(key))
    elif kind is list or kind is tuple:
        for index, child in enumerate(item):
            _refuse_in(child, f"{path}.{index}", field_name)
    elif kind not in _SCALARS:
        _refuse_in_other(item, path, field_name)


def _looks_like_formula(text: str) -> bool:
    """True for text a spreadsheet would run: ``=…``, ``@…``, or ``+…``/``-…`` with a call or a
    DDE pipe (``-2+3+cmd|' /C calc'!A0``); a signed number or ``-`` alone is fine.

    Judged on the text *after* NFKC, as standardization will write it: ``﹦HYPERLINK(…)``
    (U+FE66), ``＝…`` or ``⁼…`` become ``=…``; leading spaces and format characters (zero-width
    spaces, BOM) are looked past."""
    first = text[0]
    if first.isascii() and not first.isspace():  # the common case: no copy, no NFKC
        if first in _FORMULA_ALWAYS:
            return True
        return first in _FORMULA_WITH_CALL and _has_call(text)
    start = 0
    while start < len(text) and (
        text[start].isspace() or unicodedata.category(text[start]) == "Cf"
    ):
        start += 1
    head = unicodedata.normalize("NFKC", text[start : start + 8]).lstrip()
    if not head:
        return False
    if head[0] in _FORMULA_ALWAYS:
        return True
    return head[0] in _FORMULA_WITH_CALL and _has_call(text)


def _has_call(text: str) -> bool:
    normalized = text if text.isascii() else unicodedata.normalize("NFKC", text)
    return any(mark in normalized for mark in "|(")


def _refuse_in_other(item: Any, path: str, field_name: str) -> None:
    """The slow path for subclasses and other containers than fastavro's dicts and lists."""
    if isinstance(item, str):
        _refuse_in(str(item), path, field_name)
    elif isinstance(item, Mapping):
        _refuse_in(dict(item), path, field_name)
    elif isinstance(item, list | tuple):
        _refuse_in(list(item), path, field_name)


def municipality_code(path: str, code: str, fixes: Corrections) -> str:
    """A valid 全国地方公共団体コード (full-width digits and spaces are tolerated and fixed)."""
    canonical = unicodedata.normalize("NFKC", code).strip()
    problem = municipality_code_problem(canonical)
    if problem:
        raise StandardizationError(path, problem)
    fixes.note(path, code, canonical)
    return canonical


def optional_municipality_code(path: str, code: str | None, fixes: Corrections) -> str | None:
    return None if code is None else municipality_code(path, code, fixes)


def region_code(path: str, code: str) -> str:
    """A valid region code (``<municipality code>`` or ``<code>:<postal code>``), unchanged:
    it is a Kafka key in some topics, so it is checked, not rewritten."""
    try:
        return check_region_code(code)
    except ValueError as exc:
        raise StandardizationError(path, str(exc)) from None


def resident_key(path: str, key: str) -> str:
    """A valid 団体内統合宛名番号, unchanged (it is the Kafka key)."""
    try:
        return check_resident_key(key)
    except ValueError as exc:
        raise StandardizationError(path, str(exc)) from None


def postal_code(path: str, code: str | None, fixes: Corrections) -> str | None:
    """A 7-digit postal code without hyphen (〒, hyphens, spaces and full-width digits fixed)."""
    if code is None:
        return None
    canonical = unicodedata.normalize("NFKC", code).translate(_POSTAL_SEPARATORS)
    if not canonical:
        fixes.note(path, code, None)
        return None
    if len(canonical) != 7 or not canonical.isascii() or not canonical.isdigit():
        raise StandardizationError(path, "must be a 7-digit postal code (郵便番号7桁)")
    fixes.note(path, code, canonical)
    return canonical


def finite(path: str, number: float | int | None) -> None:
    """Refuse NaN and infinities, which Avro carries but no consumer can use."""
    if isinstance(number, float) and not math.isfinite(number):
        raise StandardizationError(path, "must be a finite number")


def nfkc_text(text: str | None) -> str | None:
    """NFKC with whitespace runs collapsed to one space and ends stripped; empty → None."""
    if text is None:
        return None
    return " ".join(unicodedata.normalize("NFKC", text).split()) or None
