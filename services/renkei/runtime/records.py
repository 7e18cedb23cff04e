"""What a stage step sees and returns (contract topic names map to Kafka names in
``renkei.contracts.names``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One consumed record, exactly as it came off the broker.

    ``topic`` is the Kafka topic it was read from; ``contract_topic`` is its name in the
    catalogue (the same unless the worker runs with a test topic prefix).
    """

    topic: str
    contract_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
    timestamp_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Output:
    """A record a step wants produced: ``value`` is an Avro datum of ``topic``'s schema, or
    None for a tombstone (compaction then removes ``key``; only keyed topics get one).

    ``topic`` is a contract (catalogue) name. ``headers=None`` carries the source record's
    headers over (CloudEvents attributes stay with the event); given headers replace them (a
    view writes its own, nothing of the source's). Either way ``ce_dataschema`` points at the
    output schema of a catalogue topic (internal JSON topics have none).
    """

    topic: str
    key: bytes | None
    value: Any
    headers: Sequence[tuple[str, bytes]] | None = None
