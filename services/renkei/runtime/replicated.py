"""A replicated, read-to-the-end table of whole topics: every worker reads every partition.

faust's GlobalTable can loop forever in recovery with several workers (PLATFORM-NOTES), so
reference data is read with a plain consumer instead: no consumer group and no commits; every
partition of the topics is assigned, read from the beginning, and :meth:`ReplicatedTopics.catch_up`
returns only when the end offsets taken at its start are reached — the worker serves after that.
:meth:`ReplicatedTopics.follow` then keeps reading in the background, so records published while
the worker runs reach it without a restart.

What a record means is the caller's business: ``on_batch`` receives
``(topic, key, value, headers)`` (raw bytes, value None for a tombstone) in offset order per
partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from renkei.errors import StackError
from renkei.kafka_security import kafka_client_options
from renkei.runtime.provision import _partition_counts as partition_counts
from renkei.settings import Settings

log = logging.getLogger(__name__)

Triple = tuple[str, bytes | None, bytes | None, dict[str, bytes]]
OnBatch = Callable[[list[Triple]], Awaitable[None]]


class ReplicatedTopics:
    """Reads ``topics`` (Kafka names) whole into ``on_batch``; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        topics: Sequence[str],
        on_batch: OnBatch,
        *,
        client_id: str = "renkei-replicated",
    ) -> None:
        self._settings = settings
        self._topics = tuple(topics)
        self._on_batch = on_batch
        self._client_id = client_id
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = False
        self.records_read = 0

    async def catch_up(self, timeout: float = 120.0) -> int:
        """Start, read every partition to the end offsets of now; the records read.

        Raises StackError when the broker is unreachable, a topic does not exist, or the end is
        not reached within ``timeout`` seconds.
        """
        self._consumer = AIOKafkaConsumer(  # made here: aiokafka wants a running loop
            **kafka_client_options(self._settings),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=self._client_id,
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        try:
            await self._consumer.start()
        except KafkaError as exc:
            await self._consumer.stop()
            raise StackError(
                f"Kafka at {self._settings.kafka_bootstrap} not reachable ({type(exc).__name__})"
            ) from exc
        self._started = True
        partitions = await self._partitions()
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)
        ends = await self._consumer.end_offsets(partitions)
        deadline = time.monotonic() + timeout
        while await self._behind(ends):
            if time.monotonic() > deadline:
                raise StackError(
                    f"reading {', '.join(self._topics)} to the end took over {timeout:.0f} s"
                )
            await self._read_once(timeout_ms=500)
        log.info("read %s to the end: %d records", ", ".join(self._topics), self.records_read)
        return self.records_read

    def follow(self) -> None:
        """Keep reading in the background (after :meth:`catch_up`)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._follow())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._started and self._consumer is not None:
            await self._consumer.stop()
            self._started = False

    async def _follow(self) -> None:
        while True:
            try:
                await self._read_once(timeout_ms=1000)
            except asyncio.CancelledError:
                raise
            except KafkaError as exc:  # the consumer reconnects by itself; say so and go on
                log.warning("reading %s: %s", ", ".join(self._topics), type(exc).__name__)
                await asyncio.sleep(1.0)

    def _started_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise StackError("replicated topics read before catch_up()")
        return self._consumer

    async def _read_once(self, timeout_ms: int) -> None:
        batches = await self._started_consumer().getmany(timeout_ms=timeout_ms, max_records=10_000)
        triples: list[Triple] = [
            (tp.topic, message.key, message.value, dict(message.headers or ()))
            for tp, messages in batches.items()
            for message in messages
        ]
        if triples:
            self.records_read += len(triples)
            await self._on_batch(triples)

    async def _behind(self, ends: dict[TopicPartition, int]) -> bool:
        consumer = self._started_consumer()
        for tp, end in ends.items():
            if int(await consumer.position(tp)) < end:
                return True
        return False

    async def _partitions(self) -> list[TopicPartition]:
        counts = await partition_counts(self._settings, list(self._topics))
        missing = [topic for topic in self._topics if not counts.get(topic)]
        if missing:
            raise StackError(
                f"topic(s) {', '.join(missing)} do not exist: run `renkei schemas apply` first"
            )
        return [TopicPartition(t, p) for t in self._topics for p in range(counts[t])]
