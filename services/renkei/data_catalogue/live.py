"""Live figures per topic from the platform's own metrics.

From Kafka, read by clients of their own as ``renkei status`` does (they work while a stage is
down): records held (end − log start offsets), records written since the window start
(``offsets_for_times``), the time of the newest record, and the records held in
``dlq.<topic>``. From each stage worker's ``/metrics`` (its web port from the stage
registry): records read and written since the worker started (``renkei_events_in_total``,
``renkei_events_out_total``), records routed to the DLQ (``renkei_dlq_records_total``, so the
DLQ rate = routed ÷ read), and freshness (``renkei_event_freshness_seconds``: output time
minus the event's ``recorded_at``; p50 and p99 as PromQL's ``histogram_quantile`` gives them).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from renkei.contracts.names import TopicNames
from renkei.contracts.stages import STAGES, default_web_port
from renkei.errors import StackError
from renkei.kafka_security import kafka_client_options
from renkei.ops.offsets import OffsetReader
from renkei.ops.scrape import Sample, histogram_quantile, samples
from renkei.settings import Settings

HTTP_TIMEOUT = 3.0
LATEST_TIMEOUT = 5.0
IN, OUT, DLQ = "renkei_events_in_total", "renkei_events_out_total", "renkei_dlq_records_total"
FRESHNESS = "renkei_event_freshness_seconds"


@dataclass
class TopicFigures:
    """The live figures of one topic (contract name)."""

    topic: str
    exists: bool = False
    records: int | None = None
    recent_records: int | None = None
    latest_ms: int | None = None
    dlq_records: int | None = None
    """Records held in ``dlq.<topic>`` (None: no DLQ topic exists)."""
    read_by: dict[str, int] = field(default_factory=dict)
    """Stage → records it read since it started."""
    written_by: dict[str, int] = field(default_factory=dict)
    dlq_routed: int | None = None
    freshness_p50: float | None = None
    freshness_p99: float | None = None
    freshness_count: int | None = None

    @property
    def dlq_rate(self) -> float | None:
        read = sum(self.read_by.values())
        if self.dlq_routed is None or read == 0:
            return None
        return self.dlq_routed / read

    def as_json(self) -> dict[str, Any]:
        return {**vars(self), "dlq_rate": self.dlq_rate}


@dataclass
class StageProbe:
    stage: str
    url: str
    up: bool = False
    error: str | None = None


@dataclass
class LiveFigures:
    generated_at_ms: int
    window_start_ms: int
    window_seconds: int
    topics: dict[str, TopicFigures]
    stages: list[StageProbe]
    kafka_error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "generated_at_ms": self.generated_at_ms,
            "window_start_ms": self.window_start_ms,
            "window_seconds": self.window_seconds,
            "kafka_error": self.kafka_error,
            "stages": [vars(s) for s in self.stages],
            "topics": {name: t.as_json() for name, t in self.topics.items()},
        }


# ---- Kafka -----------------------------------------------------------------------------


class TopicReader:
    """Offsets and newest records of topics: the topics' partitions from an admin client (a
    consumer's metadata would miss topics created after it started, e.g. a DLQ), offsets and
    records from a group-less consumer; both its own, as ``renkei status`` does."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._offsets: OffsetReader | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def _clients(self) -> tuple[OffsetReader, AIOKafkaConsumer]:
        if self._offsets is None:
            offsets = OffsetReader(self._settings)
            await offsets.start()
            self._offsets = offsets
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                **kafka_client_options(self._settings),
                group_id=None,
                enable_auto_commit=False,
                request_timeout_ms=10000,
            )
            try:
                await consumer.start()
            except BaseException:
                await consumer.stop()
                raise
            self._consumer = consumer
        return self._offsets, self._consumer

    async def close(self) -> None:
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            await consumer.stop()
        if self._offsets is not None:
            offsets, self._offsets = self._offsets, None
            await offsets.close()

    async def read(
        self, names: TopicNames, topics: Iterable[str], since_ms: int
    ) -> dict[str, TopicFigures]:
        """Figures of ``topics`` (contract names); a KafkaError drops the client (the next
        call reconnects) and is raised."""
        try:
            return await self._read(names, list(topics), since_ms)
        except (KafkaError, StackError, OSError):
            with contextlib.suppress(Exception):
                await self.close()
            raise

    async def _read(
        self, names: TopicNames, topics: list[str], since_ms: int
    ) -> dict[str, TopicFigures]:
        offsets, consumer = await self._clients()
        wanted = [names.topic(t) for t in topics] + [names.dlq(t) for t in topics]
        counts = await offsets.partition_counts(wanted)
        present = set(counts)
        partitions = [
            TopicPartition(kafka, p) for kafka in wanted for p in range(counts.get(kafka, 0))
        ]
        starts, ends = await offsets.log_range(partitions)
        recent_from = (
            await consumer.offsets_for_times({tp: since_ms for tp in partitions})
            if partitions
            else {}
        )
        own_names = {names.topic(t) for t in topics}
        nonempty = [tp for tp in partitions if tp.topic in own_names and ends[tp] > starts[tp]]
        latest = await self._latest(consumer, nonempty, ends)
        figures: dict[str, TopicFigures] = {}
        for topic in topics:
            kafka, dlq = names.topic(topic), names.dlq(topic)
            own = [tp for tp in partitions if tp.topic == kafka]
            held = [tp for tp in partitions if tp.topic == dlq]
            figure = TopicFigures(topic, exists=kafka in present)
            if figure.exists:
                figure.records = sum(ends[tp] - starts[tp] for tp in own)
                figure.recent_records = sum(
                    ends[tp] - (found.offset if (found := recent_from.get(tp)) else ends[tp])
                    for tp in own
                )
                stamps = [latest[tp] for tp in own if tp in latest]
                figure.latest_ms = max(stamps) if stamps else None
            if dlq in present:
                figure.dlq_records = sum(ends[tp] - starts[tp] for tp in held)
            figures[topic] = figure
        return figures

    @staticmethod
    async def _latest(
        consumer: AIOKafkaConsumer,
        partitions: list[TopicPartition],
        ends: dict[TopicPartition, int],
    ) -> dict[TopicPartition, int]:
        """Timestamp (ms) of the last record of each partition (records after it that arrive
        meanwhile count too: the newest seen)."""
        wanted = partitions
        if not wanted:
            return {}
        consumer.assign(wanted)
        for tp in wanted:
            consumer.seek(tp, ends[tp] - 1)
        stamps: dict[TopicPartition, int] = {}
        deadline = time.monotonic() + LATEST_TIMEOUT
        while len(stamps) < len(wanted) and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                if records:
                    stamps[tp] = max(stamps.get(tp, 0), *(r.timestamp for r in records))
        consumer.assign([])
        return stamps


# ---- workers' /metrics -------------------------------------------------------------------


async def probe_stages(settings: Settings) -> tuple[list[StageProbe], list[Sample]]:
    """Every stage's ``/metrics`` at its registry port; samples of those that answered."""
    probes = [
        StageProbe(
            name,
            f"http://{settings.worker_web_bind}:{default_web_port(settings, name)}/metrics",
        )
        for name in STAGES
    ]
    found: list[Sample] = []
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:

        async def one(probe: StageProbe) -> list[Sample]:
            try:
                response = await http.get(probe.url)
                response.raise_for_status()
                parsed = samples(response.text)
            except (httpx.HTTPError, ValueError) as exc:
                probe.error = type(exc).__name__
                return []
            probe.up = True
            return parsed

        for parsed in await asyncio.gather(*(one(p) for p in probes)):
            found += parsed
    return probes, found


def apply_metrics(figures: dict[str, TopicFigures], parsed: list[Sample]) -> None:
    """Sum the workers' series per topic into ``figures`` (contract topic labels)."""
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    routed: dict[str, float] = defaultdict(float)
    for s in parsed:
        topic = s.labels.get("topic")
        if topic not in figures:
            continue
        figure = figures[topic]
        stage = s.labels.get("stage", "")
        if s.name == IN:
            figure.read_by[stage] = figure.read_by.get(stage, 0) + int(s.value)
        elif s.name == OUT:
            figure.written_by[stage] = figure.written_by.get(stage, 0) + int(s.value)
        elif s.name == DLQ:
            routed[topic] += s.value
        elif s.name == f"{FRESHNESS}_bucket":
            buckets[topic][float(s.labels["le"])] += s.value
    for topic, figure in figures.items():
        if figure.read_by or topic in routed:
            figure.dlq_routed = int(routed.get(topic, 0))
        pairs = sorted(buckets.get(topic, {}).items())
        if pairs and pairs[-1][1] > 0:
            figure.freshness_p50 = histogram_quantile(0.5, pairs)
            figure.freshness_p99 = histogram_quantile(0.99, pairs)
            figure.freshness_count = int(pairs[-1][1])


async def gather_live(
    settings: Settings, reader: TopicReader, topics: list[str], window_seconds: int
) -> LiveFigures:
    """Every figure of ``topics`` now; a Kafka failure is reported, the metrics still read."""
    now_ms = int(time.time() * 1000)
    since_ms = now_ms - window_seconds * 1000
    names = TopicNames(settings.topic_prefix)
    kafka_error = None
    try:
        figures = await reader.read(names, topics, since_ms)
    except (KafkaError, StackError, OSError) as exc:
        kafka_error = f"Kafka at {settings.kafka_bootstrap} did not answer ({type(exc).__name__})"
        figures = {t: TopicFigures(t) for t in topics}
    probes, parsed = await probe_stages(settings)
    apply_metrics(figures, parsed)
    return LiveFigures(now_ms, since_ms, window_seconds, figures, probes, kafka_error)
