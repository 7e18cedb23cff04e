"""A DLQ record as the operator tools see it, DLQ topic names, and display masking.

A DLQ record (runtime/dlq.py) is the original key, value and headers of a rejected record plus
``renkei.dlq.*`` headers: reason class, value-free detail, stage, origin topic / partition /
offset and time. A record that was replayed and failed again also carries ``renkei.replay.of``
(the DLQ position it was replayed from).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Final, get_args

from renkei.contracts.dlq import HEADER_PREFIX, DlqReason
from renkei.errors import ConfigurationError
from renkei.identifiers.masking import MASKED_HEADER
from renkei.publish.rejects import REASON as PUBLISHER_REASON

REASONS: Final[tuple[str, ...]] = (*get_args(DlqReason), PUBLISHER_REASON)
"""Reason classes: the stages' (runtime/dlq.py) and the publisher's (``validation``)."""
REPLAY_HEADER: Final = "renkei.replay.of"
UNKNOWN: Final = "unknown"
DLQ_SEGMENT: Final = "dlq."


@dataclass(frozen=True, slots=True)
class DlqTopic:
    """A DLQ topic and the topic its records came from (Kafka names, prefix included)."""

    dlq: str
    source: str
    contract: str
    """The DLQ topic's contract name (``dlq.<source topic>``, no test prefix)."""
    prefix: str = ""


def resolve_topic(name: str, prefix: str = "") -> DlqTopic:
    """The DLQ topic an operator means by ``name``.

    Accepted: the DLQ topic (``dlq.registry.resident.events``) or its source topic
    (``registry.resident.events``), with or without the settings' topic prefix.
    """
    bare = name.removeprefix(prefix) if prefix else name
    if not bare or bare == DLQ_SEGMENT.rstrip("."):
        raise ConfigurationError(f"{name!r} is not a topic name")
    source = bare.removeprefix(DLQ_SEGMENT)
    if not source:
        raise ConfigurationError(f"{name!r} names no source topic after 'dlq.'")
    contract = DLQ_SEGMENT + source
    return DlqTopic(prefix + contract, prefix + source, contract, prefix)


def is_dlq_topic(kafka_name: str, prefix: str = "") -> bool:
    return kafka_name.startswith(prefix + DLQ_SEGMENT) and len(kafka_name) > len(prefix) + 4


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class DlqEntry:
    """One record of a DLQ topic, its ``renkei.dlq.*`` headers parsed."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp_ms: int | None = None

    def header(self, name: str) -> str | None:
        """The last header called ``name`` as text (None when absent)."""
        found = None
        for header, value in self.headers:
            if header == name:
                found = (value or b"").decode("utf-8", "replace")
        return found

    @property
    def reason(self) -> str:
        return self.header(HEADER_PREFIX + "reason") or UNKNOWN

    @property
    def detail(self) -> str:
        return self.header(HEADER_PREFIX + "detail") or ""

    @property
    def stage(self) -> str:
        return self.header(HEADER_PREFIX + "stage") or UNKNOWN

    @property
    def origin_topic(self) -> str | None:
        return self.header(HEADER_PREFIX + "topic")

    @property
    def origin_partition(self) -> int | None:
        return _int(self.header(HEADER_PREFIX + "partition"))

    @property
    def origin_offset(self) -> int | None:
        return _int(self.header(HEADER_PREFIX + "offset"))

    @property
    def time(self) -> str | None:
        return self.header(HEADER_PREFIX + "time")

    @property
    def replay_of(self) -> str | None:
        """Set when this record came back after a replay (it failed again)."""
        return self.header(REPLAY_HEADER)

    @property
    def masked(self) -> bool:
        """Its bytes were masked (a 個人番号 was in them): not the record as consumed."""
        return self.header(MASKED_HEADER) is not None

    @property
    def position(self) -> str:
        """``<dlq topic>:<partition>:<offset>``, the value of ``renkei.replay.of``."""
        return f"{self.topic}:{self.partition}:{self.offset}"


def replay_headers(entry: DlqEntry) -> list[tuple[str, bytes]]:
    """The original headers (``renkei.dlq.*`` and an earlier ``renkei.replay.of`` dropped)
    plus ``renkei.replay.of`` naming this DLQ position."""
    kept = [
        (name, value)
        for name, value in entry.headers
        if not name.startswith(HEADER_PREFIX) and name != REPLAY_HEADER
    ]
    return [*kept, (REPLAY_HEADER, entry.position.encode("utf-8"))]


# 12 digits alone or grouped 4-4-4 (spaces or hyphens), not part of a longer digit run: the
# shape of a 個人番号. Resident keys (15 digits) and phone numbers do not match. Broader than
# the guard (renkei.identifiers.masking masks what passes the check digit): this is for
# display only.
_TWELVE_DIGITS: Final = re.compile(r"(?<!\d)\d{4}[ \-‐－]?\d{4}[ \-‐－]?\d{4}(?!\d)")
MASK: Final = "************"


def mask_text(text: str) -> str:
    """``text`` with every 12-digit group (after NFKC) replaced by asterisks; unchanged when
    there is none (so half-width kana and other problems stay visible as recorded)."""
    normalized = unicodedata.normalize("NFKC", text)
    if not _TWELVE_DIGITS.search(normalized):
        return text
    return _TWELVE_DIGITS.sub(MASK, normalized)


def mask_my_numbers(value: Any) -> Any:
    """A JSON-form value with :func:`mask_text` applied to every string (keys too)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_text(str(k)): mask_my_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_my_numbers(v) for v in value]
    return value
