"""Scenario c: the leader of a busy partition killed three times on a 3-broker cluster.

A private KRaft cluster (3 combined broker+controller nodes on 29092-29097, replication 3,
min.insync.replicas 2, built with ``renkei.stack.cluster``) carries the department topics and
every topic the stages create (RENKEI_TOPIC_REPLICATION_FACTOR=3); schemas go to the shared
registry under this run's own subjects. While the load is published (acks=all, idempotent),
the leader of partition 0 of the registry events topic is killed with SIGKILL and restarted,
three times. Every acknowledged department record must reach the standardized streams and
every resident the unified stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from renkei.stack.cluster import LocalCluster
from tests.fault import harness as h
from tests.fault import servers

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.fault,
    pytest.mark.fault_full,
    pytest.mark.timeout(1200),
]
TOPIC = "registry.resident.events"


@pytest.fixture
def cluster(
    live_stack: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCluster]:
    private = servers.cluster(live_stack, Path(tmp_path_factory.mktemp("renkei-fault-cluster")))
    private.prepare(servers._say)
    try:
        private.start(servers._say)
        yield private
    finally:
        private.stop()


def test_c_partition_leader_killed_three_times(
    cluster: LocalCluster, live_stack: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    settings = live_stack.model_copy(
        update={"kafka_bootstrap": cluster.bootstrap, "topic_replication_factor": 3}
    )
    prefix = h.new_prefix("c")
    events = list(h.simulated(1000, 500, 3))
    asyncio.run(h.prepare_topics(settings, catalogue, prefix))
    records = asyncio.run(h.encode_load(settings, catalogue, prefix, events))
    workers = h.Workers(
        prefix,
        tmp_path,
        env={"RENKEI_KAFKA_BOOTSTRAP": cluster.bootstrap, "RENKEI_TOPIC_REPLICATION_FACTOR": "3"},
    )
    for stage in ("standardize", "resident"):
        workers.start(stage)
    for worker in [w for running in workers.running.values() for w in running]:
        # a worker starting while a broker is down exits with "not reachable" (by design): the
        # faults start once both consume
        worker.wait_for("partitions assigned", timeout=240)
    publisher = h.BackgroundPublisher(settings, records, rate=len(records) / 75)
    kills = []
    try:
        for _ in range(3):
            time.sleep(8)
            leader, isr = asyncio.run(servers.leader_of(cluster.bootstrap, prefix + TOPIC, 0))
            cluster.kill(leader)
            time.sleep(8)  # publishing and processing go on with two nodes
            took = cluster.start_node(leader, servers._say)
            servers.wait_in_sync(cluster.bootstrap, prefix + TOPIC, 0, 3, timeout=120)
            kills.append(f"node {leader} (isr {isr}, back in {took:.0f} s)")
        result = publisher.join()
        schemas = h.SchemaCache(settings.schema_registry_url)
        records_out = asyncio.run(
            h.wait_arrived(settings, prefix, schemas, result.acked, timeout=300)
        )
        residents = {r.key for r in records_out if r.topic == f"{prefix}std.{TOPIC}"}
        unified = _wait_unified(settings, prefix, residents, timeout=300)
    finally:
        failures = workers.stop_all()
    tally = h.account(
        "c leader kill x3",
        result,
        records_out,
        schemas,
        note=f"killed {'; '.join(kills)}; {len(unified & residents)} of {len(residents)} "
        "residents in unified.resident",
    )
    tally.report()
    assert not failures, failures
    assert tally.lost == 0
    assert residents <= unified


def _wait_unified(settings: Settings, prefix: str, wanted: set, timeout: float) -> set:
    deadline = time.monotonic() + timeout
    keys: set = set()
    while time.monotonic() < deadline:
        raw = asyncio.run(h.read_topics(settings, [f"{prefix}unified.resident"]))
        keys = {r.key for r in raw}
        if wanted <= keys:
            break
        time.sleep(3)
    return keys
