"""Baselines measured on the same broker in the same run as the stages.

L1: raw aiokafka consume → produce of the same bytes (the client's ceiling on this machine).
L2: L1 plus fastavro decode and re-encode of every value (the serde ceiling).
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import fastavro
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from renkei.kafka_security import kafka_client_options
from renkei.serde.wire import HEADER_SIZE
from renkei.settings import Settings


@dataclass(frozen=True)
class Throughput:
    name: str
    events: int
    seconds: float

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
        futures = [await producer.send(topic, value, key=key) for key, value in values]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def passthrough(
    settings: Settings,
    source: str,
    target: str,
    expected: int,
    transform: Callable[[bytes], bytes] | None = None,
    name: str = "L1",
) -> Throughput:
    """Consume ``expected`` records from ``source`` and produce them to ``target``, timed from
    the first record received to the last acknowledgement."""
    consumer = AIOKafkaConsumer(
        source,
        **kafka_client_options(settings),
        group_id=None,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    producer = AIOKafkaProducer(
        **kafka_client_options(settings), linger_ms=20, max_batch_size=512 * 1024
    )
    await consumer.start()
    await producer.start()
    try:
        done, started = 0, 0.0
        pending: list[asyncio.Future[object]] = []
        while done < expected:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batches.values():
                started = started or time.perf_counter()
                for record in records:
                    value = transform(record.value) if transform else record.value
                    pending.append(await producer.send(target, value, key=record.key))
                done += len(records)
            if len(pending) > 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        return Throughput(name, expected, time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()


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
