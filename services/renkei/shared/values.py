"""Helpers shared by the linkage steps: JSON form, event-time ordering, digests, ages.

State keeps records in Renkei JSON form (ISO dates, JST timestamps, UUID strings) so that it can
be stored as JSON; outputs are built in Avro form (``datetime.date``/``datetime``) for the codec.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from renkei.schemas.jsonform import to_json

OrderKey = tuple[str, int, int]
"""(effective_date ISO, recorded_at epoch ms, sequence): event-time order of one key's events."""

ENVELOPE = ("event_id", "municipality_code", "effective_date", "recorded_at", "sequence")


def json_form(value: Any) -> Any:
    """JSON-compatible copy of a decoded Avro datum (already-JSON values pass unchanged)."""
    return to_json(value)


def epoch_ms(recorded_at: str) -> int:
    """Milliseconds since the epoch of an ISO timestamp with offset."""
    return int(dt.datetime.fromisoformat(recorded_at).timestamp() * 1000)


def order_key(event: dict[str, Any]) -> OrderKey:
    """Event-time order of a JSON-form event: effective date, then recording time, then sequence."""
    return (str(event["effective_date"]), epoch_ms(event["recorded_at"]), int(event["sequence"]))


def as_order_key(stored: list[Any] | tuple[Any, ...]) -> OrderKey:
    """An order key read back from JSON (a list)."""
    return (str(stored[0]), int(stored[1]), int(stored[2]))


def _json_default(value: Any) -> Any:
    return json_form(value) if not isinstance(value, set | frozenset) else sorted(value)


def digest(content: Any) -> str:
    """Stable digest of content (Avro or JSON form), used to emit an output only when it
    changed. json's C encoder walks the structure; only dates, datetimes and UUIDs need help."""
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=_json_default)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def iso_date(value: str | dt.date | None) -> dt.date | None:
    """A ``datetime.date`` from an ISO string (or a date), None stays None."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def aware_datetime(value: str | dt.datetime) -> dt.datetime:
    """An aware ``datetime`` from an ISO string with offset (for Avro timestamp fields)."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


def age_on(birth_date: dt.date | None, on: dt.date | None) -> int | None:
    """Completed years of age on ``on`` (年齢計算: a birthday is reached the day before in law,
    but statistics and lists use the calendar birthday, as here)."""
    if birth_date is None or on is None:
        return None
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return max(years, 0)


def municipality_of(region_code: str) -> str:
    """The 6-digit municipality code a region code starts with (``011011:0640941`` → ``011011``)."""
    return region_code.split(":", 1)[0]
