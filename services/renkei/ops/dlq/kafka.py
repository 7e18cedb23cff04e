"""Kafka I/O of the DLQ tools: reading DLQ topics, the replay memory, producing, committing.

Reading uses a consumer without a group (nothing is committed by looking). The replay memory is
written by a consumer that only commits (manual assignment, never joins its group).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from renkei.errors import PublishError, StackError
from renkei.kafka_security import kafka_client_options
from renkei.ops.dlq.entries import DlqEntry
from renkei.ops.dlq.memory import GROUP_PREFIX, ReplayMemory, memory_groups
from renkei.settings import Settings

IDLE_LIMIT = 30.0
"""Seconds a scan waits without progress before it gives up (the broker stopped answering)."""


def client_options(settings: Settings) -> dict[str, Any]:
    """Connection options every client of the DLQ tools uses (bootstrap and security)."""
    return kafka_client_options(settings)


def unreachable(settings: Settings, exc: BaseException) -> StackError:
    return StackError(
        f"Kafka at {settings.kafka_bootstrap} not reachable ({type(exc).__name__}); is it up?"
    )


class DlqReader:
    """Reads DLQ topics from given offsets up to their end when the read began."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._consumer = AIOKafkaConsumer(
            **client_options(settings),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self._admin = AIOKafkaAdminClient(**client_options(settings))
        self._groups: list[str] | None = None
        self.ends: dict[int, int] = {}
        """partition → end offset taken when the last single-topic :meth:`scan` began."""
        self.starts: dict[int, int] = {}
        """partition → first offset that scan read."""

    async def __aenter__(self) -> DlqReader:
        try:
            await self._consumer.start()
            await self._admin.start()
        except KafkaError as exc:
            await self.__aexit__()
            raise unreachable(self.settings, exc) from exc
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._consumer.stop()
        await self._admin.close()

    async def memory(self, dlq_topic: str) -> ReplayMemory:
        """The committed offsets of ``dlq_topic``'s replay groups (``memory.py``)."""
        try:
            if self._groups is None:
                listed = await self._admin.list_consumer_groups()
                self._groups = [str(g[0]) for g in listed if str(g[0]).startswith(GROUP_PREFIX)]
            groups = memory_groups(dlq_topic, self._groups)
            offsets: dict[str | None, dict[int, int]] = {}
            for reason, group in groups.items():
                found = await self._admin.list_consumer_group_offsets(group)
                offsets[reason] = {
                    tp.partition: meta.offset
                    for tp, meta in found.items()
                    if tp.topic == dlq_topic and meta.offset >= 0
                }
        except KafkaError as exc:
            raise unreachable(self.settings, exc) from exc
        unfiltered = offsets.pop(None, {})
        return ReplayMemory(unfiltered, {str(r): o for r, o in offsets.items() if o})

    async def topics(self) -> set[str]:
        return set(await self._consumer.topics())

    async def partitions(self, topic: str) -> list[int]:
        """The partitions of ``topic`` ([] when it does not exist)."""
        return (await self.describe(topic))[0]

    async def describe(self, topic: str) -> tuple[list[int], int]:
        """(partitions, Kafka error code) of ``topic``: 0 found, 3 unknown topic, 29 this user
        may not describe it (no ACL)."""
        try:
            [described] = await self._admin.describe_topics([topic])
        except KafkaError as exc:
            raise unreachable(self.settings, exc) from exc
        code = int(described.get("error_code") or 0)
        if code:
            return [], code
        return sorted(int(p["partition"]) for p in described["partitions"]), 0

    async def scan(
        self,
        topic: str,
        start: Callable[[int], int],
        partitions: list[int] | None = None,
    ) -> AsyncGenerator[list[DlqEntry], None]:
        """Batches of ``topic``'s records from ``start(partition)`` (clamped to the oldest kept)
        to each partition's end offset taken now; :attr:`starts` and :attr:`ends` hold them."""
        chosen = partitions if partitions is not None else await self.partitions(topic)
        tps = [TopicPartition(topic, p) for p in chosen]
        ranges: dict[TopicPartition, tuple[int, int]] = {}
        self.starts, self.ends = {}, {}
        async for batch in self.scan_partitions(tps, lambda tp: start(tp.partition), ranges):
            self._remember(ranges)
            yield batch
        self._remember(ranges)

    def _remember(self, ranges: dict[TopicPartition, tuple[int, int]]) -> None:
        self.starts = {tp.partition: first for tp, (first, _) in ranges.items()}
        self.ends = {tp.partition: end for tp, (_, end) in ranges.items()}

    async def scan_topics(self, topics: list[str]) -> AsyncGenerator[list[DlqEntry], None]:
        """Every record of ``topics``, read in one assignment (one by one, each new
        assignment costs aiokafka's fetcher about half a second)."""
        tps = [TopicPartition(t, p) for t in topics for p in await self.partitions(t)]
        async for batch in self.scan_partitions(tps, lambda tp: 0):
            yield batch

    async def scan_partitions(
        self,
        tps: list[TopicPartition],
        start: Callable[[TopicPartition], int],
        ranges: dict[TopicPartition, tuple[int, int]] | None = None,
    ) -> AsyncGenerator[list[DlqEntry], None]:
        """Batches of records of ``tps`` from ``start(tp)`` to the end offsets taken now;
        ``ranges`` (when given) receives each partition's (first offset, end offset)."""
        self._consumer.assign(tps)
        oldest = await self._consumer.beginning_offsets(tps) if tps else {}
        ends = await self._consumer.end_offsets(tps) if tps else {}
        ranges = {} if ranges is None else ranges
        pending = set()
        for tp in tps:
            first = max(start(tp), oldest[tp])
            ranges[tp] = (first, ends[tp])
            if first < ends[tp]:
                self._consumer.seek(tp, first)
                pending.add(tp)
        progress = time.monotonic()
        while pending:
            fetched = await self._consumer.getmany(*pending, timeout_ms=500, max_records=500)
            batch = [
                _entry(message)
                for tp, messages in fetched.items()
                for message in messages
                if message.offset < ends[tp]
            ]
            for tp in list(pending):
                if await self._consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
            if batch:
                progress = time.monotonic()
                yield batch
            elif time.monotonic() - progress > IDLE_LIMIT:
                raise StackError(f"no records arrived for {IDLE_LIMIT:g}s while reading DLQ topics")


def _entry(message: Any) -> DlqEntry:
    return DlqEntry(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=tuple((name, value or b"") for name, value in message.headers or ()),
        timestamp_ms=message.timestamp,
    )


class MemoryWriter:
    """Commits replay positions for one replay group (manual assignment, never joins)."""

    def __init__(self, settings: Settings, group: str, topic: str):
        self.settings = settings
        self.group = group
        self.topic = topic
        self._consumer = AIOKafkaConsumer(
            **client_options(settings), group_id=group, enable_auto_commit=False
        )
        self._assigned: set[TopicPartition] = set()

    async def __aenter__(self) -> MemoryWriter:
        try:
            await self._consumer.start()
        except KafkaError as exc:
            await self._consumer.stop()
            raise unreachable(self.settings, exc) from exc
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._consumer.stop()

    async def commit(self, offsets: Mapping[int, int]) -> None:
        """Commit ``offsets`` (partition → next offset not yet replayed)."""
        if not offsets:
            return
        tps = {TopicPartition(self.topic, p): offset for p, offset in offsets.items()}
        if not set(tps) <= self._assigned:
            self._assigned |= set(tps)
            self._consumer.assign(list(self._assigned))
        try:
            await self._consumer.commit(tps)
        except KafkaError as exc:
            raise StackError(
                f"could not record the replay position in group {self.group} "
                f"({type(exc).__name__}); the records were sent: a next replay sends them "
                "again, and the stages ignore the repeat"
            ) from exc


class Republisher:
    """Sends replayed records, all acknowledged (acks=all, idempotent producer) per batch."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._producer = AIOKafkaProducer(
            **client_options(settings), acks="all", enable_idempotence=True
        )

    async def __aenter__(self) -> Republisher:
        try:
            await self._producer.start()
        except KafkaError as exc:
            await self._producer.stop()
            raise unreachable(self.settings, exc) from exc
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._producer.stop()

    async def partitions(self, topic: str) -> int:
        return len(await self._producer.partitions_for(topic))

    async def send_all(
        self, topic: str, records: list[tuple[bytes | None, bytes | None, int | None, Any]]
    ) -> None:
        """Send (key, value, partition, headers) records; returns once all are acknowledged."""
        try:
            futures = [
                await self._producer.send(topic, value, key=key, partition=p, headers=headers)
                for key, value, p, headers in records
            ]
            await asyncio.gather(*futures)
        except KafkaError as exc:
            raise PublishError(
                f"{topic}: the broker did not acknowledge a replayed record "
                f"({type(exc).__name__}); nothing of this batch is marked replayed"
            ) from exc
