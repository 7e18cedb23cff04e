"""Stage throughput: real workers (subprocesses) over prefilled, prefixed sets of topics.

- standardize: a prefilled backlog, then ``windows`` consecutive windows of ``duration`` seconds
  after a warm-up; events/s = growth of the ``std.*`` end offsets over each window (one output
  per input record), so start-up and group joins are not counted;
- pipeline: a drain of a whole initial load through all four stages; events/s = department
  records ÷ (last − first output broker timestamp). The load should take at least the steady
  state asked for; the span is reported so a short one shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from renkei.bench.baselines import Throughput, fill, partitions_of
from renkei.bench.workers import WorkerPool
from renkei.kafka_security import kafka_client_options
from renkei.schemas.catalogue import Catalogue, TopicSpec
from renkei.serde.avro import schema_text
from renkei.serde.registry import registry_client
from renkei.settings import Settings
from renkei.topics import ensure_topics

log = logging.getLogger(__name__)

Load = dict[str, list[tuple[bytes, bytes]]]


@dataclass(frozen=True)
class Window:
    """A measured steady-state window; ``truncated`` when the backlog ran out inside it."""

    throughput: Throughput
    truncated: bool
    cpu_s: float = 0.0
    """CPU seconds the worker(s) used over the window."""
    cpu_by_stage: dict[str, float] | None = None
    """CPU seconds per worker from its start to the end of the window."""

    @property
    def cpu_ms_per_1k(self) -> float:
        """Worker CPU milliseconds per 1,000 events: steadier than events/s on a busy host."""
        events = self.throughput.events
        return 1e6 * self.cpu_s / events if events else 0.0


async def prepare_prefixed(
    settings: Settings, catalogue: Catalogue, prefix: str, worker_python: Path | None = None
) -> None:
    """Every catalogue topic and subject under ``prefix`` (what `schemas apply` does).

    With ``worker_python`` (workers of another checkout) the subjects get *that* checkout's
    schemas: its workers refuse to start on schemas that differ from their catalogue, and the
    department records of the load (written with this checkout's schemas) are read through
    schema resolution, as a deployed older worker would read them."""
    await ensure_topics(settings, [renamed(spec, prefix + spec.topic) for spec in catalogue])
    schemas = {spec.topic: schema_text(spec.schema) for spec in catalogue}
    if worker_python is not None:
        schemas = await _schemas_of(worker_python)
    async with registry_client(settings) as client:
        for topic, text in schemas.items():
            await client.register(f"{prefix}{topic}-value", text)
    await wait_listed(settings, [prefix + spec.topic for spec in catalogue])


_CATALOGUE_OF_CHECKOUT = (
    "import json\n"
    "from renkei.schemas.catalogue import load_catalogue\n"
    "from renkei.serde.avro import schema_text\n"
    "from renkei.settings import Settings\n"
    "catalogue = load_catalogue(Settings().schemas_dir)\n"
    "print(json.dumps({spec.topic: schema_text(spec.schema) for spec in catalogue}))\n"
)


async def _schemas_of(worker_python: Path) -> dict[str, str]:
    """Topic → schema text of the catalogue of the checkout ``worker_python`` runs."""
    process = await asyncio.create_subprocess_exec(
        str(worker_python),
        "-c",
        _CATALOGUE_OF_CHECKOUT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    output, errors = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(
            f"could not read the catalogue of {worker_python}'s checkout:\n"
            + errors.decode(errors="replace")[-2000:]
        )
    schemas: dict[str, str] = json.loads(output)
    return schemas


async def wait_listed(settings: Settings, topics: list[str], timeout_s: float = 120.0) -> None:
    """Wait until the broker lists every topic (a busy broker's metadata can lag behind a
    creation, and a worker started earlier refuses its missing inputs)."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        deadline = time.monotonic() + timeout_s
        while set(topics) - set(await admin.list_topics()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"topics not listed by the broker after {timeout_s:g} s")
            await asyncio.sleep(1.0)
    finally:
        await admin.close()


async def fill_load(settings: Settings, load: Load, prefix: str) -> int:
    """Write the load to the prefixed department topics; the number of records."""
    for topic, values in load.items():
        await fill(settings, prefix + topic, values)
    return sum(len(values) for values in load.values())


async def standardize_windows(
    settings: Settings,
    pool: WorkerPool,
    outputs: list[str],
    inputs: int,
    *,
    windows: int,
    duration: float,
    warmup: float,
    start_timeout: float = 180.0,
) -> list[Window]:
    """Start the standardize worker on a filled backlog and measure ``windows`` windows."""
    async with _OffsetProbe(settings, [pool.prefix + t for t in outputs]) as probe:
        pool.start("standardize", 0)
        deadline = time.monotonic() + start_timeout
        while await probe.total() == 0:
            pool.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError("standardize produced nothing within the start timeout")
            await asyncio.sleep(0.2)
        await asyncio.sleep(warmup)
        measured = []
        for _ in range(windows):
            measured.append(await _window(probe, pool, inputs, duration))
            if measured[-1].truncated:
                break
        return measured


async def _window(probe: _OffsetProbe, pool: WorkerPool, inputs: int, duration: float) -> Window:
    started, first, cpu_start = time.monotonic(), await probe.total(), pool.cpu_seconds()
    last_count, last_change, cpu_end = first, started, cpu_start
    while time.monotonic() - started < duration:
        await asyncio.sleep(0.25)
        count = await probe.total()
        if count != last_count:
            last_count, last_change, cpu_end = count, time.monotonic(), pool.cpu_seconds()
        if count >= inputs:
            break
    truncated = last_count >= inputs
    end = last_change if truncated else time.monotonic()
    seconds = max(end - started, 1e-3)
    throughput = Throughput("standardize", last_count - first, seconds)
    return Window(throughput, truncated, cpu_end - cpu_start)


async def pipeline_drain(
    settings: Settings,
    pool: WorkerPool,
    outputs: list[str],
    inputs: int,
    quiet_s: float,
    timeout_s: float = 1800.0,
    groups: dict[str, list[str]] | None = None,
    at_least: tuple[str, int] | None = None,
) -> Window:
    """Wait until the outputs stop growing — and, with ``groups`` (consumer group → the
    topics it consumes), until every group has committed all it consumes, and with
    ``at_least`` = (output, n) until that output holds n records: a worker that pauses longer
    than ``quiet_s`` (a slow start or rebalance on a loaded machine) or a stage with no output
    during a load (evacuation) does not end the drain early. The drain as a window: CPU from
    the first to the last growth of the outputs, polled each second."""
    cpu: list[float] = []
    required = None if at_least is None else (pool.prefix + at_least[0], at_least[1])
    deadline = time.monotonic() + timeout_s
    while True:
        first, last = await quiet_span(
            settings, [pool.prefix + t for t in outputs], quiet_s, timeout_s, pool, cpu, required
        )
        if not groups or time.monotonic() >= deadline:
            break
        lag = await group_lag(settings, groups)
        if lag == 0:
            break
        log.info("outputs quiet for %g s but %d records not yet committed: waiting", quiet_s, lag)
    span = max(last - first, 1e-3)
    used = cpu[-1] - cpu[0] if cpu else 0.0
    return Window(Throughput("pipeline", inputs, span), False, used, pool.cpu_by_stage())


async def group_lag(settings: Settings, groups: dict[str, list[str]]) -> int:
    """Records the consumer groups have not committed yet: end offsets of the topics each
    consumes minus its committed offsets (a partition never committed counts whole)."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        committed: dict[str, dict[TopicPartition, int]] = {}
        for group in groups:
            offsets = await admin.list_consumer_group_offsets(group)
            committed[group] = {tp: meta.offset for tp, meta in offsets.items()}
    finally:
        await admin.close()
    lag = 0
    for group, topics in groups.items():
        names = [t for t in topics if t in existing]
        if not names:
            continue
        async with _OffsetProbe(settings, names) as probe:
            ends = await probe.ends()
        lag += sum(max(end - committed[group].get(tp, 0), 0) for tp, end in ends.items())
    return lag


async def record_hops(
    settings: Settings, prefix: str, consumed: dict[str, list[str]]
) -> dict[str, int]:
    """Records each stage consumed (its input and internal topics' end offsets under
    ``prefix``, fresh topics per run): one consume → produce hop per record."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    hops = {}
    for stage, topics in consumed.items():
        # workers of another checkout (--worker-python) may not create every topic listed
        names = [prefix + t for t in topics if prefix + t in existing]
        async with _OffsetProbe(settings, names) as probe:
            hops[stage] = await probe.total() if names else 0
    return hops


class _OffsetProbe:
    """Sum of the end offsets of some topics (cheap to poll)."""

    def __init__(self, settings: Settings, topics: list[str]):
        self._settings = settings
        self._topics = topics
        self._consumer = AIOKafkaConsumer(
            **kafka_client_options(settings), request_timeout_ms=10_000
        )
        self.partitions: list[TopicPartition] = []
        self._last = 0

    async def __aenter__(self) -> _OffsetProbe:
        await self._consumer.start()
        self.partitions = await partitions_of(self._settings, self._topics)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def ends(self) -> dict[TopicPartition, int]:
        """The end offset of every partition."""
        return dict(await self._consumer.end_offsets(self.partitions))

    async def total(self) -> int:
        """The current sum; the last one seen when the broker does not answer in time (a
        topic created moments ago may not be in its metadata yet)."""
        try:
            self._last = sum((await self._consumer.end_offsets(self.partitions)).values())
        except KafkaError as exc:
            log.warning("end offsets not available (%s); retrying", type(exc).__name__)
        return self._last


async def quiet_span(
    settings: Settings,
    topics: list[str],
    quiet_s: float,
    timeout_s: float,
    pool: WorkerPool | None = None,
    cpu: list[float] | None = None,
    at_least: tuple[str, int] | None = None,
) -> tuple[float, float]:
    """(first, last) broker timestamp in seconds of the outputs, once they stopped growing;
    ``cpu`` gets the pool's CPU seconds at each poll that saw the outputs grow.

    ``at_least`` = (one of ``topics``, n): the drain is complete only once that topic holds
    n records — a pipeline starved for ``quiet_s`` (a rebalance, a busy machine) is not done,
    and a drain that never completes raises instead of reporting a partial span."""
    async with contextlib.AsyncExitStack() as stack:
        probe = await stack.enter_async_context(_OffsetProbe(settings, topics))
        completion = probe
        if at_least is not None:
            completion = await stack.enter_async_context(_OffsetProbe(settings, [at_least[0]]))
        deadline = time.monotonic() + timeout_s
        total, changed = -1, time.monotonic()
        while True:
            if time.monotonic() >= deadline:
                done = await completion.total()
                raise RuntimeError(
                    f"the outputs did not settle within {timeout_s:g} s"
                    + (f" ({at_least[0]}: {done:,} of {at_least[1]:,} records)" if at_least else "")
                )
            if pool is not None:
                pool.check_alive()
            now_total = await probe.total()
            if now_total != total:
                total, changed = now_total, time.monotonic()
                if pool is not None and cpu is not None and total > 0:
                    cpu.append(pool.cpu_seconds())
            elif (
                total > 0
                and time.monotonic() - changed >= quiet_s
                and (at_least is None or await completion.total() >= at_least[1])
            ):
                break
            await asyncio.sleep(1.0)
        return await _timestamp_span(settings, probe.partitions)


async def _timestamp_span(
    settings: Settings, partitions: list[TopicPartition]
) -> tuple[float, float]:
    consumer = AIOKafkaConsumer(**kafka_client_options(settings), group_id=None)
    await consumer.start()
    try:
        for attempt in range(1, 6):  # a busy broker can miss one deadline; not five
            try:
                ends = await consumer.end_offsets(partitions)
                break
            except KafkaError as exc:
                if attempt == 5:
                    raise
                log.warning("end offsets not available (%s); retrying", type(exc).__name__)
                await asyncio.sleep(2.0)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        first, last = float("inf"), 0.0
        remaining = sum(ends.values())
        while remaining > 0:
            batches = await consumer.getmany(timeout_ms=2000, max_records=10_000)
            if not batches:
                break
            for records in batches.values():
                remaining -= len(records)
                for record in records:
                    first = min(first, record.timestamp / 1000)
                    last = max(last, record.timestamp / 1000)
        return first, last
    finally:
        await consumer.stop()


async def delete_prefixed(settings: Settings, prefix: str) -> int:
    """Delete every topic whose name starts with ``prefix`` (bench leftovers); how many."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
        return len(doomed)
    finally:
        await admin.close()


def renamed(spec: TopicSpec, topic: str) -> TopicSpec:
    return replace(spec, topic=topic, metadata={**spec.metadata, "topic": topic})
