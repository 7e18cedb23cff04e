"""The broker's server.properties and logging configuration, per Kafka line."""

from __future__ import annotations

import base64
from pathlib import Path

from renkei.settings import Settings
from renkei.stack.endpoints import StackEndpoints
from renkei.stack.kafka_config import (
    cluster_nodes,
    logging_config,
    logging_jvm_flag,
    new_cluster_id,
    render_cluster_properties,
    render_server_properties,
)
from renkei.stack.versions import KafkaVersion


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def _endpoints(bootstrap: str = "127.0.0.1:9092") -> StackEndpoints:
    return StackEndpoints.from_settings(Settings(kafka_bootstrap=bootstrap))


def test_single_node_kraft_on_loopback(tmp_path: Path) -> None:
    props = _properties(
        render_server_properties(KafkaVersion.parse("3.9.1"), _endpoints(), tmp_path / "data")
    )
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert not any(key.startswith("share.") for key in props)


def test_ports_follow_the_bootstrap_setting(tmp_path: Path) -> None:
    props = _properties(
        render_server_properties(
            KafkaVersion.parse("3.9.1"), _endpoints("localhost:19092"), tmp_path
        )
    )
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"


def test_kafka_4_1_gets_share_coordinator_replication_of_one(tmp_path: Path) -> None:
    props = _properties(
        render_server_properties(KafkaVersion.parse("4.1.1"), _endpoints(), tmp_path)
    )
    assert props["share.coordinator.state.topic.replication.factor"] == "1"
    assert props["share.coordinator.state.topic.min.isr"] == "1"


def test_kafka_3_logs_through_reload4j_to_the_log_file(tmp_path: Path) -> None:
    version = KafkaVersion.parse("3.9.1")
    name, text = logging_config(version, tmp_path / "kafka.log")
    assert name == "log4j.properties"
    assert f"log4j.appender.file.File={tmp_path / 'kafka.log'}" in text
    assert "ConsoleAppender" not in text
    flag = logging_jvm_flag(version, tmp_path / name)
    assert flag == f"-Dlog4j.configuration=file:{tmp_path / name}"


def test_kafka_4_logs_through_log4j2_to_the_log_file(tmp_path: Path) -> None:
    version = KafkaVersion.parse("4.1.1")
    name, text = logging_config(version, tmp_path / "kafka.log")
    assert name == "log4j2.xml"
    assert f'fileName="{tmp_path / "kafka.log"}"' in text
    assert "<Console" not in text
    assert logging_jvm_flag(version, tmp_path / name) == (
        f"-Dlog4j2.configurationFile={tmp_path / name}"
    )


def test_cluster_ids_look_like_kafka_uuids() -> None:
    ids = {new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for cluster_id in ids:
        assert len(cluster_id) == 22 and not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_cluster_nodes_share_one_controller_quorum(tmp_path: Path) -> None:
    nodes = cluster_nodes(29092, 3)
    assert [(n.node_id, n.broker_port, n.controller_port) for n in nodes] == [
        (1, 29092, 29095),
        (2, 29093, 29096),
        (3, 29094, 29097),
    ]
    version = KafkaVersion.parse("4.1.0")
    props = _properties(render_cluster_properties(version, nodes, nodes[1], tmp_path / "n2"))
    assert props["node.id"] == "2"
    voters = "1@127.0.0.1:29095,2@127.0.0.1:29096,3@127.0.0.1:29097"
    assert props["controller.quorum.voters"] == voters
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29093,CONTROLLER://127.0.0.1:29096"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29093"
    assert props["default.replication.factor"] == "3"
    assert props["offsets.topic.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props["transaction.state.log.min.isr"] == "2"
    assert props["unclean.leader.election.enable"] == "false"
    assert props["share.coordinator.state.topic.replication.factor"] == "3"
    assert props["log.dirs"] == str(tmp_path / "n2")


def test_side_listener_is_advertised_at_its_proxy_port(tmp_path: Path) -> None:
    nodes = cluster_nodes(29400, 3, side=True)
    assert [
        (n.node_id, n.broker_port, n.controller_port, n.side_port, n.side_advertised_port)
        for n in nodes
    ] == [
        (1, 29400, 29403, 29406, 29409),
        (2, 29401, 29404, 29407, 29410),
        (3, 29402, 29405, 29408, 29411),
    ]
    assert nodes[2].side_bootstrap == "127.0.0.1:29411"
    version = KafkaVersion.parse("3.9.1")
    props = _properties(render_cluster_properties(version, nodes, nodes[2], tmp_path / "n3"))
    assert props["listeners"] == (
        "PLAINTEXT://127.0.0.1:29402,CONTROLLER://127.0.0.1:29405,SIDE://127.0.0.1:29408"
    )
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29402,SIDE://127.0.0.1:29411"
    assert props["listener.security.protocol.map"] == (
        "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SIDE:PLAINTEXT"
    )
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert cluster_nodes(29400, 3)[0].side_port is None
