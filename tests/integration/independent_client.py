"""Reading topics with confluent-kafka's own consumer, SchemaRegistryClient and AvroDeserializer:
an independent Confluent client, as a department's or vendor's system would use."""

from __future__ import annotations

import time
import uuid
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from renkei.settings import Settings


def read_all(
    settings: Settings, topic: str, expected: int, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Decode every record of ``topic`` from the start until ``expected`` arrived or time is up."""
    registry = SchemaRegistryClient({"url": settings.schema_registry_url, "timeout": 10})
    deserializer = AvroDeserializer(registry)
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"renkei-test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.subscribe([topic])
        values: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(values) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            context = SerializationContext(topic, MessageField.VALUE, message.headers())
            values.append(
                {
                    "key": message.key().decode("utf-8"),
                    "headers": dict((k, v.decode("utf-8")) for k, v in message.headers() or []),
                    "value": deserializer(message.value(), context),
                }
            )
        return values
    finally:
        consumer.close()


def end_offsets(settings: Settings, topic: str, partitions: int) -> int:
    """Total records in ``topic`` (sum of high watermarks)."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": "renkei-probe"})
    try:
        _await_leaders(consumer, topic, partitions)
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        )
    finally:
        consumer.close()


def _await_leaders(consumer: Consumer, topic: str, partitions: int, timeout: float = 30.0) -> None:
    """Wait until the client's metadata knows every partition of ``topic`` with a leader.

    A topic a stage has just created can be listed before its partitions have leaders; asking
    for watermarks then fails with "Unknown partition" instead of waiting.
    """
    deadline = time.monotonic() + timeout
    while True:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        known = {} if meta is None or meta.error is not None else meta.partitions
        if all(p in known and known[p].leader >= 0 for p in range(partitions)):
            return
        if time.monotonic() > deadline:
            error = None if meta is None else meta.error
            raise AssertionError(
                f"{topic}: partitions {sorted(known)} ({error}) after {timeout:.0f} s"
            )
        time.sleep(0.5)
