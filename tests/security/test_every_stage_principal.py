"""Every stage under its own principal on the secure stack, end to end (issue 14).

standardize, resident, region, evacuation and views run as ``renkei-<stage>`` (SCRAM, the ACLs
`renkei agreements apply` generated; no registry credentials: the stages only read schemas).
Departments publish as their own principals; the resident reaches ``unified.resident`` and
``unified.region``, an alert puts them on ``derived.evacuation-support``, and the evacuation
notifier reads its view. Then, on the same broker:

- the notifier (a consumer) is refused another purpose's view, an internal topic and a DLQ;
- the audit: the evacuation stage appended its release to ``audit.access`` with WRITE only and
  is refused reading it, deleting its records or changing its retention; the audit principal
  ``renkei-audit`` reads it (``renkei audit verify --against-topic`` matches the stages' file)
  and is refused writing it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.admin.records_to_delete import RecordsToDelete
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError
from click.testing import CliRunner, Result

from renkei.agreements.stage_principals import AUDIT_PRINCIPAL, stage_principal
from renkei.audit.crosscheck import read_topic
from renkei.cli import cli
from renkei.contracts.stages import RESIDENT_FACTS
from renkei.errors import RenkeiError
from renkei.kafka_security import kafka_client_options
from renkei.publish import Publisher
from renkei.schemas.catalogue import load_catalogue
from renkei.serde.avro import AvroDecoder
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from renkei.stack.secure import password_file
from tests.integration.test_platform_acceptance import REGION, RESIDENT, _alert, _events
from tests.runtime.kafka_helpers import WorkerProcess
from tests.security.conftest import VIEW, SecureStack

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(900)]
REPO = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue(REPO / "schemas" / "avro")
STAGES = ("standardize", "resident", "region", "evacuation", "views")
DEPARTMENTS = {
    "registry.resident.events": "dept-registry",
    "health.checkup.results": "dept-checkup",
    "welfare.care.certifications": "dept-care",
    "disaster.area.alerts": "dept-disaster",
}
OTHER_VIEW = "view.health-promotion.resident"
AUDIT_TOPIC = "audit.access"


def _stage_env(stack: SecureStack, stage: str, home: Path) -> dict[str, str]:
    """The stage's own principal; no super user, no schema principal."""
    env = {
        k: v
        for k, v in stack.environment.items()
        if not k.startswith("RENKEI_SCHEMA_REGISTRY_USER")
        and not k.startswith("RENKEI_SCHEMA_REGISTRY_PASSWORD")
    }
    principal = stage_principal(stage)
    env["RENKEI_HOME"] = str(home)
    env["RENKEI_KAFKA_SASL_USERNAME"] = principal
    env["RENKEI_KAFKA_SASL_PASSWORD_FILE"] = str(password_file(stack.admin.home, principal))
    return env


async def _publish(stack: SecureStack, topic: str, value: dict[str, Any]) -> None:
    async with Publisher(stack.as_user(DEPARTMENTS[topic]), CATALOGUE) as publisher:
        await publisher.publish(topic, value)


async def _read(settings: Settings, topic: str, seconds: float = 8.0) -> list[tuple[bytes, Any]]:
    """Every (key, decoded value) of ``topic`` read without a consumer group; undecodable
    values (the fixture's raw view record) come back as None."""
    consumer = AIOKafkaConsumer(
        topic, **kafka_client_options(settings), group_id=None, auto_offset_reset="earliest"
    )
    registry = RegistryClient(settings.schema_registry_url)  # anonymous: reads only
    decoder = AvroDecoder(registry)
    out: list[tuple[bytes, Any]] = []
    await consumer.start()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                for message in batch:
                    try:
                        value = await decoder.decode(message.value)
                    except RenkeiError:  # the fixture's raw view record, not Avro
                        value = None
                    out.append((bytes(message.key or b""), value))
    finally:
        await consumer.stop()
        await registry.aclose()
    return out


def _wait(settings: Settings, topic: str, check: Any, workers: dict[str, WorkerProcess]) -> Any:
    deadline = time.monotonic() + 300
    records: list[tuple[bytes, Any]] = []
    while time.monotonic() < deadline:
        records = asyncio.run(_read(settings, topic))
        found = check(records)
        if found:
            return found
        for name, worker in workers.items():
            assert worker.process.poll() is None, f"{name} exited:\n{worker.output()[-4000:]}"
    logs = "\n".join(f"--- {n}\n{w.output()[-2500:]}" for n, w in workers.items())
    raise AssertionError(f"{topic}: not as expected after 300 s ({len(records)} records)\n{logs}")


async def _refused_read(settings: Settings, topic: str, group: str) -> None:
    consumer = AIOKafkaConsumer(
        topic, **kafka_client_options(settings), group_id=group, auto_offset_reset="earliest"
    )
    try:
        with pytest.raises(TopicAuthorizationFailedError):  # at start (metadata) or first fetch
            await consumer.start()
            await asyncio.wait_for(consumer.getone(), 60)
    finally:
        await consumer.stop()


async def _write(settings: Settings, topic: str) -> None:
    producer = AIOKafkaProducer(**kafka_client_options(settings), request_timeout_ms=10000)
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, b"forged", key=b"k"), 60)
    finally:
        await producer.stop()


async def _tamper(settings: Settings) -> tuple[str | None, int]:
    """As ``settings``' principal: delete the audit topic's records, then shorten its
    retention; (the delete's error, the alter's error code)."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        deleted: str | None = None
        try:
            await admin.delete_records(
                {TopicPartition(AUDIT_TOPIC, 0): RecordsToDelete(before_offset=-1)},
                timeout_ms=10000,
            )
        except KafkaError as exc:
            deleted = type(exc).__name__
        answers = await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, AUDIT_TOPIC, {"retention.ms": "1"})]
        )
        codes = [resource[0] for answer in answers for resource in answer.resources]
        return deleted, max(codes)
    finally:
        await admin.close()


def test_every_stage_runs_under_its_own_principal_end_to_end(
    applied: tuple[SecureStack, Result], tmp_path: Path
) -> None:
    stack, first = applied
    for stage in STAGES:
        assert f"user    {stage_principal(stage)}" in first.stdout
    assert f"user    {AUDIT_PRINCIPAL}" in first.stdout
    home = tmp_path / "stages"
    workers = {
        stage: WorkerProcess(stage, tmp_path / f"{stage}.log", _stage_env(stack, stage, home))
        for stage in STAGES
    }
    admin = stack.admin
    try:
        for topic, value in _events(CATALOGUE).items():
            asyncio.run(_publish(stack, topic, value))

        def linked(records: list[tuple[bytes, Any]]) -> Any:
            mine = [v for k, v in records if k == RESIDENT.encode() and v]
            last = mine[-1] if mine else None
            return last if last and last["care"] and last["checkup"] else None

        profile = _wait(admin, "unified.resident", linked, workers)
        assert profile["address"]["region_code"] == REGION
        _wait(admin, "unified.region", lambda rs: any(k == REGION.encode() for k, _ in rs), workers)
        asyncio.run(_publish(stack, "disaster.area.alerts", _alert(CATALOGUE, "issued", 1)))

        def active(records: list[tuple[bytes, Any]]) -> Any:
            return [
                v
                for _, v in records
                if v and v["status"] == "active" and v["alert_id"] == "accept-001" and v["count"]
            ]

        lists = _wait(admin, "derived.evacuation-support", active, workers)
        assert RESIDENT in [p["resident_key"] for v in lists for p in v["persons"]]
        # the consumer reads its own view, projected by renkei-views
        notifier = stack.as_user("app-evacuation-notifier")
        view = _wait(
            notifier,
            VIEW,
            lambda rs: [v for _, v in rs if v and v["alert_id"] == "accept-001" and v["persons"]],
            workers,
        )
        assert {"resident_key", "name", "address"} <= set(view[-1]["persons"][0])
        # the release was audited by renkei-evacuation (WRITE only on audit.access)
        audit = stack.as_user(AUDIT_PRINCIPAL)
        deadline = time.monotonic() + 120
        released: list[dict[str, Any]] = []
        while not released and time.monotonic() < deadline:
            released = [
                r for r in asyncio.run(read_topic(audit)) if r["kind"] == "evacuation.released"
            ]
            time.sleep(2)
        assert released, workers["evacuation"].output()[-3000:]
    finally:
        codes = {stage: worker.stop() for stage, worker in workers.items()}
    output = "\n".join(f"--- {s}\n{w.output()[-3000:]}" for s, w in workers.items())
    assert all(code == 0 for code in codes.values()), (codes, output)
    assert "AuthorizationFailed" not in output and "SaslAuthenticationFailed" not in output

    # a consumer cannot read another purpose's view, an internal topic or a DLQ
    group = "app-evacuation-notifier"
    for topic in (OTHER_VIEW, RESIDENT_FACTS, "dlq.registry.resident.events"):
        asyncio.run(_refused_read(notifier, topic, group))
    # the writers append only: no reading back, no deleting, no shorter retention
    evacuation = stack.as_user(stage_principal("evacuation"))
    asyncio.run(_refused_read(evacuation, AUDIT_TOPIC, stage_principal("evacuation")))
    deleted, altered = asyncio.run(_tamper(evacuation))
    assert deleted is not None and "Authorization" in deleted
    assert altered != 0  # refused (TOPIC_AUTHORIZATION_FAILED)
    # the audit principal reads, and cannot write
    with pytest.raises(KafkaError):
        asyncio.run(_write(audit, AUDIT_TOPIC))
    env = {
        **stack.environment,
        "RENKEI_KAFKA_SASL_USERNAME": AUDIT_PRINCIPAL,
        "RENKEI_KAFKA_SASL_PASSWORD_FILE": str(password_file(admin.home, AUDIT_PRINCIPAL)),
    }
    stage_file = home / "audit" / "audit.jsonl"
    verified = CliRunner().invoke(
        cli, ["audit", "verify", "--file", str(stage_file), "--against-topic"], env=env
    )
    assert verified.exit_code == 0, verified.output
    assert "matched on the topic" in verified.output
