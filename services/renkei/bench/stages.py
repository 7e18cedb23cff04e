"""Stage throughput: run real workers (subprocesses) over a prefilled, prefixed set of topics.

Throughput is measured from broker timestamps: (records in) / (last output − first output) of
the stage(s) under test, so worker start-up and consumer-group joins are not counted. The run
waits until the outputs stop growing (quiet for ``quiet_s``).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from renkei.bench.baselines import Throughput, fill
from renkei.kafka_security import kafka_client_options
from renkei.schemas.catalogue import Catalogue, TopicSpec
from renkei.serde.avro import schema_text
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from renkei.topics import ensure_topics


async def prepare_prefixed(settings: Settings, catalogue: Catalogue, prefix: str) -> None:
    """Every catalogue topic and subject under ``prefix`` (what `schemas apply` does)."""
    await ensure_topics(settings, [_renamed(spec, prefix + spec.topic) for spec in catalogue])
    async with RegistryClient(settings.schema_registry_url) as client:
        for spec in catalogue:
            await client.register(f"{prefix}{spec.topic}-value", schema_text(spec.schema))


async def run_stages(
    settings: Settings,
    load: dict[str, list[tuple[bytes, bytes]]],
    prefix: str,
    stages: list[str],
    outputs: list[str],
    log_dir: Path,
    name: str,
    quiet_s: float = 8.0,
    timeout_s: float = 900.0,
) -> Throughput:
    """Fill the prefixed department topics, run ``stages`` until ``outputs`` are quiet."""
    for topic, values in load.items():
        await fill(settings, prefix + topic, values)
    inputs = sum(len(values) for values in load.values())
    workers = [_start(stage, prefix, log_dir, port) for port, stage in enumerate(stages, 7066)]
    try:
        first, last = await _quiet_span(settings, [prefix + t for t in outputs], quiet_s, timeout_s)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
    return Throughput(name, inputs, max(last - first, 1e-3))


def _start(stage: str, prefix: str, log_dir: Path, port: int) -> subprocess.Popen[bytes]:
    log_dir.mkdir(parents=True, exist_ok=True)
    home = log_dir / f"home-{prefix.strip('.')}"
    with (log_dir / f"bench-{stage}.log").open("ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "renkei.cli.worker_cmd",
                stage,
                "--web-port",
                str(port),
                "--log-level",
                "warning",
            ],
            env={**os.environ, "RENKEI_TOPIC_PREFIX": prefix, "RENKEI_HOME": str(home)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _quiet_span(
    settings: Settings, topics: list[str], quiet_s: float, timeout_s: float
) -> tuple[float, float]:
    """(first, last) broker timestamp in seconds of the outputs, once they stopped growing."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    consumer = AIOKafkaConsumer(**kafka_client_options(settings), group_id=None)
    await admin.start()
    await consumer.start()
    try:
        described = await admin.describe_topics(topics)
        partitions = [
            TopicPartition(entry["topic"], p["partition"])
            for entry in described
            for p in entry.get("partitions", [])
        ]
        deadline = time.monotonic() + timeout_s
        total, changed = -1, time.monotonic()
        while time.monotonic() < deadline:
            now_total = sum((await consumer.end_offsets(partitions)).values())
            if now_total != total:
                total, changed = now_total, time.monotonic()
            elif total > 0 and time.monotonic() - changed >= quiet_s:
                break
            await asyncio.sleep(1.0)
        return await _timestamp_span(consumer, partitions)
    finally:
        await consumer.stop()
        await admin.close()


async def _timestamp_span(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> tuple[float, float]:
    ends = await consumer.end_offsets(partitions)
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


def _renamed(spec: TopicSpec, topic: str) -> TopicSpec:
    return replace(spec, topic=topic, metadata={**spec.metadata, "topic": topic})
