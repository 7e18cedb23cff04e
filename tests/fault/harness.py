"""Shared machinery of the fault-injection scenarios: loads, publishing, workers, accounting.

A scenario publishes a simulated load to its own topic prefix, runs real workers
(``renkei worker STAGE`` subprocesses), injects its fault, and then accounts for every record:

- **published / acked**: records sent to department topics, and the broker's acks for them;
- **arrived**: acked source positions (topic, partition, offset) found again downstream —
  in ``std_meta`` of a standardized record or in the ``renkei.dlq.*`` headers of a DLQ record;
- **duplicates absorbed**: output records beyond one per source position (at-least-once
  redelivery), which the latest-value-per-key comparison shows to be harmless;
- **lost**: acked positions that never arrived.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import signal
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from renkei.bench.stages import prepare_prefixed
from renkei.publish.producer import PreparedRecord, Publisher
from renkei.schemas.catalogue import Catalogue, TopicSpec
from renkei.serde.wire import unframe
from renkei.settings import Settings
from tests.contract_lists import DEPARTMENT_TOPICS
from tests.runtime.kafka_helpers import WorkerProcess

MUNICIPALITY = "011011"  # 札幌市中央区
ENVELOPE = ("event_id", "event_type", "recorded_at", "effective_date", "sequence")
"""Fields naming the input that last changed an output (its trigger), not the output's content:
after a redelivery or a late event the same content may come out last with another trigger."""

_port_lock = threading.Lock()
_used: set[int] = set()


def web_port() -> int:
    """A free worker web port of this suite's range (7700-7799), starting at a per-process
    offset so two suite runs at once do not pick the same one."""
    with _port_lock:
        start = os.getpid() % 100
        for step in range(100):
            port = 7700 + (start + step) % 100
            if port in _used:
                continue
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _used.add(port)
            return port
    raise RuntimeError("no free worker web port in 7700-7799")


def new_prefix(scenario: str) -> str:
    return f"fault-{scenario}-{uuid.uuid4().hex[:6]}."


def prefixed_catalogue(catalogue: Catalogue, prefix: str) -> Catalogue:
    """The catalogue with every topic (hence subject) under ``prefix``."""
    topics: dict[str, TopicSpec] = {}
    for spec in catalogue:
        name = prefix + spec.topic
        topics[name] = replace(spec, topic=name, metadata={**spec.metadata, "topic": name})
    return replace(catalogue, topics=topics)


@cache
def simulated(residents: int, events: int, seed: int) -> tuple[tuple[str, dict[str, Any]], ...]:
    """(department topic, JSON-form value) of a deterministic simulator run."""
    from renkei.simulator import Simulation

    run = Simulation(MUNICIPALITY, residents=residents, events=events, seed=seed)
    return tuple((event.topic, event.value) for event in run)


async def prepare_topics(settings: Settings, catalogue: Catalogue, prefix: str) -> None:
    """Every catalogue topic and subject under ``prefix`` (as ``renkei schemas apply``)."""
    await prepare_prefixed(settings, catalogue, prefix)


async def encode_load(
    settings: Settings,
    catalogue: Catalogue,
    prefix: str,
    events: Iterable[tuple[str, dict[str, Any]]],
) -> list[PreparedRecord]:
    """Validate and encode ``events`` for the prefixed topics (schema ids of ``settings``'
    registry), before any clock starts."""
    records = []
    async with Publisher(settings, prefixed_catalogue(catalogue, prefix)) as publisher:
        for topic, value in events:
            records.append(await publisher.prepare(prefix + topic, value))
    return records


@dataclass
class PublishResult:
    """What a publishing run sent and what the broker acknowledged."""

    published: int = 0
    acked: set[tuple[str, int, int]] = field(default_factory=set)
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)


async def publish(
    settings: Settings,
    records: Iterable[PreparedRecord],
    *,
    rate: float | None = None,
    result: PublishResult | None = None,
    stop: threading.Event | None = None,
    max_in_flight: int = 20_000,
) -> PublishResult:
    """Send ``records`` (acks=all, idempotent), at about ``rate`` per second if given.

    Every ack is recorded as (topic, partition, offset); a record whose delivery failed counts
    as failed (it was never acknowledged, so it is not expected downstream).
    """
    result = result or PublishResult()
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=10,
        max_batch_size=256 * 1024,
        request_timeout_ms=30_000,
        client_id="renkei-fault-publisher",
    )
    await producer.start()
    pending: set[asyncio.Future[Any]] = set()

    def done(future: asyncio.Future[Any]) -> None:
        pending.discard(future)
        if future.cancelled() or future.exception() is not None:
            result.failed += 1
            result.errors[type(future.exception()).__name__] += 1
        else:
            meta = future.result()
            result.acked.add((meta.topic, meta.partition, meta.offset))

    started = time.monotonic()
    try:
        for index, record in enumerate(records):
            if stop is not None and stop.is_set():
                break
            if rate:
                ahead = started + index / rate - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)
            while len(pending) >= max_in_flight:
                await asyncio.sleep(0.01)
            future = await _send(producer, record, result)
            if future is not None:
                pending.add(future)
                future.add_done_callback(done)
            result.published += 1
        await asyncio.gather(*list(pending), return_exceptions=True)
    finally:
        await producer.stop()
    return result


async def _send(
    producer: AIOKafkaProducer, record: PreparedRecord, result: PublishResult
) -> asyncio.Future[Any] | None:
    """Queue one record, retrying while the producer's buffer is full or metadata is stale."""
    for attempt in range(60):
        try:
            future: asyncio.Future[Any] = await producer.send(
                record.topic, value=record.value, key=record.key, headers=record.headers
            )
            return future
        except Exception as exc:  # broker failover in progress: retry the enqueue
            result.errors[f"enqueue {type(exc).__name__}"] += 1
            await asyncio.sleep(min(0.2 * (attempt + 1), 2.0))
    result.failed += 1
    return None


class BackgroundPublisher:
    """:func:`publish` in a thread of its own, so a scenario can kill things meanwhile."""

    def __init__(self, settings: Settings, records: list[PreparedRecord], rate: float | None):
        self.result = PublishResult()
        self.stop_event = threading.Event()
        self.error: BaseException | None = None

        def run() -> None:
            try:
                asyncio.run(
                    publish(settings, records, rate=rate, result=self.result, stop=self.stop_event)
                )
            except BaseException as exc:
                self.error = exc

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def join(self, timeout: float = 600.0) -> PublishResult:
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.stop_event.set()
            self._thread.join(60)
            raise AssertionError(f"publishing did not finish within {timeout}s")
        if self.error is not None:
            raise self.error
        return self.result


@dataclass(frozen=True, slots=True)
class RawRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


class SchemaCache:
    """Writer schemas by id from a registry (sync; test-side decoding only)."""

    def __init__(self, registry_url: str):
        self.url = registry_url.rstrip("/")
        self._schemas: dict[int, Any] = {}

    def parsed(self, schema_id: int) -> Any:
        schema = self._schemas.get(schema_id)
        if schema is None:
            text = httpx.get(f"{self.url}/schemas/ids/{schema_id}", timeout=10).json()["schema"]
            schema = self._schemas[schema_id] = fastavro.parse_schema(json.loads(text))
        return schema

    def decode(self, value: bytes) -> dict[str, Any]:
        schema_id, body = unframe(value)
        datum: dict[str, Any] = fastavro.schemaless_reader(
            io.BytesIO(body), self.parsed(schema_id), None
        )
        return datum


async def read_topics(
    settings: Settings, topics: list[str], *, timeout: float = 180.0
) -> list[RawRecord]:
    """Every record of the existing ``topics`` up to their current end offsets."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        present = set(await admin.list_topics())
        described = await admin.describe_topics([t for t in topics if t in present])
        partitions = [
            TopicPartition(entry["topic"], p["partition"])
            for entry in described
            for p in entry.get("partitions", [])
        ]
        if not partitions:
            return []
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        wanted = {tp: end for tp, end in ends.items() if end > 0}
        records: list[RawRecord] = []
        deadline = time.monotonic() + timeout
        while wanted and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000, max_records=20_000)
            for tp, batch in batches.items():
                for r in batch:
                    if r.offset < ends[tp]:
                        records.append(
                            RawRecord(
                                r.topic,
                                r.partition,
                                r.offset,
                                r.key,
                                r.value,
                                tuple((k, v) for k, v in r.headers or ()),
                            )
                        )
                if batch and batch[-1].offset + 1 >= ends[tp]:
                    wanted.pop(tp, None)
        if wanted:  # a partial read would compare or count the wrong thing
            raise AssertionError(f"could not read {sorted(map(str, wanted))} within {timeout}s")
        return records
    finally:
        await consumer.stop()
        await admin.close()


async def end_offsets(settings: Settings, topics: list[str]) -> dict[tuple[str, int], int]:
    """End offset of every partition of ``topics``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        described = await admin.describe_topics(topics)
        partitions = [
            TopicPartition(e["topic"], p["partition"])
            for e in described
            for p in e.get("partitions", [])
        ]
        ends = await consumer.end_offsets(partitions)
        return {(tp.topic, tp.partition): end for tp, end in ends.items()}
    finally:
        await consumer.stop()
        await admin.close()


async def group_lag(settings: Settings, group: str, topics: list[str]) -> int:
    """Records of ``topics`` not yet committed by consumer group ``group``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        done = {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}
    finally:
        await admin.close()
    ends = await end_offsets(settings, topics)
    return sum(max(end - max(done.get(tp, 0), 0), 0) for tp, end in ends.items())


def arrived_positions(
    records: list[RawRecord], schemas: SchemaCache
) -> tuple[set[tuple[str, int, int]], int]:
    """Source positions named by std outputs (``std_meta``) and DLQ records (headers); and
    how many records named them (more than positions: duplicates)."""
    positions: set[tuple[str, int, int]] = set()
    count = 0
    for record in records:
        position = _dlq_position(record)
        if position is None:
            if record.value is None:
                continue
            meta = schemas.decode(record.value).get("std_meta")
            if meta is None:
                continue
            position = (meta["source_topic"], meta["source_partition"], meta["source_offset"])
        positions.add(position)
        count += 1
    return positions, count


def _dlq_position(record: RawRecord) -> tuple[str, int, int] | None:
    headers = {k: v.decode() for k, v in record.headers if k.startswith("renkei.dlq.")}
    if "renkei.dlq.topic" not in headers:
        return None
    return (
        headers["renkei.dlq.topic"],
        int(headers["renkei.dlq.partition"]),
        int(headers["renkei.dlq.offset"]),
    )


def std_topics(prefix: str) -> list[str]:
    return [f"{prefix}std.{t}" for t in DEPARTMENT_TOPICS]


def dlq_topics(prefix: str) -> list[str]:
    return [f"{prefix}dlq.{t}" for t in DEPARTMENT_TOPICS]


def latest_per_key(
    records: list[RawRecord], schemas: SchemaCache, prefix: str, drop: tuple[str, ...] = ()
) -> dict[tuple[str, str], Any]:
    """(contract topic, key) → the last value, without ``drop`` fields (and ``std_meta``,
    which names the source offset and the time of standardization)."""
    latest: dict[tuple[str, str], Any] = {}
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        if record.value is None or record.key is None:
            continue
        value = schemas.decode(record.value)
        for name in (*drop, "std_meta"):
            value.pop(name, None)
        latest[(record.topic.removeprefix(prefix), record.key.decode())] = value
    return latest


def differences(expected: dict[Any, Any], actual: dict[Any, Any]) -> list[str]:
    """Keys missing, extra, or with another latest value (at most 10 described)."""
    problems = [f"missing {k}" for k in expected.keys() - actual.keys()]
    problems += [f"extra {k}" for k in actual.keys() - expected.keys()]
    problems += [
        f"differs {k}" for k in expected.keys() & actual.keys() if expected[k] != actual[k]
    ]
    return sorted(problems)[:10] + ([f"... {len(problems)} in all"] if len(problems) > 10 else [])


@dataclass
class Tally:
    """The line every scenario prints."""

    scenario: str
    published: int
    acked: int
    arrived: int
    duplicates: int
    lost: int
    note: str = ""
    differing: int | None = None
    """Keys whose latest output is missing or differs from the clean run's (when compared)."""

    def line(self) -> str:
        text = (
            f"FAULT {self.scenario}: published {self.published} / acked {self.acked} / "
            f"arrived {self.arrived} / duplicates absorbed {self.duplicates} / lost {self.lost}"
        )
        if self.differing is not None:
            text += f" / output keys differing from the clean run {self.differing}"
        return text + (f" ({self.note})" if self.note else "")

    def report(self, results_file: Path | None = None) -> None:
        print(self.line(), flush=True)
        target = results_file or _results_file()
        if target is not None:
            with target.open("a", encoding="utf-8") as out:
                out.write(self.line() + "\n")


def _results_file() -> Path | None:
    path = os.environ.get("RENKEI_FAULT_RESULTS")
    return Path(path) if path else None


def account(
    scenario: str,
    result: PublishResult,
    records: list[RawRecord],
    schemas: SchemaCache,
    note: str = "",
    differing: int | None = None,
) -> Tally:
    """Compare acked positions with what std outputs and DLQs name."""
    positions, count = arrived_positions(records, schemas)
    arrived = result.acked & positions
    return Tally(
        scenario,
        result.published,
        len(result.acked),
        len(arrived),
        count - len(positions),
        len(result.acked - positions),
        note,
        differing,
    )


async def wait_arrived(
    settings: Settings,
    prefix: str,
    schemas: SchemaCache,
    expected: set[tuple[str, int, int]],
    *,
    timeout: float,
    extra_topics: tuple[str, ...] = (),
) -> list[RawRecord]:
    """Read std and DLQ topics until every ``expected`` position arrived (or time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        records = await read_topics(settings, [*std_topics(prefix), *dlq_topics(prefix)])
        positions, _ = arrived_positions(records, schemas)
        if expected <= positions or time.monotonic() > deadline:
            if extra_topics:
                records += await read_topics(settings, list(extra_topics))
            return records
        await asyncio.sleep(2.0)


async def wait_quiet(
    settings: Settings, topics: list[str], *, quiet: float, timeout: float
) -> None:
    """Until the end offsets of ``topics`` stopped moving for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last: dict[tuple[str, int], int] | None = None
    since = time.monotonic()
    while time.monotonic() < deadline:
        now = await end_offsets(settings, topics)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        await asyncio.sleep(1.0)
    raise AssertionError(f"outputs still moving after {timeout}s")


@dataclass
class Workers:
    """Stage workers of one scenario (subprocesses), with kill -9 and restart."""

    prefix: str
    folder: Path
    env: dict[str, str] = field(default_factory=dict)
    running: dict[str, list[WorkerProcess]] = field(default_factory=dict)
    started: Counter[str] = field(default_factory=Counter)

    def environment(self, stage: str, instance: int) -> dict[str, str]:
        return {
            "RENKEI_TOPIC_PREFIX": self.prefix,
            # each instance keeps its local state (RocksDB) across its own restarts
            "RENKEI_HOME": str(self.folder / f"home-{stage}-{instance}"),
            "RENKEI_WORKER_SESSION_TIMEOUT": "10",
            **self.env,
        }

    def start(
        self, stage: str, instance: int = 0, env: dict[str, str] | None = None
    ) -> WorkerProcess:
        """Launch a worker of ``stage``; ``env`` overrides this instance's environment (e.g.
        another bootstrap address)."""
        self.started[stage] += 1
        log = self.folder / f"{stage}-{instance}-{self.started[stage]}.log"
        environment = {**self.environment(stage, instance), **(env or {})}
        worker = WorkerProcess(stage, log, environment, web_port())
        self.running.setdefault(stage, []).append(worker)
        return worker

    def kill(self, stage: str, index: int = 0) -> WorkerProcess:
        """SIGKILL a running worker of ``stage`` (no clean stop, nothing committed)."""
        worker = self.running[stage].pop(index)
        worker.stop(signal.SIGKILL)
        return worker

    def stop(self, stage: str, index: int = 0) -> int:
        return self.running[stage].pop(index).stop()

    def stop_all(self) -> list[str]:
        """SIGTERM every worker; the logs of those that did not exit 0."""
        failures = []
        for stage, workers in self.running.items():
            for worker in workers:
                code = worker.stop()
                if code != 0:
                    failures.append(f"{stage} exit {code}:\n{worker.output()[-2000:]}")
        self.running.clear()
        return failures


def shuffled(items: list[Any], seed: int) -> list[Any]:
    copy = list(items)
    random.Random(seed).shuffle(copy)
    return copy


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def poll(check: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


async def delete_topics(settings: Settings, prefix: str) -> int:
    """Delete every topic under ``prefix`` (a scenario that passed leaves nothing on the
    shared broker); how many were deleted."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
        return len(mine)
    finally:
        await admin.close()


def cleanup(settings: Settings, prefix: str) -> None:
    asyncio.run(delete_topics(settings, prefix))
