"""Latency while a bulk load drains (docs/performance.md, "Lanes").

After the quiet latency window, on the same workers: a second snapshot of ``--residents``
residents (another seed: other residents of the same region) is written to the bulk lanes
(``<topic>.bulk``) of its department topics, and the latency window runs again at once —
freshness of live change events and alert → list while the bulk load drains.

Workers without bulk inputs (another checkout's, ``--worker-python``) get the bulk load on the
live department topics instead — what a bulk load did before lanes existed — and the JSON says
so (``bulk_load_to``).

Only samples of events published before the bulk load was drained count: the load is drained
when the consumer groups of standardize and resident have committed every record of the
topics it goes through (``<topic>[.bulk]`` and ``std.<topic>[.bulk]``), polled every half
second. ``bulk_drain_s`` is that time from the first bulk record written; a load still queued
when the window ends is reported with the window's length and ``bulk_drained`` 0.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from renkei.bench.baselines import partitions_of
from renkei.bench.stages import fill_load
from renkei.bench.workload import Workload
from renkei.kafka_security import kafka_client_options
from renkei.schemas.catalogue import Catalogue, bulk_topic
from renkei.settings import Settings

LANES_PROBE = (
    "from renkei.contracts.stages import STAGES; "
    "print(any(t.endswith('.bulk') for t in STAGES['resident'].inputs))"
)


def worker_has_bulk_lanes(python: Path | None) -> bool:
    """Whether the workers' code (this checkout, or ``python``'s) consumes bulk lanes."""
    if python is None:
        from renkei.contracts.stages import STAGES

        return any(t.endswith(".bulk") for t in STAGES["resident"].inputs)
    try:
        out = subprocess.run(
            [str(python), "-c", LANES_PROBE], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "True"


def bulk_targets(catalogue: Catalogue, topics: list[str], lanes: bool) -> dict[str, str]:
    """Department topic → where its bulk load goes: its bulk lane when the workers have lanes
    and the topic has one, else the topic itself."""
    return {t: bulk_topic(t) if lanes and catalogue.get(t).bulk_lane else t for t in topics}


@dataclass
class BulkDrain:
    """Polls the lag of the standardize and resident groups on the bulk load's path."""

    settings: Settings
    prefix: str
    paths: dict[str, list[str]]
    """Stage → the topics (contract names) the bulk load passes through at that stage."""
    started: float = field(default_factory=time.time)
    drained_at: float | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def lag(self, admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer) -> int:
        total = 0
        for stage, topics in self.paths.items():
            partitions = await partitions_of(self.settings, [self.prefix + t for t in topics])
            ends = await consumer.end_offsets(partitions)
            committed = await admin.list_consumer_group_offsets(
                f"{self.prefix}renkei-{stage}", partitions=partitions
            )
            for tp in partitions:
                done = committed.get(TopicPartition(tp.topic, tp.partition))
                total += max(ends[tp] - (done.offset if done and done.offset >= 0 else 0), 0)
        return total

    async def watch(self) -> None:
        admin = AIOKafkaAdminClient(**kafka_client_options(self.settings))
        consumer = AIOKafkaConsumer(**kafka_client_options(self.settings), group_id=None)
        await admin.start()
        await consumer.start()
        try:
            while not self._stop.is_set() and self.drained_at is None:
                try:
                    if await self.lag(admin, consumer) == 0:
                        self.drained_at = time.time()
                except KafkaError:  # a busy broker misses a deadline: poll again
                    pass
                await asyncio.sleep(0.5)
        finally:
            await consumer.stop()
            await admin.close()

    def stop(self) -> None:
        self._stop.set()


async def start_bulk_load(
    settings: Settings,
    catalogue: Catalogue,
    prefix: str,
    bulk: Workload,
    lanes: bool,
) -> tuple[BulkDrain, asyncio.Future[None]]:
    """Write the bulk load to its topics and start watching it drain."""
    targets = bulk_targets(catalogue, list(bulk.load), lanes)
    started = time.time()
    await fill_load(settings, {targets[t]: v for t, v in bulk.load.items()}, prefix)
    resident_inputs = {
        "registry.resident.events",
        "health.checkup.results",
        "welfare.care.certifications",
    }
    paths = {
        "standardize": sorted(set(targets.values())),
        "resident": sorted(f"std.{targets[t]}" for t in targets if t in resident_inputs),
    }
    drain = BulkDrain(settings, prefix, paths, started=started)
    return drain, asyncio.ensure_future(drain.watch())


def during(values: list[float], sent_at: list[float], until: float | None) -> list[float]:
    """The samples of events published before ``until`` (all of them when None)."""
    if until is None:
        return list(values)
    return [v for v, at in zip(values, sent_at, strict=True) if at <= until]
