"""A multi-broker KRaft cluster on loopback (fault-injection tests, replication experiments).

Not part of ``renkei stack up``: the local stack stays one node. A :class:`LocalCluster` lives
in its own home folder (conf, data and logs per node) and reuses the Kafka jars the stack
already fetched. Every node is broker and controller; the controller quorum is all of them.

Phases: :meth:`LocalCluster.prepare` writes each node's server.properties and formats its
storage with one shared cluster id; :meth:`LocalCluster.start` launches every node before
waiting for any (a controller quorum needs a majority up); :meth:`LocalCluster.kill` and
:meth:`LocalCluster.start_node` take one node down hard and back; :meth:`LocalCluster.stop`
stops every node it started. The cluster keeps the Popen of every node it launched and judges
their liveness by it (exit status), not by the pid's command line: a node restarted a moment
ago has not finished exec'ing Java and does not carry the stack's markers yet.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from renkei.errors import StackError
from renkei.stack.java import JavaRuntime
from renkei.stack.kafka_config import (
    SERVER_PROPERTIES,
    ClusterNode,
    logging_config,
    logging_jvm_flag,
    new_cluster_id,
    render_cluster_properties,
)
from renkei.stack.kafka_probe import probe_kafka
from renkei.stack.kafka_server import format_storage, kafka_command
from renkei.stack.processes import (
    PidRecord,
    launch_detached,
    now_iso,
    stop_process,
    wait_until_ready,
    write_pid_record,
)
from renkei.stack.reporting import Progress, no_progress
from renkei.stack.versions import KafkaVersion

NODE_HEAP = "-Xmx384m"
"""Three brokers share a 2-core development machine with the stack: small heaps."""


@dataclass
class LocalCluster:
    """``nodes`` of Kafka ``version`` (jars in ``libs``) under ``home``."""

    home: Path
    version: KafkaVersion
    nodes: tuple[ClusterNode, ...]
    java: JavaRuntime
    libs: Path
    min_insync_replicas: int = 2
    records: dict[int, PidRecord] = field(default_factory=dict)
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        """Every node's address, comma separated (what clients are given)."""
        return ",".join(node.bootstrap for node in self.nodes)

    @property
    def side_bootstrap(self) -> str:
        """Every node's advertised side-listener address (nodes made with ``side=True``)."""
        addresses = [node.side_bootstrap for node in self.nodes]
        if None in addresses:
            raise StackError("the cluster's nodes have no side listener (cluster_nodes(side=True))")
        return ",".join(a for a in addresses if a is not None)

    def node(self, node_id: int) -> ClusterNode:
        return next(n for n in self.nodes if n.node_id == node_id)

    def _conf(self, node: ClusterNode) -> Path:
        return self.home / "conf" / f"node-{node.node_id}"

    def _data(self, node: ClusterNode) -> Path:
        return self.home / "data" / f"node-{node.node_id}"

    def log(self, node: ClusterNode) -> Path:
        return self.home / "logs" / f"node-{node.node_id}.log"

    def _out(self, node: ClusterNode) -> Path:
        return self.home / "logs" / f"node-{node.node_id}.out"

    def _server(self, node: ClusterNode) -> str:
        return f"kafka-node-{node.node_id}"

    def prepare(self, progress: Progress = no_progress) -> None:
        """Write every node's configuration and format its storage (first time only)."""
        cluster_file = self.home / "conf" / "cluster.id"
        cluster_file.parent.mkdir(parents=True, exist_ok=True)
        if not cluster_file.is_file():
            cluster_file.write_text(new_cluster_id() + "\n", encoding="utf-8")
        cluster_id = cluster_file.read_text(encoding="utf-8").strip()
        for node in self.nodes:
            conf, data = self._conf(node), self._data(node)
            conf.mkdir(parents=True, exist_ok=True)
            self.log(node).parent.mkdir(parents=True, exist_ok=True)
            properties = conf / SERVER_PROPERTIES
            properties.write_text(
                render_cluster_properties(
                    self.version,
                    self.nodes,
                    node,
                    data,
                    min_insync_replicas=self.min_insync_replicas,
                ),
                encoding="utf-8",
            )
            log_name, log_text = logging_config(self.version, self.log(node))
            (conf / log_name).write_text(log_text, encoding="utf-8")
            if not (data / "meta.properties").is_file():
                progress(f"node {node.node_id}: formatting {data} (cluster {cluster_id})")
                flag = logging_jvm_flag(self.version, conf / log_name)
                format_storage(
                    self.java, self.libs, properties, flag, cluster_id, data, self._out(node)
                )

    def _launch(self, node: ClusterNode) -> PidRecord:
        conf = self._conf(node)
        log_name, _ = logging_config(self.version, self.log(node))
        command = kafka_command(
            self.java,
            self.libs,
            conf / SERVER_PROPERTIES,
            logging_jvm_flag(self.version, conf / log_name),
            self.home,
            server=self._server(node),
            heap=NODE_HEAP,
        )
        process = launch_detached(command, cwd=conf, log_path=self._out(node))
        record = PidRecord(
            server=self._server(node),
            pid=process.pid,
            version=str(self.version),
            address=node.bootstrap,
            home=str(self.home),
            log=str(self.log(node)),
            started_at=now_iso(),
        )
        write_pid_record(self.home / "run" / f"{record.server}.json", record)
        self.records[node.node_id] = record
        self.processes[node.node_id] = process
        return record

    def _wait(self, node: ClusterNode, progress: Progress, timeout: float) -> float:
        record = self.records[node.node_id]

        def ready() -> bool:
            try:
                return probe_kafka("127.0.0.1", node.broker_port, timeout=2.0).ready
            except StackError:
                return False

        return wait_until_ready(
            ready,
            what=f"kafka node {node.node_id}",
            record=record,
            process=self.processes[node.node_id],
            timeout=timeout,
            logs=[self._out(node), self.log(node)],
            progress=progress,
        )

    def start(self, progress: Progress = no_progress, timeout: float = 120.0) -> None:
        """Launch every node, then wait until each answers Metadata."""
        for node in self.nodes:
            self._launch(node)
        for node in self.nodes:
            waited = self._wait(node, progress, timeout)
            progress(f"node {node.node_id}: up on {node.bootstrap} in {waited:.1f} s")

    def start_node(
        self, node_id: int, progress: Progress = no_progress, timeout: float = 120.0
    ) -> float:
        """(Re)start one node; seconds until it answered."""
        node = self.node(node_id)
        self._launch(node)
        return self._wait(node, progress, timeout)

    def kill(self, node_id: int) -> None:
        """SIGKILL one node (a crash: no controlled shutdown, no leadership hand-over)."""
        process = self.processes.pop(node_id, None)
        if self.records.pop(node_id, None) is None or process is None:
            raise StackError(f"node {node_id} was not started by this cluster")
        process.kill()  # a no-op if it already exited
        process.wait()

    def stop(self, term_timeout: float = 30.0) -> None:
        """Stop every node this object started (SIGTERM, SIGKILL after ``term_timeout``)."""
        for node_id in sorted(self.records):
            stop_process(
                self.records.pop(node_id),
                process=self.processes.pop(node_id, None),
                term_timeout=term_timeout,
            )
