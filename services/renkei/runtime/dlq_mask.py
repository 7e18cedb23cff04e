"""The DLQ copy of a rejected record keeps everything but a 個人番号 (My Number) it holds.

Every rejected record goes through here, whatever it was rejected for (runtime/stage.py).

- A record that decoded (the step refused it with :class:`MyNumberRefused`): every string the
  guard refuses is masked inside the Avro bytes, which stay decodable with their writer schema.
- A record that did not decode: standalone 12-digit runs with a valid check digit are masked in
  the raw bytes (defence in depth; such a record is not replayable anyway).

The key and header values are checked the same way. A masked copy carries the header
``renkei.masked: my_number`` so tools know its bytes differ from what was consumed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from renkei.identifiers.masking import (
    MASK_CHAR,
    MASKED_HEADER,
    mask_framed,
    mask_raw_digits,
    offending_strings,
)
from renkei.identifiers.mynumber import looks_like_my_number
from renkei.runtime.records import SourceRecord


def masked_refused(record: SourceRecord, datum: Any) -> SourceRecord:
    """``record`` with the My Numbers of its decoded ``datum`` masked in key, value, headers."""
    strings = offending_strings(datum)
    value = mask_framed(record.value, strings) if record.value is not None else None
    return _finish(record, value, masked=bool(strings))


def masked_undecodable(record: SourceRecord) -> SourceRecord:
    """``record`` with 12-digit My Number-like runs masked in its raw bytes (if any)."""
    if record.value is None:
        return _finish(record, None, masked=False)
    value, count = mask_raw_digits(record.value)
    return _finish(record, value, masked=count > 0)


def _finish(record: SourceRecord, value: bytes | None, *, masked: bool) -> SourceRecord:
    key = record.key
    if key is not None and _looks_like_my_number(key):
        key, masked = MASK_CHAR.encode() * len(key), True
    headers = []
    for name, header_value in record.headers:
        if header_value and _looks_like_my_number(header_value, name):
            header_value, masked = MASK_CHAR.encode() * len(header_value), True
        headers.append((name, header_value))
    if not masked:
        return record
    headers.append((MASKED_HEADER, b"my_number"))
    return replace(record, key=key, value=value, headers=tuple(headers))


def _looks_like_my_number(raw: bytes, name: str = "") -> bool:
    return looks_like_my_number(raw.decode("utf-8", "replace"), name)
