"""Per-stage principals ``renkei-<stage>``: the ACL generator (pure) and, on the secure stack,
the broker refusing a stage principal what it does not own (issue 14)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from click.testing import CliRunner, Result

from renkei.agreements.kafka_admin import Acl
from renkei.agreements.model import is_platform_principal
from renkei.agreements.stage_principals import platform_stage_acls, stage_principal
from renkei.cli import cli
from renkei.contracts.stages import RESIDENT_FACTS, STAGES
from renkei.kafka_security import kafka_client_options
from renkei.publish import Publisher
from renkei.reference.records import REFERENCE_TOPICS
from renkei.schemas.catalogue import load_catalogue
from renkei.settings import Settings
from renkei.stack.secure import password_file
from renkei.stages.standardize.stage import std_topic
from tests.runtime.kafka_helpers import WorkerProcess
from tests.security.conftest import VIEW, SecureStack
from tests.security.test_secure_stage import _count

REPO = Path(__file__).resolve().parents[2]
AGREEMENTS = REPO / "deploy" / "agreements"
CATALOGUE = load_catalogue(REPO / "schemas" / "avro")
WANTED = platform_stage_acls(CATALOGUE, AGREEMENTS)


def _ops(principal: str, topic: str) -> set[str]:
    """Operations ``principal`` may do on ``topic`` (LITERAL and PREFIXED bindings)."""
    return {
        acl.operation
        for acl in WANTED[principal]
        if acl.resource_type == "TOPIC"
        and (
            acl.resource_name == topic
            if acl.pattern == "LITERAL"
            else topic.startswith(acl.resource_name)
        )
    }


def test_every_stage_has_a_platform_principal_with_its_group_only() -> None:
    assert set(WANTED) == {f"renkei-{name}" for name in STAGES}
    for name, spec in STAGES.items():
        principal = stage_principal(name)
        assert is_platform_principal(principal)
        groups = {a for a in WANTED[principal] if a.resource_type == "GROUP"}
        assert groups == {Acl(f"User:{principal}", "GROUP", spec.group(), "LITERAL", "READ")}


def test_each_stage_reads_its_inputs_and_writes_its_outputs() -> None:
    for name, spec in STAGES.items():
        principal = stage_principal(name)
        for topic in spec.contract_inputs(CATALOGUE, AGREEMENTS):
            assert {"READ", "DESCRIBE"} <= _ops(principal, topic), (name, topic)
            assert "WRITE" not in _ops(principal, topic), (name, topic)
        for topic in spec.contract_outputs(CATALOGUE, AGREEMENTS):
            assert "WRITE" in _ops(principal, topic) and "READ" not in _ops(principal, topic)
        for suffix in spec.internal_topics:
            assert {"READ", "WRITE"} <= _ops(principal, spec.internal_topic(suffix))
        for table in spec.tables:
            assert {"READ", "WRITE"} <= _ops(principal, spec.changelog_topic(table))


def test_the_standardize_principal_reads_the_reference_data_it_replicates() -> None:
    """Every standardize worker reads the ref.* topics whole before serving (issue 15); without
    READ on them its principal sees no such topics and the worker cannot start."""
    assert STAGES["standardize"].replicated_inputs == REFERENCE_TOPICS
    for topic in REFERENCE_TOPICS:
        assert _ops("renkei-standardize", topic) == {"READ", "DESCRIBE"}
        assert _ops("renkei-region", topic) == set()


def test_a_stage_principal_gets_nothing_it_does_not_own() -> None:
    # region reads the facts, not the unified resident records or another stage's internals
    assert _ops("renkei-region", "unified.resident") == set()
    assert _ops("renkei-region", "renkei-resident-residents-changelog") == set()
    assert _ops("renkei-region", "renkei-evacuation-regions") == set()
    # the views stage never sees the internal facts; no stage reads a view or a DLQ
    assert _ops("renkei-views", RESIDENT_FACTS) == set()
    for principal in WANTED:
        assert "READ" not in _ops(principal, VIEW)
        assert "READ" not in _ops(principal, "dlq.registry.resident.events")
        assert _ops(principal, "audit.access") <= {"WRITE", "DESCRIBE"}
    assert _ops("renkei-standardize", "audit.access") == set()


def test_only_the_views_stage_may_set_the_configs_of_its_own_outputs() -> None:
    """The views stage reconciles its view topics' retention with the agreements at start."""
    configs = {"DESCRIBE_CONFIGS", "ALTER_CONFIGS"}
    views = STAGES["views"].contract_outputs(CATALOGUE, AGREEMENTS)
    assert views and all(configs <= _ops("renkei-views", topic) for topic in views)
    for principal in WANTED:
        assert not configs & _ops(principal, "unified.resident"), principal
        assert not configs & _ops(principal, "dlq.registry.resident.events"), principal
        if principal != "renkei-views":
            assert not any(configs & _ops(principal, topic) for topic in views), principal


def test_stage_acls_are_printed_by_the_cli() -> None:
    result = CliRunner().invoke(cli, ["agreements", "stage-acls", "--dir", str(AGREEMENTS)])
    assert result.exit_code == 0, result.output
    assert "# renkei-views:" in result.output
    assert f"User:renkei-region READ TOPIC {RESIDENT_FACTS} (LITERAL)" in result.output


async def _first_record(settings: Settings, topic: str, group: str) -> bytes | None:
    """The first record of ``topic`` read in ``group`` (the stage's own group, which its ACLs
    allow: so a refusal is about the topic)."""
    consumer = AIOKafkaConsumer(
        topic, **kafka_client_options(settings), group_id=group, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), 90)
        return bytes(message.value) if message.value is not None else None
    finally:
        await consumer.stop()


async def _write_one(settings: Settings, topic: str, value: bytes = b"x") -> None:
    producer = AIOKafkaProducer(**kafka_client_options(settings), request_timeout_ms=10000)
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, value, key=b"k"), 60)
    finally:
        await producer.stop()


@pytest.mark.kafka
@pytest.mark.timeout(420)
def test_the_broker_refuses_a_stage_principal_a_topic_it_does_not_own(
    applied: tuple[SecureStack, Result],
) -> None:
    stack, first = applied
    assert "user    renkei-region" in first.stdout
    region = stack.as_user("renkei-region")
    views = stack.as_user("renkei-views")
    # allowed: the region stage reads its input in its group
    asyncio.run(_write_one(stack.admin, RESIDENT_FACTS, b"facts-record"))
    assert asyncio.run(_first_record(region, RESIDENT_FACTS, "renkei-region")) == b"facts-record"
    # refused: another stage's output, the internal facts for views, a view, a DLQ
    for settings, group, topic in (
        (region, "renkei-region", "unified.resident"),
        (views, "renkei-views", RESIDENT_FACTS),
        (region, "renkei-region", VIEW),
        (views, "renkei-views", "dlq.registry.resident.events"),
    ):
        with pytest.raises(TopicAuthorizationFailedError):
            asyncio.run(_first_record(settings, topic, group))
    # refused: writing another stage's output, or joining another stage's group
    with pytest.raises(KafkaError):
        asyncio.run(_write_one(region, "unified.resident"))
    with pytest.raises(GroupAuthorizationFailedError):
        asyncio.run(_first_record(region, RESIDENT_FACTS, "renkei-evacuation"))


@pytest.mark.kafka
@pytest.mark.timeout(420)
def test_the_standardize_stage_runs_under_its_own_principal(
    applied: tuple[SecureStack, Result], tmp_path: Path
) -> None:
    """The generated ACLs are enough for a real faust stage: it provisions its DLQs, joins
    its group, reads department topics and writes std.* as renkei-standardize."""
    stack, _ = applied
    env = {k: v for k, v in stack.environment.items() if k != "RENKEI_HOME"}
    env["RENKEI_KAFKA_SASL_USERNAME"] = stage_principal("standardize")
    env["RENKEI_KAFKA_SASL_PASSWORD_FILE"] = str(
        password_file(stack.admin.home, stage_principal("standardize"))
    )
    source = "health.checkup.results"
    checkup = stack.as_user("dept-checkup")
    examples = list(CATALOGUE.get(source).examples.values())

    async def publish() -> None:
        async with Publisher(checkup, CATALOGUE) as publisher:
            for example in examples:
                await publisher.publish(source, example)

    asyncio.run(publish())
    worker = WorkerProcess("standardize", tmp_path / "worker.log", env)  # a free web port
    try:
        seen = asyncio.run(_count(stack.admin, std_topic(source), len(examples), timeout=150))
    finally:
        code = worker.stop()
    output = worker.output()
    assert code == 0, output
    assert seen >= len(examples), output
    assert "AuthorizationFailed" not in output and "SaslAuthenticationFailed" not in output
