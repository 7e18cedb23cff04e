"""Against the running stack (`renkei stack up`): status sees both servers; a client works."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from click.testing import CliRunner

from renkei.cli.stack_cmd import stack
from renkei.settings import Settings
from renkei.stack import APICURIO_VERSION, stack_status

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]


def test_status_reports_both_servers_up_with_version_and_address(live_stack: Settings) -> None:
    result = CliRunner().invoke(stack, ["status"], obj=live_stack)
    assert result.exit_code == 0, result.output
    kafka_row, registry_row = result.output.splitlines()[:2]
    assert kafka_row.split()[:2] == ["kafka", "up"]
    assert live_stack.kafka_bootstrap.split(",")[0].replace("localhost", "127.0.0.1") in kafka_row
    assert registry_row.split()[:3] == ["registry", "up", APICURIO_VERSION]
    assert live_stack.schema_registry_url.rstrip("/") in registry_row
    kafka = stack_status(live_stack).server("kafka")
    if kafka.pid is not None:  # started by `renkei stack`: the version it runs is known
        assert kafka.version is not None and re.fullmatch(r"\d+\.\d+\.\d+", kafka.version)
        assert kafka.version in kafka_row


async def test_the_broker_serves_a_produce_and_consume_round_trip(live_stack: Settings) -> None:
    topic = f"test-stack-{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=live_stack.kafka_bootstrap)
    await admin.start()
    try:  # the broker does not auto-create topics: the catalogue decides partitions
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=live_stack.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"renkei", key=b"131016")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=live_stack.kafka_bootstrap,
        group_id=f"{topic}-group",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert (message.key, message.value) == (b"131016", b"renkei")
