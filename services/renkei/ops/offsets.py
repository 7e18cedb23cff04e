"""Consumer-group offsets as the broker sees them: committed vs end offset, lag, commit age.

faust has slow-stall bugs (PLATFORM-NOTES): a worker can look alive while its commits stop.
The offsets are therefore read from the broker with clients of their own (an admin client for
the group's commits and topic metadata, a group-less consumer for end offsets), never from
faust's consumer: what a stalled consumer believes is exactly what must not be trusted.

:class:`OffsetReader` serves both the worker's collector (:class:`OffsetsCollector`, every few
seconds, into ``renkei_consumer_*``) and ``renkei status`` (which works while a stage is down).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from renkei.errors import StackError
from renkei.kafka_security import kafka_client_options
from renkei.ops.metrics import StageMetrics
from renkei.settings import Settings

log = logging.getLogger(__name__)

COLLECT_INTERVAL = 5.0
"""Seconds between two offset readings in a worker."""


@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    """One partition of a consumed topic: the group's commit (None: never committed), the log
    start and end offsets."""

    topic: str
    partition: int
    committed: int | None
    start: int
    end: int

    @property
    def lag(self) -> int:
        """Records not yet committed (from the log start when the group never committed)."""
        position = self.committed if self.committed is not None else self.start
        return max(self.end - position, 0)


class OffsetReader:
    """Reads group commits and end offsets; ``async with OffsetReader(settings) as reader``."""

    def __init__(self, settings: Settings, *, request_timeout_ms: int = 10000):
        self._settings = settings
        options = kafka_client_options(settings)
        self._admin = AIOKafkaAdminClient(**options, request_timeout_ms=request_timeout_ms)
        self._consumer = AIOKafkaConsumer(
            **options,
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=request_timeout_ms,
        )
        self._started = False

    async def start(self) -> None:
        try:
            await self._admin.start()
            await self._consumer.start()
        except KafkaError as exc:
            await self.close()
            raise StackError(
                f"Kafka at {self._settings.kafka_bootstrap} not reachable "
                f"({type(exc).__name__}); is the stack up? (renkei stack up)"
            ) from exc
        self._started = True

    async def close(self) -> None:
        await self._consumer.stop()
        await self._admin.close()
        self._started = False

    async def __aenter__(self) -> OffsetReader:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def partition_counts(self, topics: Iterable[str]) -> dict[str, int]:
        """Partitions of those ``topics`` that exist (listed first: describing a missing topic
        may auto-create it on a broker that allows that)."""
        present = sorted(set(await self._admin.list_topics()) & set(topics))
        if not present:
            return {}
        return {
            entry["topic"]: len(entry.get("partitions", []))
            for entry in await self._admin.describe_topics(present)
            if entry.get("error_code", 0) == 0
        }

    async def committed(self, group: str) -> dict[TopicPartition, int]:
        """Every offset ``group`` committed (an empty dict for an unknown group)."""
        offsets = await self._admin.list_consumer_group_offsets(group)
        return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}

    async def log_range(
        self, partitions: list[TopicPartition]
    ) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
        """(start offsets, end offsets) of ``partitions``."""
        if not partitions:
            return {}, {}
        starts = await self._consumer.beginning_offsets(partitions)
        ends = await self._consumer.end_offsets(partitions)
        return starts, ends

    async def group_offsets(self, group: str, topics: Iterable[str]) -> list[PartitionOffsets]:
        """Every partition of ``topics`` (those that exist) with ``group``'s commit on it."""
        counts = await self.partition_counts(topics)
        partitions = [TopicPartition(t, p) for t, n in sorted(counts.items()) for p in range(n)]
        committed = await self.committed(group)
        starts, ends = await self.log_range(partitions)
        return [
            PartitionOffsets(tp.topic, tp.partition, committed.get(tp), starts[tp], ends[tp])
            for tp in partitions
        ]

    async def committed_topics(self, group: str) -> set[str]:
        """Topics ``group`` has commits on (internal topics a stage consumes included)."""
        return {tp.topic for tp in await self.committed(group)}


class CommitClock:
    """When each partition's committed offset last moved (monotonic seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._seen: dict[tuple[str, int], tuple[int | None, float]] = {}

    def age(self, topic: str, partition: int, committed: int | None) -> float:
        """Seconds since ``committed`` last changed (0 the first time a partition is seen)."""
        now = self._clock()
        key = (topic, partition)
        previous = self._seen.get(key)
        if previous is None or previous[0] != committed:
            self._seen[key] = (committed, now)
            return 0.0
        return now - previous[1]


class OffsetsCollector:
    """Sets ``renkei_consumer_*`` for the partitions a worker is assigned.

    ``assigned()`` gives the Kafka (topic, partition) pairs of the stage's consumed topics
    assigned to this worker; ``contract_name`` maps a Kafka topic back to its contract name
    (the metric label).
    """

    def __init__(
        self,
        settings: Settings,
        group: str,
        metrics: StageMetrics,
        *,
        assigned: Callable[[], set[tuple[str, int]]],
        contract_name: Callable[[str], str],
    ):
        self._settings = settings
        self._group = group
        self._metrics = metrics
        self._assigned = assigned
        self._contract_name = contract_name
        self._reader: OffsetReader | None = None
        self._clock = CommitClock()
        self._reported: set[tuple[str, int]] = set()

    async def collect(self) -> None:
        """One reading; a broker error is logged and retried at the next tick."""
        try:
            await self._collect()
        except (KafkaError, StackError, OSError) as exc:
            log.warning("%s: offsets not read: %s", self._group, type(exc).__name__)
            await self.close()  # reconnect next time

    async def _collect(self) -> None:
        assigned = self._assigned()
        for topic, partition in self._reported - assigned:
            self._metrics.forget_partition(self._contract_name(topic), partition)
        self._reported = set(assigned)
        if not assigned:
            return
        if self._reader is None:
            self._reader = OffsetReader(self._settings)
            await self._reader.start()
        partitions = [TopicPartition(t, p) for t, p in sorted(assigned)]
        committed = await self._reader.committed(self._group)
        starts, ends = await self._reader.log_range(partitions)
        for tp in partitions:
            offsets = PartitionOffsets(
                tp.topic, tp.partition, committed.get(tp), starts[tp], ends[tp]
            )
            age = self._clock.age(tp.topic, tp.partition, offsets.committed)
            position = offsets.end - offsets.lag
            self._metrics.set_offsets(
                self._contract_name(tp.topic), tp.partition, position, offsets.end, age
            )

    async def close(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            await reader.close()
