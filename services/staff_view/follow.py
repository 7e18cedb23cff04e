"""Feeding the state: one subscriber (the Renkei subscriber SDK) per view topic, and load
tracking.

The view keeps nothing on disk, so each start reads both compacted views from the beginning
with consumer groups of its own (a fresh group has no committed offset). Until a source has
delivered what its topic held at start, the page says it is still loading — an empty list of
alerts must never be shown as "no alerts" merely because the view has not read them yet.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from renkei.errors import RenkeiError
from renkei.kafka_security import kafka_client_options
from renkei.schemas.catalogue import Catalogue, renamed
from renkei.schemas.jsonform import to_json
from renkei.settings import Settings
from renkei.subscribe import Subscriber
from staff_view.state import ViewState

log = logging.getLogger("staff_view")
RETRY_SECONDS = 5.0


@dataclass
class CatchUp:
    """Whether a source has delivered what its topic held when reading started."""

    idle_seconds: float
    targets: dict[int, int] | None = None
    reached: dict[int, int] = field(default_factory=dict)
    last_activity: float = 0.0

    def start(self, targets: dict[int, int], now: float) -> None:
        """Reading starts; ``targets`` are the end offsets per partition at this moment."""
        self.targets = dict(targets)
        self.last_activity = now

    def seen(self, partition: int, offset: int, now: float) -> None:
        """A record at ``offset`` of ``partition`` was folded."""
        self.reached[partition] = max(self.reached.get(partition, 0), offset + 1)
        self.last_activity = now

    def loaded(self, now: float) -> bool:
        """Every partition reached its target — or nothing came for ``idle_seconds`` (the
        subscriber skips a record it cannot decode, so a bad last record is never seen)."""
        if self.targets is None:
            return False
        if all(self.reached.get(p, 0) >= end for p, end in self.targets.items()):
            return True
        return now - self.last_activity >= self.idle_seconds


@dataclass
class Source:
    """One followed view topic, the platform topic it is a view of, and what the page says
    about it."""

    topic: str
    source_topic: str
    catch_up: CatchUp
    records: int = 0
    skipped: int = 0
    error: str | None = None

    def status(self, now: float) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "source_topic": self.source_topic,
            "records": self.records,
            "skipped": self.skipped,
            "loaded": self.catch_up.loaded(now),
            "error": self.error,
        }


class ViewSubscriber(Subscriber):
    """The SDK's subscriber without commits: the view re-reads both topics from the beginning
    at every start, in a group of its own, so committed offsets would never be used — and a
    commit per record (a broker round trip each) made a start read only ~1,000 records/s."""

    async def commit(self) -> None:
        return None


async def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    """End offset of each partition of ``topic`` now ({} when the topic does not exist yet)."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    consumer = AIOKafkaConsumer(**kafka_client_options(settings), group_id=None)
    await admin.start()
    try:
        # Listing first: describing a missing topic could auto-create it.
        if topic not in await admin.list_topics():
            return {}
        [described] = await admin.describe_topics([topic])
        partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        await consumer.start()
        ends = await consumer.end_offsets(partitions)
        return {tp.partition: int(offset) for tp, offset in ends.items()}
    finally:
        await consumer.stop()
        await admin.close()


def source_catalogue(settings: Settings, catalogue: Catalogue, topic: str) -> Catalogue:
    """A one-topic catalogue naming the Kafka topic of ``topic`` (``settings.topic_prefix``)."""
    spec = catalogue.get(topic)
    kafka_topic = f"{settings.topic_prefix}{topic}"
    return Catalogue(root=catalogue.root, topics={kafka_topic: renamed(spec, kafka_topic)})


async def follow(
    settings: Settings,
    catalogue: Catalogue,
    source: Source,
    state: ViewState,
    group_id: str,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Fold every record of ``source.topic`` into ``state``, forever; reconnect on errors."""
    topics = source_catalogue(settings, catalogue, source.topic)
    kafka_topic = next(iter(topics.topics))
    while True:
        try:
            source.catch_up.start(await end_offsets(settings, kafka_topic), clock())
            async with ViewSubscriber(
                settings, topics, kafka_topic, group_id=group_id
            ) as subscriber:
                source.error = None
                async for record in subscriber:
                    value = None if record.value is None else to_json(record.value.model_dump())
                    state.apply(source.source_topic, record.key, value)
                    source.records += 1
                    source.skipped = subscriber.skipped
                    source.catch_up.seen(record.partition, record.offset, clock())
        except (KafkaError, RenkeiError, OSError) as exc:
            # The class name only: messages of some clients repeat record contents.
            source.error = type(exc).__name__
            log.warning("%s: %s; retrying in %.0fs", source.topic, source.error, RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)
