"""A consistent cut of a compacted topic: the latest value per key up to end offsets taken once.

The snapshot job reads ``internal.resident.facts`` this way: every partition's end offset is
taken at one moment (the cut), then everything before it is read, so each resident is counted
once, with the facts the resident stage had published by then, and every table of the snapshot
is counted from the same residents.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from renkei.errors import StackError
from renkei.kafka_security import kafka_client_options
from renkei.settings import Settings

IDLE_LIMIT_S = 30.0


@dataclass(frozen=True)
class Cut:
    """The latest decoded value per key (tombstones drop the key) and where the cut was."""

    topic: str
    values: dict[bytes, Any]
    end_offsets: dict[int, int]
    taken_at: dt.datetime


async def _partitions(settings: Settings, topic: str) -> list[int]:
    """The partitions of ``topic`` (empty when it does not exist; listed first, since
    describing a missing topic could create it on a broker that auto-creates)."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    try:
        await admin.start()
        if topic not in set(await admin.list_topics()):
            return []
        [described] = await admin.describe_topics([topic])
        if described.get("error_code"):
            return []
        return sorted(int(p["partition"]) for p in described["partitions"])
    finally:
        await admin.close()


async def read_cut(
    settings: Settings, topic: str, decode: Callable[[bytes], Awaitable[Any]]
) -> Cut:
    """Read ``topic`` from its beginning to the end offsets taken now (StackError when Kafka
    cannot be reached, or when the topic is missing: run `renkei schemas apply`)."""
    consumer = AIOKafkaConsumer(
        **kafka_client_options(settings),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="renkei-disclosure",
    )
    try:
        await consumer.start()
        partitions = await _partitions(settings, topic)
        if not partitions:
            raise StackError(f"topic {topic} does not exist: run `renkei schemas apply` first")
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        taken_at = dt.datetime.now(dt.UTC)
        ends = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        values: dict[bytes, Any] = {}
        pending = {tp for tp in tps if ends[tp] > 0}
        progress = time.monotonic()
        while pending:
            fetched = await consumer.getmany(*pending, timeout_ms=500, max_records=2000)
            for tp, messages in fetched.items():
                for message in messages:
                    if message.offset >= ends[tp] or message.key is None:
                        continue
                    if message.value is None:
                        values.pop(message.key, None)
                    else:
                        values[message.key] = await decode(message.value)
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
            if fetched:
                progress = time.monotonic()
            elif time.monotonic() - progress > IDLE_LIMIT_S:
                raise StackError(f"no records of {topic} arrived for {IDLE_LIMIT_S:g}s")
        return Cut(topic, values, {tp.partition: ends[tp] for tp in tps}, taken_at)
    except KafkaError as exc:
        raise StackError(
            f"Kafka at {settings.kafka_bootstrap} not reachable ({type(exc).__name__}); "
            "is the stack up? (renkei stack up)"
        ) from exc
    finally:
        await consumer.stop()
