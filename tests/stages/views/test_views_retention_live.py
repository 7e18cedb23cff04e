"""People who left and the agreement's retention, on the real broker and registry (issue 12).

The resident and views stages run as worker subprocesses under a test topic prefix; registry
events go in with the project's encoder; the view topics are read back by an independent
client (confluent-kafka with the registry's schemas) and their configs by confluent-kafka's
admin client. A resident who moves out (転出) ends with a tombstone in every resident view;
the one who stays keeps their record; each view topic's configs follow its agreement — also
a view topic created earlier with other settings (the stage reconciles them at start).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from renkei.contracts.views import DAY_MS
from renkei.schemas.jsonform import to_datum
from renkei.serde.avro import AvroEncoder
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from renkei.stages.views.pseudonym import load_or_create_key
from tests.conftest import AppliedSchemas, RunningStages
from tests.integration.independent_client import read_all
from tests.runtime.kafka_helpers import free_port_block, produce
from tests.stages import factories as f
from tests.stages.views.harness import view_plans

pytestmark = pytest.mark.kafka
REG = "std.registry.resident.events"
RESIDENT_VIEWS = {  # view topic → purpose (both agreements grant unified.resident)
    "view.health-promotion.resident": "health-promotion",
    "view.resident-services.resident": "resident-services",
}
LEAVES, STAYS = "000000000000971", "000000000000972"
STAGES = ("resident", "views")


async def _publish(settings: Settings, prefix: str, records: list[tuple[str, dict]]) -> None:
    client = RegistryClient(settings.schema_registry_url)
    try:
        spec = f.spec(REG)
        encoder = AvroEncoder(client, f"{prefix}{REG}-value", spec.schema)
        await encoder.prepare()
        for key, datum in records:
            value = encoder.encode(to_datum(spec.schema, datum))
            await produce(settings, prefix + REG, [(key.encode(), value, [], None)])
    finally:
        await client.aclose()


def _records(settings: Settings, topic: str, done: Any, timeout: float = 180.0) -> list[Any]:
    """Every record of ``topic`` (independent client) once ``done(records)`` holds."""
    deadline = time.monotonic() + timeout
    records: list[Any] = []
    while time.monotonic() < deadline:
        records = read_all(settings, topic, 10**6, timeout=3)
        if done(records):
            return records
    raise AssertionError(f"{topic}: condition not met in {timeout}s: {records}")


def _latest(records: list[Any]) -> dict[str, Any]:
    return {r["key"]: r["value"] for r in records}


def _configs(admin: AdminClient, topic: str) -> dict[str, str]:
    """The topic's configs (a topic just created may be unknown to the broker briefly)."""
    deadline = time.monotonic() + 30
    while True:
        (future,) = admin.describe_configs([ConfigResource("topic", topic)]).values()
        try:
            return {name: str(entry.value) for name, entry in future.result(timeout=10).items()}
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
            assert time.monotonic() < deadline, f"{topic} never became known"
            time.sleep(0.5)


@pytest.mark.timeout(600)
def test_a_resident_who_moves_out_ends_with_a_tombstone_in_each_resident_view(
    live_stack: Settings,
    applied_schemas: AppliedSchemas,
    running_stages: RunningStages,
    tmp_path: Path,
) -> None:
    settings, prefix = live_stack, applied_schemas.prefix
    plans = {plan.topic: plan for plan in view_plans()}
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    # A view topic made before this change: compacted, the broker's default retention configs.
    stale = "view.health-promotion.resident"
    created = admin.create_topics(
        [
            NewTopic(
                prefix + stale,
                plans[stale].spec.partitions,
                1,
                config={"cleanup.policy": "compact"},
            )
        ]
    )
    for future in created.values():
        future.result(timeout=30)
    assert _configs(admin, prefix + stale)["delete.retention.ms"] == str(DAY_MS)  # default
    home = tmp_path / "home"
    workers = running_stages(
        *STAGES,
        env={**applied_schemas.env, "RENKEI_HOME": str(home)},
        web_port_base=free_port_block(len(STAGES)),
    )
    try:
        asyncio.run(
            _publish(
                settings,
                prefix,
                [
                    (LEAVES, f.moved_in(LEAVES, "2026-04-01", 1, hh=f.household("0000000971"))),
                    (STAYS, f.moved_in(STAYS, "2026-04-01", 1, hh=f.household("0000000972"))),
                ],
            )
        )
        keys = home / "secrets" / "pseudonym"
        pseudonyms = {
            topic: (
                load_or_create_key(keys, purpose).pseudonym(LEAVES),
                load_or_create_key(keys, purpose).pseudonym(STAYS),
            )
            for topic, purpose in RESIDENT_VIEWS.items()
        }
        for topic, (leaves, stays) in pseudonyms.items():
            latest = _latest(
                _records(
                    settings,
                    prefix + topic,
                    lambda r, both={leaves, stays}: both <= set(_latest(r)),
                )
            )
            assert latest[leaves] is not None and latest[leaves]["resident_key"] == leaves

        asyncio.run(_publish(settings, prefix, [(LEAVES, f.moved_out(LEAVES, "2026-08-01", 2))]))
        for topic, (leaves, stays) in pseudonyms.items():
            records = _records(
                settings,
                prefix + topic,
                lambda r, gone=leaves: gone in _latest(r) and _latest(r)[gone] is None,
            )
            latest = _latest(records)
            assert latest[leaves] is None, topic  # the tombstone: compaction removes them
            assert latest[stays] is not None and latest[stays]["resident_key"] == stays
            (tombstone,) = [r for r in records if r["value"] is None]
            assert tombstone["headers"]["ce_source"] == f"/renkei/views/{RESIDENT_VIEWS[topic]}"
            assert LEAVES not in repr(tombstone)  # the pseudonym only, no resident key
            # The topic's configs follow the agreement (the stale one was reconciled).
            days = {"health-promotion": 365, "resident-services": 7}[RESIDENT_VIEWS[topic]]
            configs = _configs(admin, prefix + topic)
            assert configs["cleanup.policy"] == "compact", topic
            assert configs["delete.retention.ms"] == str(days * DAY_MS), topic
            assert configs["max.compaction.lag.ms"] == str(DAY_MS), topic
        # The source keeps the resident's last record (moved_out): the views stage decided.
        unified = _latest(read_all(settings, prefix + "unified.resident", 10**6, timeout=5))
        assert unified[LEAVES]["status"] == "moved_out"
    finally:
        running_stages.assert_stopped_cleanly(workers)
        mine = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
        if mine:
            for future in admin.delete_topics(mine).values():
                future.result(timeout=30)


@pytest.mark.timeout(120)
def test_reconciling_a_view_topic_keeps_its_other_settings(live_stack: Settings) -> None:
    """AlterConfigs replaces every topic-level setting: the reconciliation sends the topic's
    own other settings (here ``segment.ms``, set by an operator or a topic file) along."""
    from renkei.schemas.catalogue import renamed
    from renkei.topics import reconcile_topic_configs

    plan = {p.topic: p for p in view_plans()}["view.resident-services.resident"]
    spec = renamed(plan.spec, f"test-{uuid.uuid4().hex[:10]}.{plan.topic}")
    admin = AdminClient({"bootstrap.servers": live_stack.kafka_bootstrap})
    own = {"cleanup.policy": "compact", "segment.ms": "3600000"}
    for future in admin.create_topics([NewTopic(spec.topic, 1, 1, config=own)]).values():
        future.result(timeout=30)
    try:
        deadline = time.monotonic() + 30
        while not (outcomes := asyncio.run(reconcile_topic_configs(live_stack, [spec]))):
            assert time.monotonic() < deadline, "the new topic never appeared in the metadata"
            time.sleep(0.5)  # a topic just created may be missing from the metadata briefly
        (first,) = outcomes
        assert first.action == "updated" and "delete.retention.ms" in first.detail
        configs = _configs(admin, spec.topic)
        assert configs["delete.retention.ms"] == str(7 * DAY_MS)
        assert configs["max.compaction.lag.ms"] == str(DAY_MS)
        assert configs["segment.ms"] == "3600000"  # kept
        (second,) = asyncio.run(reconcile_topic_configs(live_stack, [spec]))
        assert second.action == "exists"
    finally:
        for future in admin.delete_topics([spec.topic]).values():
            future.result(timeout=30)
