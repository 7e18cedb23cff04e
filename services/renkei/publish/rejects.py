"""Dead-letter copies of the records a publisher refuses (nothing a department sends is lost).

A refused input (schema violation, bad check digit, a 個人番号 …) goes to ``dlq.<topic>`` as
UTF-8 JSON of what was submitted, every My Number masked, with the same ``renkei.dlq.*`` reason
headers the stages write (stage ``publisher``, reason class ``validation``) and
``content-type: application/json`` (it is not Avro: it never passed validation). An input too
large for a Kafka record is kept as headers only (value withheld, its size stated).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from renkei.contracts.dlq import HEADER_PREFIX, MAX_DETAIL_CHARS
from renkei.identifiers.masking import MASKED_HEADER, mask_datum
from renkei.identifiers.mynumber import looks_like_my_number

REASON: Final = "validation"
CONTENT_TYPE_HEADER: Final = "content-type"
MAX_KEPT_BYTES: Final = 900 * 1024
"""Largest JSON copy kept as the DLQ value; the broker's default record limit is 1 MiB."""


@dataclass(frozen=True)
class RejectedRecord:
    """A DLQ record ready to send."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def rejected_record(
    dlq_topic: str,
    source_topic: str,
    value: Any,
    problems: Sequence[tuple[str, str]],
    *,
    origin: str,
    key_field: str | None,
    now: dt.datetime | None = None,
) -> RejectedRecord:
    """The DLQ record of ``value`` refused for ``problems`` (value-free (path, reason) pairs).

    ``origin`` says where it came from (``file.csv line 12``); ``key_field`` names the field
    whose text becomes the record key (so a replayed fix lands on the same partition); without
    one (or when it looks like a 個人番号) the key is ``origin``.
    """
    masked, count = mask_datum(value)
    body: bytes | None = None
    withheld = ""
    if masked is not None:
        body = json.dumps(masked, ensure_ascii=False, default=str).encode("utf-8")
        if len(body) > MAX_KEPT_BYTES:
            withheld = f"value withheld: {len(body):,} bytes, larger than a Kafka record may be"
            body = None
    detail = "; ".join(f"{path}: {why}" for path, why in problems)
    if withheld:
        detail = f"{detail}; {withheld}" if detail else withheld
    added = {
        "reason": REASON,
        "detail": detail[:MAX_DETAIL_CHARS],
        "stage": "publisher",
        "topic": source_topic,
        "origin": origin,
        "time": (now or dt.datetime.now(dt.UTC))
        .astimezone(dt.UTC)
        .isoformat(timespec="milliseconds"),
    }
    headers = [(HEADER_PREFIX + name, text.encode("utf-8")) for name, text in added.items()]
    headers.append((CONTENT_TYPE_HEADER, b"application/json"))
    if count:
        headers.append((MASKED_HEADER, b"my_number"))
    # Kafka needs a key or a value: a line that did not parse is keyed by where it came from.
    key = _key(value, key_field) or origin.encode("utf-8")
    return RejectedRecord(dlq_topic, key, body, headers)


def _key(value: Any, key_field: str | None) -> bytes | None:
    if key_field is None or not isinstance(value, dict):
        return None
    key = value.get(key_field)
    if not isinstance(key, str) or not key or len(key) > 256 or looks_like_my_number(key):
        return None
    return key.encode("utf-8")
