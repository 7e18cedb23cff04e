"""Private servers of the fault suite: a 3-broker KRaft cluster and a schema registry.

Both run on this suite's own ports (cluster 29092-29097, 29092-29103 with the side listeners
of scenario i; registry 28081 with management on 29081; ``RENKEI_FAULT_CLUSTER_PORT`` and
``RENKEI_FAULT_REGISTRY_PORT`` move them) from the jars the local stack already fetched, each
with its own home under /tmp, and are stopped by the fixture that started them. The shared
stack (9092/8081) is never touched.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from renkei.settings import Settings
from renkei.stack.cluster import LocalCluster
from renkei.stack.endpoints import StackEndpoints
from renkei.stack.java import find_java, find_registry_java
from renkei.stack.kafka_config import cluster_nodes
from renkei.stack.kafka_server import KAFKA, ensure_kafka_libs
from renkei.stack.layout import StackLayout
from renkei.stack.processes import PidRecord, live_record, start_server, stop_process
from renkei.stack.registry_server import (
    REGISTRY,
    ensure_registry_app,
    probe_registry,
    registry_command,
)
from renkei.stack.versions import (
    APICURIO_VERSION,
    DEFAULT_KAFKA_VERSION,
    KAFKA_MIN_JAVA,
    REGISTRY_MIN_JAVA,
    KafkaVersion,
)

CLUSTER_FIRST_PORT = int(os.environ.get("RENKEI_FAULT_CLUSTER_PORT", "29092"))
"""First port of the private cluster: brokers on it and the next 2, controllers on the 3
after; with side listeners (scenario i) 6 more (side listeners, then their proxy ports).
Set ``RENKEI_FAULT_CLUSTER_PORT`` when another run may use the default range at the same time."""
REGISTRY_PORT = int(os.environ.get("RENKEI_FAULT_REGISTRY_PORT", "28081"))
"""The private registry's port (its management port is 1000 above)."""


def _say(text: str) -> None:
    print(f"  [fault] {text}", flush=True)


def cluster(stack: Settings, home: Path, *, side: bool = False) -> LocalCluster:
    """A 3-node cluster (replication 3, min.insync.replicas 2) of the stack's Kafka version;
    with ``side``, every node also has a side listener advertised at a proxy port
    (``cluster_nodes(side=True)``, scenario i)."""
    layout = StackLayout(stack.home)
    running = live_record(layout.pid_file(KAFKA))
    version = KafkaVersion.parse(running.version if running else DEFAULT_KAFKA_VERSION)
    return LocalCluster(
        home=home,
        version=version,
        nodes=cluster_nodes(CLUSTER_FIRST_PORT, 3, side=side),
        java=find_java(KAFKA_MIN_JAVA, purpose="Kafka"),
        libs=ensure_kafka_libs(layout, version, _say),
        min_insync_replicas=2,
    )


async def leader_of(bootstrap: str, topic: str, partition: int) -> tuple[int, list[int]]:
    """(leader node id, in-sync replica ids) of one partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        [entry] = await admin.describe_topics([topic])
        info = next(p for p in entry["partitions"] if p["partition"] == partition)
        return int(info["leader"]), [int(n) for n in info["isr"]]
    finally:
        await admin.close()


def wait_in_sync(bootstrap: str, topic: str, partition: int, replicas: int, timeout: float) -> None:
    """Until the partition has ``replicas`` in-sync replicas again."""
    deadline = time.monotonic() + timeout
    isr: list[int] = []
    while time.monotonic() < deadline:
        try:
            _, isr = asyncio.run(leader_of(bootstrap, topic, partition))
        except Exception:  # metadata unavailable while a leader is elected
            isr = []
        if len(isr) >= replicas:
            return
        time.sleep(1.0)
    raise AssertionError(f"{topic}[{partition}] has ISR {isr} after {timeout}s")


class PrivateRegistry:
    """An Apicurio Registry of the stack's assembly on ``REGISTRY_PORT`` (28081), keeping its
    schemas in a topic of its own on the shared broker (so a restart finds them again)."""

    def __init__(self, stack: Settings, home: Path):
        self.home = home
        self.url = f"http://127.0.0.1:{REGISTRY_PORT}/apis/ccompat/v7"
        self.settings = stack.model_copy(update={"schema_registry_url": self.url})
        self.endpoints = StackEndpoints.from_settings(self.settings)
        self.topic = f"_renkei_schemas_fault_{uuid.uuid4().hex[:8]}"
        self.app = ensure_registry_app(StackLayout(stack.home), APICURIO_VERSION, _say)
        self.java = find_registry_java(None, minimum=REGISTRY_MIN_JAVA)
        self.record: PidRecord | None = None

    def start(self, timeout: float = 240.0) -> float:
        """Launch and wait until the ccompat API answers; seconds waited."""
        env = dict(os.environ)
        env["JAVA_HOME"] = str(self.java.home)
        log = self.home / "logs" / "registry.log"
        self.record, waited = start_server(
            server=REGISTRY,
            version=APICURIO_VERSION,
            address=self.url,
            command=registry_command(
                self.java, self.app, self.endpoints, self.home, topic=self.topic
            ),
            cwd=self.app,
            out_log=log,
            server_log=log,
            pid_file=self.home / "run" / "registry.json",
            home=self.home,
            ready=lambda: probe_registry(self.endpoints, timeout=2.0).ready,
            logs=[log],
            progress=_say,
            timeout=timeout,
            env=env,
        )
        return waited

    def stop(self) -> None:
        if self.record is not None:
            stop_process(self.record, term_timeout=30)
            self.record = None

    def drop_storage(self) -> None:
        """Delete the registry's schema topic on the shared broker (once it is stopped)."""
        from tests.fault.harness import delete_topics

        asyncio.run(delete_topics(self.settings, self.topic))

    @property
    def answers(self) -> bool:
        return probe_registry(self.endpoints, timeout=2.0).ready
