"""What ``renkei status`` reports per stage, gathered from Kafka and the workers.

From Kafka (works while a stage is down): the group ``renkei-<stage>``'s committed offsets
against the end offsets of every topic it consumes (its catalogue inputs and the internal
topics it has committed on), and the records held in each ``dlq.<topic>``. From the worker's
web port: ``/health/live`` and ``/health/ready``, and from ``/metrics`` the freshness p99 per
output topic and the seconds since a commit last advanced.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from renkei.contracts.names import TopicNames
from renkei.contracts.stages import STAGES, default_web_port
from renkei.errors import StackError
from renkei.ops.health import LIVE_PATH, READY_PATH
from renkei.ops.offsets import OffsetReader, PartitionOffsets
from renkei.ops.scrape import gauge_values, quantiles_by, samples
from renkei.schemas.catalogue import load_catalogue
from renkei.settings import Settings

HTTP_TIMEOUT = 3.0


def stage_inputs(settings: Settings) -> dict[str, tuple[str, ...]]:
    """Contract input topics of each stage, from the stage registry (for standardize from the
    catalogue's department topics, for views from the consumer agreements: the truth)."""
    catalogue = load_catalogue(settings.schemas_dir)
    return {
        name: spec.contract_inputs(catalogue, settings.agreements_dir)
        for name, spec in STAGES.items()
    }


@dataclass
class TopicStatus:
    """One consumed topic of a stage (contract name)."""

    topic: str
    lag: int
    committed: bool
    dlq_records: int | None  # None: the stage never created its DLQ topic
    partitions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StageStatus:
    stage: str
    web: str
    up: bool = False
    ready: bool = False
    reason: str = "not answering"
    inputs: list[TopicStatus] = field(default_factory=list)
    freshness_p99: dict[str, float | None] = field(default_factory=dict)
    last_commit_age: float | None = None

    @property
    def lag(self) -> int:
        return sum(t.lag for t in self.inputs)

    @property
    def dlq_records(self) -> int:
        return sum(t.dlq_records or 0 for t in self.inputs)

    def as_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "web": self.web,
            "up": self.up,
            "ready": self.ready,
            "reason": self.reason,
            "lag": self.lag,
            "dlq_records": self.dlq_records,
            "freshness_p99_seconds": self.freshness_p99,
            "last_commit_age_seconds": self.last_commit_age,
            "inputs": [vars(t) for t in self.inputs],
        }


async def gather_status(settings: Settings, stages: list[str]) -> list[StageStatus]:
    """The status of ``stages`` (names of :data:`STAGE_NAMES`)."""
    inputs = stage_inputs(settings)
    names = TopicNames(settings.topic_prefix)
    async with OffsetReader(settings) as reader, httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
        statuses = [
            StageStatus(
                stage, f"http://{settings.worker_web_bind}:{default_web_port(settings, stage)}"
            )
            for stage in stages
        ]
        try:
            await asyncio.gather(
                *(_probe(http, s) for s in statuses),
                *(_offsets(reader, names, s, inputs[s.stage]) for s in statuses),
            )
        except KafkaError as exc:
            raise StackError(
                f"Kafka at {settings.kafka_bootstrap} did not answer the offset requests "
                f"({type(exc).__name__})"
            ) from exc
        return statuses


async def _probe(http: httpx.AsyncClient, status: StageStatus) -> None:
    """Health and metrics from the worker; a refused connection means down."""
    try:
        live = await http.get(status.web + LIVE_PATH)
        status.up = live.status_code == 200
        ready = await http.get(status.web + READY_PATH)
        body = ready.json()
        status.ready = ready.status_code == 200 and bool(body.get("ready"))
        status.reason = str(body.get("reason", ""))
        text = (await http.get(status.web + "/metrics")).text
    except (httpx.HTTPError, ValueError) as exc:
        status.up, status.ready = False, False
        status.reason = f"not answering ({type(exc).__name__})"
        return
    parsed = samples(text)
    status.freshness_p99 = quantiles_by(parsed, "renkei_event_freshness_seconds", "topic")
    ages = [s.value for s in gauge_values(parsed, "renkei_consumer_last_commit_age_seconds")]
    status.last_commit_age = min(ages) if ages else None


async def _offsets(
    reader: OffsetReader, names: TopicNames, status: StageStatus, inputs: tuple[str, ...]
) -> None:
    """Lag per consumed topic from the group's commits; DLQ records per topic."""
    group = names.group(status.stage)
    internal = names.topic(f"renkei-{status.stage}-")
    committed_topics = {t for t in await reader.committed_topics(group) if t.startswith(internal)}
    kafka_topics = [names.topic(t) for t in inputs] + sorted(committed_topics)
    by_topic: dict[str, list[PartitionOffsets]] = {}
    for offsets in await reader.group_offsets(group, kafka_topics):
        by_topic.setdefault(offsets.topic, []).append(offsets)
    dlq_counts = await _dlq_records(reader, [names.dlq(_contract(names, t)) for t in by_topic])
    for kafka_topic, partitions in by_topic.items():
        contract = _contract(names, kafka_topic)
        status.inputs.append(
            TopicStatus(
                topic=contract,
                lag=sum(p.lag for p in partitions),
                committed=any(p.committed is not None for p in partitions),
                dlq_records=dlq_counts.get(names.dlq(contract)),
                partitions=[
                    {"partition": p.partition, "committed": p.committed, "end": p.end, "lag": p.lag}
                    for p in partitions
                ],
            )
        )


def _contract(names: TopicNames, kafka_topic: str) -> str:
    return kafka_topic[len(names.prefix) :] if kafka_topic.startswith(names.prefix) else kafka_topic


async def _dlq_records(reader: OffsetReader, dlq_topics: list[str]) -> dict[str, int]:
    """Records currently held in each existing DLQ topic (end − log start)."""
    counts = await reader.partition_counts(dlq_topics)
    partitions = [TopicPartition(t, p) for t, n in counts.items() for p in range(n)]
    starts, ends = await reader.log_range(partitions)
    totals = dict.fromkeys(counts, 0)
    for tp in partitions:
        totals[tp.topic] += ends[tp] - starts[tp]
    return totals
