"""Commit-interval batches against the real broker: a worker killed in the middle of a flush
leaves its batch unacked; the next worker gets the batch again and the outputs come out the
same (a running total per key: never counted twice, never lost)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest

from renkei.serde.avro import AvroDecoder
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from tests.runtime.echo_stage import SINK
from tests.runtime.kafka_helpers import (
    WorkerProcess,
    committed,
    create_echo_topics,
    produce,
    read_until,
)

KEYS = ("a", "b", "c", "d", "e")
RECORDS = 200  # 50 ms each in the crashing worker: faust commits (every 2.8 s) mid-stream


async def _produce_all(settings: Settings, prefix: str) -> dict[str, list[int]]:
    encoder = await create_echo_topics(settings, prefix)
    sequences: dict[str, list[int]] = defaultdict(list)
    records = []
    for i in range(RECORDS):
        key = KEYS[i % len(KEYS)]
        n = i + 1
        sequences[key].append(n)
        records.append((key.encode(), encoder.encode({"id": key, "n": n}), [], None))
    await produce(settings, prefix + "echo.source", records)
    return sequences


async def _sink(settings: Settings, prefix: str) -> dict[str, list[int]]:
    """The totals sent per key, in order (every sink record; read for a few seconds)."""
    decoder = AvroDecoder(RegistryClient(settings.schema_registry_url), SINK.schema)
    records = await read_until(settings, prefix + "echo.sink", lambda _: False, timeout=8.0)
    sent: dict[str, list[int]] = defaultdict(list)
    for record in records:
        value = await decoder.decode(record.value)
        sent[value["id"]].append(value["doubled"])
    return sent


def _wait_committed(settings: Settings, group: str, expected: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(asyncio.run(committed(settings, group)).values()) == expected:
            return True
        time.sleep(1.0)
    return False


@pytest.mark.kafka
@pytest.mark.timeout(300)
@pytest.mark.parametrize("crash_at", ["outputs", "tables"])
def test_a_crash_in_the_middle_of_a_flush_redelivers_the_batch_with_the_same_outputs(
    live_stack: Settings, tmp_path: Path, crash_at: str
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:10]}."
    sequences = asyncio.run(_produce_all(live_stack, prefix))
    totals = {key: sum(ns) for key, ns in sequences.items()}
    prefix_sums = {key: {sum(ns[: i + 1]) for i in range(len(ns))} for key, ns in sequences.items()}
    env = {"RENKEI_TOPIC_PREFIX": prefix, "RENKEI_STAGE_BATCH_MAX_RECORDS": "10"}

    crashing = WorkerProcess(
        "tests.runtime.tally_stage:build_tally_crashing",
        tmp_path / "crash.log",
        {**env, "TALLY_CRASH_AT": crash_at},
    )
    assert crashing.wait_exit(timeout=120) == 3, crashing.output()
    assert f"crashing after {crash_at} in a flush" in crashing.output()
    group = f"{prefix}renkei-tally"
    after_crash = asyncio.run(committed(live_stack, group))
    acked = sum(after_crash.values())
    assert 0 < acked < RECORDS, after_crash  # earlier batches committed, not the crashed one
    before = asyncio.run(_sink(live_stack, prefix))
    assert before, "the crashed flush had delivered its outputs"

    # the same RENKEI_HOME (tmp_path/home): the crashed worker's RocksDB tables are kept
    worker = WorkerProcess("tests.runtime.tally_stage:build_tally", tmp_path / "worker.log", env)
    try:
        assert _wait_committed(live_stack, group, RECORDS, timeout=120), worker.output()
    finally:
        worker.stop()
    produced = asyncio.run(_sink(live_stack, prefix))
    for key, totals_sent in produced.items():
        assert totals_sent[: len(before.get(key, []))] == before.get(key, [])
        assert set(totals_sent) <= prefix_sums[key], key  # never counted twice
    assert {key: sent[-1] for key, sent in produced.items()} == totals  # nothing lost
