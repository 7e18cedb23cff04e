"""Acceptance: after `renkei simulate`, confluent-kafka's own AvroDeserializer with its
SchemaRegistryClient decodes records from every department topic."""

from __future__ import annotations

import random

import pytest
from click.testing import CliRunner
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from renkei.cli import cli
from renkei.identifiers.municipality import is_valid_municipality_code
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from renkei.simulator import TOPICS

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]


def _end_offsets(consumer: Consumer, topic: str, partitions: int) -> dict[int, int]:
    consumer.list_topics(topic, timeout=10)  # load the partition metadata first
    return {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        for p in range(partitions)
    }


def _decode_from(settings: Settings, topic: str, start: dict[int, int]) -> list[dict]:  # type: ignore[type-arg]
    """Every record of ``topic`` after ``start`` offsets, decoded by confluent-kafka."""
    deserializer = AvroDeserializer(
        SchemaRegistryClient({"url": settings.schema_registry_url, "timeout": 10})
    )
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": "unused",
            "enable.auto.commit": False,
        }
    )
    try:
        end = _end_offsets(consumer, topic, len(start))
        consumer.assign([TopicPartition(topic, p, o) for p, o in start.items()])
        wanted = sum(end[p] - start[p] for p in start)
        values: list[dict] = []  # type: ignore[type-arg]
        for _ in range(200):
            if len(values) >= wanted:
                break
            for message in consumer.consume(500, timeout=0.5):
                if message.error():
                    continue
                context = SerializationContext(topic, MessageField.VALUE, message.headers())
                values.append(deserializer(message.value(), context))
        return values
    finally:
        consumer.close()


def test_simulation_is_readable_by_an_independent_confluent_client(
    live_stack: Settings, catalogue: Catalogue
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["schemas", "apply"]).exit_code == 0
    probe = Consumer({"bootstrap.servers": live_stack.kafka_bootstrap, "group.id": "unused"})
    department = [catalogue.get(topic) for topic in TOPICS]
    before = {s.topic: _end_offsets(probe, s.topic, s.partitions) for s in department}
    probe.close()

    seed = random.randrange(10**9)  # fresh event ids, so this run's records are told apart
    result = runner.invoke(
        cli, ["simulate", "--residents", "300", "--events", "600", "--seed", str(seed)]
    )
    assert result.exit_code == 0, result.output

    for spec in department:
        values = _decode_from(live_stack, spec.topic, before[spec.topic])
        assert values, f"nothing decoded from {spec.topic}"
        assert f"{spec.topic}" in result.output
        published = int(result.output.split(spec.topic)[-1].split()[0])
        assert len(values) == published
        assert all(is_valid_municipality_code(v["municipality_code"]) for v in values)
        assert all(v[spec.key_field] for v in values)
