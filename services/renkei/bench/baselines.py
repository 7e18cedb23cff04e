"""Baselines measured on the same broker in the same run as the stages.

L1: raw aiokafka consume → produce of the same bytes (the client's ceiling on this machine).
L2: L1 plus fastavro decode and re-encode of every value (the serde ceiling).

Both read a prefilled topic in a loop (back to the beginning at its end), so a steady state of
any length needs only a modest prefill; the records are served from the page cache, as a
stage's recent input is.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import fastavro
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from renkei.kafka_security import kafka_client_options
from renkei.serde.wire import HEADER_SIZE
from renkei.settings import Settings

MAX_PENDING = 20_000
"""Unacknowledged sends before the loop waits for the broker (bounded memory)."""


@dataclass(frozen=True)
class Throughput:
    name: str
    events: int
    seconds: float
    cpu_s: float = 0.0
    """CPU seconds of the process that moved the records (L1/L2: the bench itself)."""

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def fill(settings: Settings, topic: str, values: list[tuple[bytes, bytes]]) -> None:
    """Write (key, value) pairs to ``topic`` as fast as the producer allows."""
    producer = AIOKafkaProducer(
        **kafka_client_options(settings), linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        pending = []
        for key, value in values:
            pending.append(await producer.send(topic, value, key=key))
            if len(pending) >= MAX_PENDING:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def passthrough_windows(
    settings: Settings,
    source: str,
    target: str,
    *,
    windows: int,
    duration: float,
    warmup: float,
    transform: Callable[[bytes], bytes] | None = None,
    name: str = "L1",
) -> list[Throughput]:
    """Consume ``source`` in a loop and produce every record to ``target``; after ``warmup``
    seconds, ``windows`` consecutive windows of ``duration`` seconds, each counted from its
    first consumed record to the acknowledgement of its last sent one."""
    consumer = AIOKafkaConsumer(
        **kafka_client_options(settings),
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    producer = AIOKafkaProducer(
        **kafka_client_options(settings), linger_ms=20, max_batch_size=512 * 1024
    )
    await consumer.start()
    await producer.start()
    try:
        partitions = await partitions_of(settings, [source])
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        loop = _Loop(consumer, producer, target, transform, ends)
        await loop.run_for(warmup)
        measured = []
        for _ in range(windows):
            cpu = time.process_time()
            events, seconds = await loop.run_for(duration)
            measured.append(Throughput(name, events, seconds, time.process_time() - cpu))
        return measured
    finally:
        await consumer.stop()
        await producer.stop()


@dataclass
class _Loop:
    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer
    target: str
    transform: Callable[[bytes], bytes] | None
    ends: dict[TopicPartition, int]

    async def run_for(self, seconds: float) -> tuple[int, float]:
        """(records passed through, seconds until all were acknowledged)."""
        started = time.perf_counter()
        done = 0
        pending: list[asyncio.Future[object]] = []
        while time.perf_counter() - started < seconds:
            batches = await self.consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batches.values():
                for record in records:
                    value = self.transform(record.value) if self.transform else record.value
                    pending.append(await self.producer.send(self.target, value, key=record.key))
                done += len(records)
            if len(pending) >= MAX_PENDING:
                await asyncio.gather(*pending)
                pending.clear()
            await self._rewind_finished()
        await asyncio.gather(*pending)
        return done, time.perf_counter() - started

    async def _rewind_finished(self) -> None:
        finished = [
            tp
            for tp, end in self.ends.items()
            if end > 0 and await self.consumer.position(tp) >= end
        ]
        if finished:
            await self.consumer.seek_to_beginning(*finished)


async def partitions_of(settings: Settings, topics: list[str]) -> list[TopicPartition]:
    """Every partition of ``topics`` (admin metadata: a new topic may not be in a client's)."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return [
        TopicPartition(entry["topic"], p["partition"])
        for entry in described
        for p in entry.get("partitions", [])
    ]


def reencoder(schema: dict[str, object]) -> Callable[[bytes], bytes]:
    """Decode a wire-format value with fastavro and encode it again (L2's per-record work)."""
    parsed = fastavro.parse_schema(schema)

    def transform(value: bytes) -> bytes:
        datum = fastavro.schemaless_reader(io.BytesIO(value[HEADER_SIZE:]), parsed, None)
        out = io.BytesIO()
        out.write(value[:HEADER_SIZE])
        fastavro.schemaless_writer(out, parsed, datum)
        return out.getvalue()

    return transform
