"""Masking 個人番号 (My Number) values before a refused record is kept anywhere (DLQ, reports).

A record refused because it carries a My Number must still be kept (nothing is lost), but the
number itself must not be: the dead-letter copy has every offending string replaced by ``*``
of the same length. Two ways in:

- :func:`mask_datum` walks a decoded value (dicts, lists, strings) with the same rule the
  guard uses (:func:`renkei.identifiers.mynumber.looks_like_my_number`, with the field name);
- :func:`mask_framed` rewrites the offending strings inside Avro bytes in place. Avro writes a
  string as its length and its UTF-8 bytes, so replacing those bytes by as many ``*`` keeps
  the record decodable with its writer schema.
- :func:`mask_raw_digits` is for bytes that cannot be decoded at all: any standalone run of
  12 digits (ASCII or full-width, optionally grouped 4-4-4) with a valid check digit is masked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Final

from renkei.identifiers.mynumber import is_my_number, looks_like_my_number

MASK_CHAR: Final = "*"
MASKED_HEADER: Final = "renkei.masked"
"""Header on a kept copy of a refused record whose bytes were masked (value: ``my_number``).
Not under ``renkei.dlq.``: the DLQ router replaces those headers, this one must stay."""

_ASCII_RUN: Final = re.compile(rb"(?<![0-9])([0-9]{4})[ \-]?([0-9]{4})[ \-]?([0-9]{4})(?![0-9])")
# Full-width digits are EF BC 90..99 in UTF-8.
_FW_DIGIT: Final = rb"(?:\xef\xbc[\x90-\x99])"
_FULL_WIDTH_RUN: Final = re.compile(
    rb"(?<!\xbc[\x90-\x99])(?:" + _FW_DIGIT + rb"){12}(?!\xef\xbc[\x90-\x99])"
)


def mask_text(text: str) -> str:
    """``text`` with every character replaced by ``*``."""
    return MASK_CHAR * len(text)


def offending_strings(value: Any, field_name: str = "") -> list[str]:
    """Every string in ``value`` (nested dicts and lists too) the My Number guard refuses."""
    found: list[str] = []
    _masked(value, field_name, found)
    return found


def mask_datum(value: Any, field_name: str = "") -> tuple[Any, int]:
    """A copy of ``value`` with every refused string masked, and how many were masked."""
    found: list[str] = []
    return _masked(value, field_name, found), len(found)


def _masked(value: Any, field_name: str, found: list[str]) -> Any:
    """``value`` with refused strings masked; each refused string appended to ``found``."""
    if isinstance(value, str):
        if looks_like_my_number(value, field_name):
            found.append(value)
            return mask_text(value)
        return value
    if isinstance(value, Mapping):
        return {key: _masked(child, str(key), found) for key, child in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(child, field_name, found) for child in value]
    return value


def mask_framed(value: bytes, strings: Iterable[str]) -> bytes:
    """``value`` (Avro or JSON bytes) with the UTF-8 bytes of each string replaced by ``*``."""
    for text in sorted(set(strings), key=len, reverse=True):
        encoded = text.encode("utf-8")
        value = value.replace(encoded, MASK_CHAR.encode() * len(encoded))
    return value


def mask_raw_digits(value: bytes) -> tuple[bytes, int]:
    """Mask standalone 12-digit runs with a valid 個人番号 check digit in undecodable bytes."""
    count = 0

    def ascii_run(match: re.Match[bytes]) -> bytes:
        nonlocal count
        if not is_my_number(b"".join(match.groups()).decode("ascii")):
            return match.group(0)
        count += 1
        return MASK_CHAR.encode() * len(match.group(0))

    def full_width_run(match: re.Match[bytes]) -> bytes:
        nonlocal count
        digits = unicodedata.normalize("NFKC", match.group(0).decode("utf-8"))
        if not is_my_number(digits):
            return match.group(0)
        count += 1
        return MASK_CHAR.encode() * len(match.group(0))

    masked = _ASCII_RUN.sub(ascii_run, value)
    masked = _FULL_WIDTH_RUN.sub(full_width_run, masked)
    return masked, count
