"""Latency on a loaded pipeline: event freshness at a steady input rate, and alert → list.

After the initial load drained, the bench publishes the simulation's change events at a steady
rate (100/s by default) to the department topics and, every ``alert_every`` seconds, a level-4
alert for the loaded region, lifted half an interval later (one active alert at a time).

- freshness: time from publishing a department record to receiving the first
  ``unified.resident`` record carrying its CloudEvents id (``ce_id``) — the record's way through
  standardize and resident, broker hops included;
- list: time from publishing an alert to receiving the first ``derived.evacuation-support``
  record keyed ``<alert_id>:<region>`` (the list of that region's support candidates).
The clock is the bench's own wall clock on both sides.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from renkei.bench.baselines import partitions_of
from renkei.bench.workers import WorkerPool
from renkei.bench.workload import ALERTS, Workload, alert_value
from renkei.kafka_security import kafka_client_options
from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings

RESIDENT_OUT = "unified.resident"
LISTS_OUT = "derived.evacuation-support"


@dataclass
class LatencySamples:
    """Milliseconds per matched event and alert of one window."""

    freshness_ms: list[float] = field(default_factory=list)
    list_ms: list[float] = field(default_factory=list)
    published: int = 0
    alerts: int = 0
    freshness_sent: list[float] = field(default_factory=list)
    """When each freshness sample's event was published (epoch s), in the same order."""
    list_sent: list[float] = field(default_factory=list)
    """When each list sample's alert was published (epoch s), in the same order."""


@dataclass
class _Clock:
    sent: dict[str, float] = field(default_factory=dict)
    by_key: dict[bytes, list[str]] = field(default_factory=dict)
    """Event ids per record key, in publishing order."""
    alerts: dict[str, float] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    samples: LatencySamples = field(default_factory=LatencySamples)


async def latency_window(
    settings: Settings,
    catalogue: Catalogue,
    pool: WorkerPool,
    workload: Workload,
    *,
    duration: float,
    rate: float,
    alert_every: float,
    tail: float = 15.0,
) -> LatencySamples:
    """Publish for ``duration`` seconds at ``rate`` events/s with alerts; collect latencies."""
    prefix = pool.prefix
    consumer = AIOKafkaConsumer(**kafka_client_options(settings), group_id=None)
    producer = AIOKafkaProducer(**kafka_client_options(settings), linger_ms=0)
    clock = _Clock()
    await consumer.start()
    await producer.start()
    try:
        partitions = await partitions_of(settings, [prefix + RESIDENT_OUT, prefix + LISTS_OUT])
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolve the end positions now, before anything is published
            await consumer.position(tp)
        stop = asyncio.Event()
        reader = asyncio.ensure_future(_read(consumer, prefix, clock, stop))
        async with Publisher(settings, catalogue) as publisher:
            await _publish(producer, publisher, pool, workload, clock, duration, rate, alert_every)
        deadline = time.monotonic() + tail
        while time.monotonic() < deadline and len(clock.samples.list_ms) < len(clock.alerts):
            pool.check_alive()
            await asyncio.sleep(0.5)
        await asyncio.sleep(min(2.0, tail))
        stop.set()
        await reader
        return clock.samples
    finally:
        await consumer.stop()
        await producer.stop()


async def _publish(
    producer: AIOKafkaProducer,
    publisher: Publisher,
    pool: WorkerPool,
    workload: Workload,
    clock: _Clock,
    duration: float,
    rate: float,
    alert_every: float,
) -> None:
    changes = [c for c in workload.changes if c.topic != ALERTS]
    count = min(int(duration * rate), len(changes))
    region = workload.region_codes[0]
    started = time.monotonic()
    next_alert, active, sequence = started + 1.0, "", int(time.time())
    for number, change in enumerate(changes[:count]):
        due = started + number / rate
        now = time.monotonic()
        if due > now:
            await asyncio.sleep(due - now)
        if now >= next_alert:
            pool.check_alive()
            sequence += 1
            active = await _alert(producer, publisher, pool.prefix, workload, clock, sequence)
            next_alert = now + alert_every
        elif active and now >= next_alert - alert_every / 2:
            sequence += 1
            lifted = alert_value(workload.municipality, region, active, "lifted", sequence)
            record = await publisher.prepare(ALERTS, lifted)
            await producer.send(
                pool.prefix + ALERTS, record.value, record.key, None, None, list(record.headers)
            )
            active = ""
        clock.sent[change.event_id] = time.time()
        clock.by_key.setdefault(change.key or b"", []).append(change.event_id)
        await producer.send(
            pool.prefix + change.topic, change.value, change.key, None, None, change.headers
        )
    clock.samples.published = count
    await producer.flush()


async def _alert(
    producer: AIOKafkaProducer,
    publisher: Publisher,
    prefix: str,
    workload: Workload,
    clock: _Clock,
    sequence: int,
) -> str:
    alert_id = uuid.uuid4().hex
    value = alert_value(
        workload.municipality, workload.region_codes[0], alert_id, "issued", sequence
    )
    record = await publisher.prepare(ALERTS, value)
    clock.alerts[alert_id] = time.time()
    await producer.send(prefix + ALERTS, record.value, record.key, None, None, list(record.headers))
    clock.samples.alerts += 1
    return alert_id


async def _read(
    consumer: AIOKafkaConsumer, prefix: str, clock: _Clock, stop: asyncio.Event
) -> None:
    resident_topic = prefix + RESIDENT_OUT
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=200, max_records=2000)
        now = time.time()
        for tp, records in batches.items():
            for record in records:
                if tp.topic == resident_topic:
                    _freshness(clock, record.key, record.headers, now)
                else:
                    _listed(clock, record.key, now)


def _freshness(clock: _Clock, key: bytes | None, headers: object, now: float) -> None:
    """A ``unified.resident`` record carrying event E of its key: E has arrived, and so has
    every event of the same key published before E — the record is the state after all of
    them (the stage keeps the last state of a key per batch: an earlier event's own record
    may have been coalesced away)."""
    for name, value in headers or ():  # type: ignore[attr-defined]
        if name == "ce_id":
            event_id = value.decode("utf-8", "replace")
            if event_id not in clock.sent or event_id in clock.seen:
                return
            published = clock.by_key.get(key or b"", [])
            covered = published[: published.index(event_id) + 1] if event_id in published else []
            for earlier in covered or [event_id]:
                if earlier not in clock.seen:
                    clock.seen.add(earlier)
                    clock.samples.freshness_ms.append((now - clock.sent[earlier]) * 1000)
                    clock.samples.freshness_sent.append(clock.sent[earlier])
            return


def _listed(clock: _Clock, key: bytes | None, now: float) -> None:
    alert_id = (key or b"").decode("utf-8", "replace").split(":", 1)[0]
    sent = clock.alerts.get(alert_id)
    if sent is not None and alert_id not in clock.seen:
        clock.seen.add(alert_id)
        clock.samples.list_ms.append((now - sent) * 1000)
        clock.samples.list_sent.append(sent)
