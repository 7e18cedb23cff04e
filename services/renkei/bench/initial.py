"""The initial-load benchmark: N residents through standardize → resident → region.

Yokohama (≈ 3.8 M residents) is the target; a run loads a scaled snapshot of one ward and
reports residents/s, the linear extrapolation to 3.8 M, each worker's resident memory with N
residents in its RocksDB tables, and the resident stage's time to serve again after a restart
— with its local RocksDB kept, and with it wiped (the whole table rebuilt from the changelog).

Readiness after a restart is observed, not inferred: a held-back registration is published
right after the restart, and the clock stops when its ``unified.resident`` record arrives.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from renkei.bench.baselines import partitions_of
from renkei.bench.stages import delete_prefixed, fill_load, prepare_prefixed, quiet_span
from renkei.bench.workers import WorkerPool
from renkei.bench.workload import initial_load
from renkei.kafka_security import kafka_client_options
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings

YOKOHAMA_RESIDENTS = 3_800_000
TARGET_SECONDS = 45 * 60.0
"""Issue 11: ≥ 1,500 residents/s, Yokohama's first load within 45 minutes."""
STAGES = ("standardize", "resident", "region")
OUTPUTS = ["unified.resident", "internal.resident.facts", "unified.region"]
REGISTRY = "registry.resident.events"


@dataclass(frozen=True)
class LoadOptions:
    residents: int
    municipality: str
    web_port_base: int
    quiet_s: float = 10.0
    timeout_s: float = 3600.0
    keep_topics: bool = False


async def run_initial_load(
    settings: Settings, catalogue: Catalogue, opts: LoadOptions, echo: Any
) -> dict[str, Any]:
    echo(f"preparing a snapshot of {opts.residents:,} residents of {opts.municipality}…")
    workload = await initial_load(settings, catalogue, opts.residents + 2, opts.municipality)
    probes = [workload.load[REGISTRY].pop() for _ in range(2)]
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    await prepare_prefixed(settings, catalogue, prefix)
    echo(f"filling {workload.records:,} department records…")
    inputs = await fill_load(settings, workload.load, prefix)
    pool = WorkerPool(prefix, settings.home / "logs", opts.web_port_base)
    try:
        pool.start_all(STAGES)
        echo("draining through standardize → resident → region…")
        first, last = await quiet_span(
            settings,
            [prefix + t for t in OUTPUTS],
            opts.quiet_s,
            opts.timeout_s,
            pool,
            at_least=(prefix + "unified.resident", opts.residents),
        )
        span = max(last - first, 1e-3)
        rss = {stage: pool.rss_mb(stage) for stage in STAGES}
        echo("restarting the resident stage (RocksDB kept, then wiped)…")
        kept = await restart_until_served(settings, pool, probes[0], wipe=False)
        wiped = await restart_until_served(settings, pool, probes[1], wipe=True)
    finally:
        pool.stop_all()
        pool.remove_home()
        if not opts.keep_topics:
            await delete_prefixed(settings, prefix)
    return _figures(opts, inputs, span, rss, kept, wiped)


def _figures(
    opts: LoadOptions,
    inputs: int,
    span: float,
    rss: dict[str, tuple[float, float]],
    kept: float,
    wiped: float,
) -> dict[str, Any]:
    per_s = opts.residents / span
    extrapolated = YOKOHAMA_RESIDENTS / per_s
    return {
        "residents": opts.residents,
        "municipality": opts.municipality,
        "department_records": inputs,
        "span_s": round(span, 1),
        "residents_per_s": round(per_s, 1),
        "records_per_s": round(inputs / span, 1),
        "yokohama_extrapolated_s": round(extrapolated),
        "yokohama_target_s": TARGET_SECONDS,
        "target_reached": extrapolated <= TARGET_SECONDS,
        "worker_rss_mb": {s: round(v[0]) for s, v in rss.items()},
        "worker_peak_rss_mb": {s: round(v[1]) for s, v in rss.items()},
        "resident_restart_served_s": round(kept, 1),
        "resident_restart_wiped_served_s": round(wiped, 1),
    }


async def restart_until_served(
    settings: Settings,
    pool: WorkerPool,
    probe: tuple[bytes, bytes],
    *,
    wipe: bool,
    timeout_s: float = 900.0,
) -> float:
    """Seconds from (re)starting the resident worker to the probe's unified.resident record
    (with ``wipe``, on an empty data directory: every table restored from its changelog)."""
    if "resident" in pool.procs:
        pool.stop("resident")
    if wipe:
        shutil.rmtree(pool.datadir("resident"), ignore_errors=True)
    consumer = AIOKafkaConsumer(**kafka_client_options(settings), group_id=None)
    await consumer.start()
    try:
        partitions = await partitions_of(settings, [pool.prefix + "unified.resident"])
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:
            await consumer.position(tp)
        started = time.monotonic()
        pool.start("resident", 1)
        await publish_one(settings, pool.prefix + REGISTRY, probe)
        key = probe[0]
        while True:
            pool.check_alive()
            batches = await consumer.getmany(timeout_ms=500)
            if any(r.key == key for records in batches.values() for r in records):
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise RuntimeError(
                    f"the restarted resident stage served nothing in {timeout_s:g} s"
                )
            await asyncio.sleep(0)
    finally:
        await consumer.stop()


async def publish_one(settings: Settings, topic: str, record: tuple[bytes, bytes]) -> None:
    producer = AIOKafkaProducer(**kafka_client_options(settings))
    await producer.start()
    try:
        await producer.send_and_wait(topic, record[1], key=record[0])
    finally:
        await producer.stop()


def describe(results: dict[str, Any]) -> list[str]:
    """The lines people read."""
    minutes = results["yokohama_extrapolated_s"] / 60
    verdict = "within" if results["target_reached"] else "NOT within"
    return [
        f"{results['residents']:,} residents of {results['municipality']} "
        f"({results['department_records']:,} department records) in {results['span_s']} s",
        f"  {results['residents_per_s']:,} residents/s, {results['records_per_s']:,} records/s",
        f"  3.8 M residents at this rate: {minutes:,.1f} min ({verdict} the 45 min target; a "
        "linear extrapolation from a scaled run — state size and compaction are not modelled)",
        "  worker RSS MiB now/peak: "
        + ", ".join(
            f"{s} {results['worker_rss_mb'][s]}/{results['worker_peak_rss_mb'][s]}"
            for s in results["worker_rss_mb"]
        ),
        f"  resident stage serving again after a restart: {results['resident_restart_served_s']}"
        f" s (RocksDB kept), {results['resident_restart_wiped_served_s']} s (RocksDB wiped, "
        "tables restored from the changelog)",
    ]
