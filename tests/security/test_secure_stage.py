"""A faust stage on the secure stack: the standardize worker logs in as the platform user
(faust ``broker_credentials`` from the settings) and turns a department's event, published by
the department's own principal, into its ``std.*`` record."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from click.testing import Result

from renkei.kafka_security import kafka_client_options
from renkei.publish import Publisher
from renkei.schemas import load_catalogue
from renkei.settings import Settings
from renkei.stages.standardize.stage import std_topic
from tests.runtime.kafka_helpers import WorkerProcess
from tests.security.conftest import SecureStack

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]
SOURCE = "registry.resident.events"
WEB_PORT = 7410  # inside this helper's port range (7400-7499)


async def _count(settings: Settings, topic: str, at_least: int, timeout: float) -> int:
    consumer = AIOKafkaConsumer(
        topic, **kafka_client_options(settings), group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen = 0
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while seen < at_least and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            seen += sum(len(records) for records in batches.values())
        return seen
    finally:
        await consumer.stop()


def test_standardize_worker_runs_as_the_platform_user(
    applied: tuple[SecureStack, Result], tmp_path: Path
) -> None:
    secure_stack, _ = applied
    env = {k: v for k, v in secure_stack.environment.items() if k != "RENKEI_HOME"}

    registry_dept = secure_stack.as_user("dept-registry")
    catalogue = load_catalogue(registry_dept.schemas_dir)
    examples = list(catalogue.get(SOURCE).examples.values())

    async def publish() -> None:
        async with Publisher(registry_dept, catalogue) as publisher:
            for example in examples:
                await publisher.publish(SOURCE, example)

    asyncio.run(publish())
    worker = WorkerProcess("standardize", tmp_path / "worker.log", env, web_port=WEB_PORT)
    try:
        seen = asyncio.run(
            _count(secure_stack.admin, std_topic(SOURCE), len(examples), timeout=120)
        )
    finally:
        code = worker.stop()
    assert code == 0, worker.output()
    assert seen >= len(examples), worker.output()
    assert "SaslAuthenticationFailed" not in worker.output()
