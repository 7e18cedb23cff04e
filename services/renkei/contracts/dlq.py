"""The dead-letter record format, shared by the stages, the publishers and the DLQ tools.

A DLQ record is the original record — key and value bytes unchanged, original headers — in
``dlq.<source topic>`` (same partition), plus ``renkei.dlq.*`` headers saying why: reason class,
a value-free detail, stage, source topic, partition, offset and time.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from renkei.contracts.names import TopicNames
from renkei.schemas.catalogue import TopicSpec, renamed

Headers = tuple[tuple[str, bytes], ...] | list[tuple[str, bytes]]

DlqReason = Literal["deserialization", "schema", "standardization", "processing"]
"""Class of failure, the ``renkei.dlq.reason`` header:

- ``deserialization``: the value is not a Confluent-Avro record (magic byte, length, tombstone,
  a body that does not decode with its writer schema);
- ``schema``: its schema id is unknown to the registry, or the writer schema cannot be read as the
  topic's catalogue schema;
- ``standardization``: a field could not be standardized (``StandardizationError``);
- ``processing``: anything else the step raised, or an output that does not fit its schema.
"""

HEADER_PREFIX = "renkei.dlq."
MAX_DETAIL_CHARS = 1000
SOURCE_POSITION_HEADER = "renkei.source.position"
"""Header a department record may carry: its position in the department's own source (``idou.csv
line 12``, ``jumin.public.jumin lsn 0/1A2B3C8``), value-free. A stage's DLQ keeps the record's
headers, so the department's reject report can name the line or log position it came from."""
SOURCE_TRANSACTION_HEADER = "renkei.source.transaction"
"""Header of an event captured from a database: the id of the database transaction it came from
(PostgreSQL's txId); the events of one transaction carry the same value."""


def dlq_headers(
    headers: Headers,
    *,
    reason: DlqReason,
    detail: str,
    stage: str,
    topic: str,
    partition: int,
    offset: int,
    now: dt.datetime,
) -> list[tuple[str, bytes]]:
    """The original ``headers`` (earlier ``renkei.dlq.*`` dropped) plus this rejection's:
    ``detail`` must be value-free (field paths and rules, never the record's data)."""
    kept = [(name, value) for name, value in headers if not name.startswith(HEADER_PREFIX)]
    added = {
        "reason": reason,
        "detail": detail[:MAX_DETAIL_CHARS],
        "stage": stage,
        "topic": topic,
        "partition": str(partition),
        "offset": str(offset),
        "time": now.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
    }
    return kept + [(HEADER_PREFIX + name, text.encode("utf-8")) for name, text in added.items()]


def header_map(headers: Headers) -> dict[str, str]:
    """Headers as text, for tests and tools (the last of repeated names wins)."""
    return {name: (value or b"").decode("utf-8", "replace") for name, value in headers}


COMPACTED_SOURCE_DLQ_RETENTION_MS = 14 * 24 * 3600 * 1000
"""Retention of the DLQ of a compacted (or never-expiring) source: 14 days to triage and
replay. Its records are never superseded, so without a bound an address that a 支援措置 later
retracted from the source would stay in the DLQ for ever (docs/privacy.md)."""


def dlq_spec(source: TopicSpec, names: TopicNames, partitions: int) -> TopicSpec:
    """The DLQ topic of ``source``: its partitions as found, delete policy, its retention —
    bounded to 14 days when the source is compacted or never expires."""
    retention = int(source.metadata.get("retention_ms", -1))
    if "compact" in source.cleanup_policy or retention < 0:
        retention = COMPACTED_SOURCE_DLQ_RETENTION_MS
    return renamed(
        source,
        names.dlq(source.topic),
        partitions=partitions,
        cleanup_policy="delete",
        retention_ms=retention,
    )
