"""faust declares its own internal topics (table changelogs) through the admin API; that must
work on a broker with topic auto-creation disabled (the platform's broker is configured so)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from renkei.settings import Settings
from tests.runtime.echo_stage import PARTITIONS
from tests.runtime.kafka_helpers import WorkerProcess, create_echo_topics, wait_for_topic

pytestmark = pytest.mark.kafka


async def _auto_create_enabled(settings: Settings) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.BROKER, "1", {"auto.create.topics.enable": None})]
        )
        [resource] = response.to_object()["resources"]
        [entry] = resource["config_entries"]
        return str(entry["config_value"])
    finally:
        await admin.close()


@pytest.mark.timeout(120)
def test_a_table_changelog_is_created_although_the_broker_does_not_auto_create(
    live_stack: Settings, tmp_path: Path
) -> None:
    settings, prefix = live_stack, f"test-{uuid.uuid4().hex[:10]}."
    assert asyncio.run(_auto_create_enabled(settings)) == "false"
    asyncio.run(create_echo_topics(settings, prefix))
    worker = WorkerProcess(
        "tests.runtime.echo_stage:build_echo_with_table",
        tmp_path / "worker.log",
        {"RENKEI_TOPIC_PREFIX": prefix},
    )
    try:
        changelog = f"{prefix}renkei-echo-seen-changelog"
        assert asyncio.run(wait_for_topic(settings, changelog, timeout=60)) == PARTITIONS
    finally:
        code = worker.stop()
    assert code == 0, worker.output()
