"""The local audit file against its copy on the broker (``audit.access``).

The hash chain shows any edit of the file *unless* someone rewrites the whole file and its head
consistently. The topic copy, written when each record was made and held by the broker under
other credentials, anchors the chain: every record the topic holds for this file must be in the
file with the same hash. A file record the topic lacks is only reported (its production may
have failed; the file is authoritative for what was written).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from renkei.audit.chain import Problem
from renkei.audit.topic import AUDIT_TOPIC
from renkei.errors import AuditError, RenkeiError
from renkei.kafka_security import kafka_client_options
from renkei.serde.avro import AvroDecoder
from renkei.serde.registry import registry_client
from renkei.settings import Settings


def default_log_id(path: Path) -> str:
    """The ``log_id`` an AuditLog on this host writes for ``path``."""
    return f"{socket.gethostname()}:{path}"


@dataclass
class CrossCheck:
    """Outcome of :func:`compare`."""

    compared: int = 0
    problems: list[Problem] = field(default_factory=list)
    not_in_topic: list[int] = field(default_factory=list)


def compare(
    file_records: list[dict[str, Any]], topic_records: list[dict[str, Any]], log_id: str
) -> CrossCheck:
    """Match the topic's records of ``log_id`` to the file's, by sequence and hash."""
    result = CrossCheck()
    in_file = {int(r["sequence"]): r for r in file_records}
    mine = [r for r in topic_records if r.get("log_id") == log_id]
    in_topic = {int(r["sequence"]): r for r in mine}
    for sequence, copy in sorted(in_topic.items()):
        held = in_file.get(sequence)
        if held is None:
            result.problems.append(
                Problem(0, f"sequence {sequence} is on the topic but not in the file (removed)")
            )
        elif held["hash"] != copy["hash"]:
            result.problems.append(
                Problem(0, f"sequence {sequence} differs from its topic copy (rewritten)")
            )
        else:
            result.compared += 1
    result.not_in_topic = sorted(set(in_file) - set(in_topic))
    return result


async def read_topic(settings: Settings) -> list[dict[str, Any]]:
    """Every record of ``<prefix>audit.access`` from the beginning to the current end."""
    topic = f"{settings.topic_prefix}{AUDIT_TOPIC}"
    consumer = AIOKafkaConsumer(**kafka_client_options(settings), enable_auto_commit=False)
    registry = registry_client(settings)
    try:
        await consumer.start()
        partitions = await _partitions(settings, topic)
        if not partitions:
            raise AuditError(f"topic {topic} not found on {settings.kafka_bootstrap}")
        assigned = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        decoder = AvroDecoder(registry)
        records: list[dict[str, Any]] = []
        while await _behind(consumer, ends):
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                for message in batch:
                    records.append(dict(await decoder.decode(message.value)))
        return records
    except (KafkaError, RenkeiError) as exc:
        if isinstance(exc, AuditError):
            raise
        raise AuditError(f"cannot read {topic}: {type(exc).__name__}: {exc}") from exc
    finally:
        await consumer.stop()
        await registry.aclose()


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return True
    return False


async def _partitions(settings: Settings, topic: str) -> list[int]:
    """The partition numbers of ``topic`` (empty when it does not exist); listed first, since
    describing a missing topic could create it on a broker that auto-creates."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    try:
        await admin.start()
        if topic not in await admin.list_topics():
            return []
        (entry,) = await admin.describe_topics([topic])
        return sorted(int(p["partition"]) for p in entry.get("partitions", []))
    finally:
        await admin.close()
