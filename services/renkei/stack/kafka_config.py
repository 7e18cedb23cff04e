"""Configuration files of the KRaft broker: server.properties (single node, or one node of a
multi-node cluster on loopback) and logging.

Pure functions from (version, addresses, paths) to file contents, so they are unit-tested
without a JVM.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path

from renkei.stack.endpoints import LOOPBACK_HOST, StackEndpoints
from renkei.stack.secure import BrokerSecurity
from renkei.stack.versions import KafkaVersion

SERVER_PROPERTIES = "server.properties"


def render_server_properties(
    version: KafkaVersion,
    endpoints: StackEndpoints,
    data_dir: Path,
    security: BrokerSecurity | None = None,
) -> str:
    """A combined broker+controller node on loopback, replication factors of 1.

    ``group.initial.rebalance.delay.ms=0`` because the 3 s default makes every test wait on its
    first consumer-group join. ``auto.create.topics.enable=false``: topics come from the schema
    catalogue (``renkei schemas apply``) with their partition counts; a metadata request for a
    missing topic must not create it with the broker default (co-partitioning would break).
    ``security`` (the secure stack) replaces the plaintext listeners by SASL_SSL + mTLS
    controller and adds the authorizer (:mod:`renkei.stack.secure`).
    """
    host = LOOPBACK_HOST
    settings: list[tuple[str, str]] = [
        ("process.roles", "broker,controller"),
        ("node.id", "1"),
        ("controller.quorum.voters", f"1@{host}:{endpoints.controller_port}"),
        *(security.listener_settings(endpoints) if security else _plain_listeners(endpoints)),
        ("log.dirs", str(data_dir)),
        ("num.partitions", "3"),
        ("auto.create.topics.enable", "false"),
        ("offsets.topic.replication.factor", "1"),
        ("transaction.state.log.replication.factor", "1"),
        ("transaction.state.log.min.isr", "1"),
        ("group.initial.rebalance.delay.ms", "0"),
    ]
    if version.has_share_coordinator:
        settings += [
            ("share.coordinator.state.topic.replication.factor", "1"),
            ("share.coordinator.state.topic.min.isr", "1"),
        ]
    header = f"# Written by `renkei stack up` for Kafka {version}; edits are overwritten.\n"
    return header + "".join(f"{key}={value}\n" for key, value in settings)


def _plain_listeners(endpoints: StackEndpoints) -> list[tuple[str, str]]:
    host, port, controller = LOOPBACK_HOST, endpoints.kafka_port, endpoints.controller_port
    return [
        ("listeners", f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller}"),
        ("advertised.listeners", f"PLAINTEXT://{host}:{port}"),
        ("controller.listener.names", "CONTROLLER"),
        ("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
        ("inter.broker.listener.name", "PLAINTEXT"),
    ]


def render_reload4j_config(log_file: Path) -> str:
    """Kafka 3.x logging (reload4j, log4j 1.x syntax): everything to one rolling file."""
    return f"""\
# Written by `renkei stack up`; Kafka 3.x logs through reload4j.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File={log_file}
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=3
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
"""


def render_log4j2_config(log_file: Path) -> str:
    """Kafka 4.x logging (log4j2, XML so no YAML library is needed on the classpath)."""
    return f"""\
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by `renkei stack up`; Kafka 4.x logs through log4j2. -->
<Configuration status="WARN">
  <Appenders>
    <RollingFile name="file" fileName="{log_file}" filePattern="{log_file}.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="20 MB"/></Policies>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
    <Root level="INFO"><AppenderRef ref="file"/></Root>
  </Loggers>
</Configuration>
"""


def logging_config(version: KafkaVersion, log_file: Path) -> tuple[str, str]:
    """(file name, contents) of the logging configuration for ``version``."""
    if version.uses_log4j2:
        return "log4j2.xml", render_log4j2_config(log_file)
    return "log4j.properties", render_reload4j_config(log_file)


def logging_jvm_flag(version: KafkaVersion, config_file: Path) -> str:
    """The system property that points the broker's logging backend at ``config_file``."""
    if version.uses_log4j2:
        return f"-Dlog4j2.configurationFile={config_file}"
    return f"-Dlog4j.configuration=file:{config_file}"


def new_cluster_id() -> str:
    """A KRaft cluster id, as ``kafka-storage random-uuid`` makes it (saves starting a JVM).

    Kafka's ``Uuid.toString`` is URL-safe base64 of 16 bytes without padding; it never hands
    out ids starting with ``-`` (they read as command-line flags).
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


@dataclass(frozen=True)
class ClusterNode:
    """One combined broker+controller of a multi-node cluster on loopback.

    ``side_port`` (optional) is a second client listener (``SIDE``) that the broker binds but
    advertises as ``side_advertised_port``: a client bootstrapped there is told to reach every
    broker at its advertised side port, so a TCP proxy listening on those ports carries all of
    that client's traffic (and nobody else's). The fault suite cuts one worker off the
    brokers that way, without privileges (docs/reliability.md, scenario i).
    """

    node_id: int
    broker_port: int
    controller_port: int
    side_port: int | None = None
    side_advertised_port: int | None = None

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK_HOST}:{self.broker_port}"

    @property
    def side_bootstrap(self) -> str | None:
        """Where a client of the side listener starts (the advertised side port)."""
        if self.side_advertised_port is None:
            return None
        return f"{LOOPBACK_HOST}:{self.side_advertised_port}"


def cluster_nodes(
    first_port: int, count: int = 3, *, side: bool = False
) -> tuple[ClusterNode, ...]:
    """``count`` nodes: brokers on ``first_port``…, controllers on the ``count`` ports after;
    with ``side``, side listeners on the ``count`` ports after those, advertised as the
    ``count`` ports after them (``4 * count`` consecutive ports in all)."""
    return tuple(
        ClusterNode(
            i + 1,
            first_port + i,
            first_port + count + i,
            first_port + 2 * count + i if side else None,
            first_port + 3 * count + i if side else None,
        )
        for i in range(count)
    )


def render_cluster_properties(
    version: KafkaVersion,
    nodes: tuple[ClusterNode, ...],
    node: ClusterNode,
    data_dir: Path,
    *,
    min_insync_replicas: int = 2,
) -> str:
    """server.properties of ``node`` in a cluster where every node is broker and controller
    (a combined controller quorum of all ``nodes``), replicated ``len(nodes)`` times.

    Topics get ``len(nodes)`` replicas by default and need ``min_insync_replicas`` in sync
    for an ``acks=all`` write: with 3 nodes, one may die without losing an acknowledged record.
    """
    host = LOOPBACK_HOST
    replicas = str(len(nodes))
    voters = ",".join(f"{n.node_id}@{host}:{n.controller_port}" for n in nodes)
    listeners = f"PLAINTEXT://{host}:{node.broker_port},CONTROLLER://{host}:{node.controller_port}"
    advertised = f"PLAINTEXT://{host}:{node.broker_port}"
    protocols = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    if node.side_port is not None:
        side_advertised = node.side_advertised_port or node.side_port
        listeners += f",SIDE://{host}:{node.side_port}"
        advertised += f",SIDE://{host}:{side_advertised}"
        protocols += ",SIDE:PLAINTEXT"
    settings: list[tuple[str, str]] = [
        ("process.roles", "broker,controller"),
        ("node.id", str(node.node_id)),
        ("controller.quorum.voters", voters),
        ("listeners", listeners),
        ("advertised.listeners", advertised),
        ("controller.listener.names", "CONTROLLER"),
        ("listener.security.protocol.map", protocols),
        ("inter.broker.listener.name", "PLAINTEXT"),
        ("log.dirs", str(data_dir)),
        ("num.partitions", "3"),
        ("auto.create.topics.enable", "false"),
        ("default.replication.factor", replicas),
        ("min.insync.replicas", str(min_insync_replicas)),
        ("unclean.leader.election.enable", "false"),
        ("offsets.topic.replication.factor", replicas),
        ("transaction.state.log.replication.factor", replicas),
        ("transaction.state.log.min.isr", str(min_insync_replicas)),
        ("group.initial.rebalance.delay.ms", "0"),
    ]
    if version.has_share_coordinator:
        settings += [
            ("share.coordinator.state.topic.replication.factor", replicas),
            ("share.coordinator.state.topic.min.isr", str(min_insync_replicas)),
        ]
    header = f"# Written by renkei.stack.cluster for Kafka {version} (node {node.node_id}).\n"
    return header + "".join(f"{key}={value}\n" for key, value in settings)
