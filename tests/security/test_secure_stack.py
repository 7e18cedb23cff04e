"""Acceptance of issue 5 on the secure stack: who may read and write what, and who may not.

The session fixture ``secure_stack`` (conftest) starts Kafka with SASL_SSL + ACLs and the
registry on their own ports; ``renkei agreements apply`` (the real CLI) creates the users and
ACLs of deploy/agreements once per session (fixture ``applied``).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from click.testing import Result

from renkei.agreements.model import agreement_files, load_agreements
from renkei.cli.stack_cmd import format_status
from renkei.errors import PublishError, StackError
from renkei.kafka_security import kafka_client_options
from renkei.publish import Publisher
from renkei.schemas import load_catalogue
from renkei.serde.registry import registry_client
from renkei.settings import Settings
from renkei.stack import ensure_stack_up, stack_status
from renkei.stack.kafka_probe import probe_kafka
from staff_view.sources import group_id
from tests.security.conftest import VIEW, SecureStack, apply_agreements_cli

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]

_apply = apply_agreements_cli


def test_secure_stack_started_with_the_registry_on_the_secure_broker(
    secure_stack: SecureStack,
) -> None:
    """The registry stores schemas in its kafkasql topic: it is logged in as the admin."""
    print(f"secure stack started in {secure_stack.started_in:.1f} s")

    async def roundtrip() -> int | None:
        subject = f"test-{uuid.uuid4().hex[:8]}-value"
        schema = '{"type":"record","name":"T","fields":[{"name":"a","type":"string"}]}'
        async with registry_client(secure_stack.admin) as registry:  # the schema principal
            registered = await registry.register(subject, schema)
            latest = await registry.latest(subject)
        assert latest is not None
        return registered if latest.get("id") == registered else None

    assert asyncio.run(roundtrip()) is not None


def test_up_again_status_and_the_other_mode(secure_stack: SecureStack) -> None:
    """A second `up` leaves it running; `status` finds it secure without being told; a plain
    `up` on the same home is refused."""
    settings = secure_stack.admin.model_copy(update={"kafka_security_protocol": "PLAINTEXT"})
    again = ensure_stack_up(settings, secure=True)
    assert again.server("kafka").detail == "already running"
    status = stack_status(settings)
    assert status.all_up, format_status(status)
    assert status.server("kafka").address.startswith("sasl_ssl://")
    with pytest.raises(StackError, match="secure and the plain stack need separate"):
        ensure_stack_up(settings, secure=False)


def test_apply_creates_users_and_acls_then_changes_nothing(
    applied: tuple[SecureStack, Result],
) -> None:
    stack, first = applied
    assert "user    dept-checkup" in first.stdout and "created" in first.stdout
    assert "acl   + User:dept-checkup WRITE TOPIC health.checkup.results (LITERAL)" in first.stdout
    assert f"acl   + User:app-evacuation-notifier READ TOPIC {VIEW} (LITERAL)" in first.stdout
    again = _apply(stack)
    assert again.exit_code == 0, again.output
    count = len(agreement_files(stack.admin.agreements_dir))  # the repository's, e.g. 10
    assert again.stdout.strip().splitlines() == [f"{count} agreement(s) applied: no changes"]
    audit = (stack.admin.home / "audit" / "audit.jsonl").read_text(encoding="utf-8")
    assert audit.count('"kind":"agreements.applied"') >= 2
    assert '"kind":"acl.changed"' in audit
    password = (stack.admin.home / "secrets" / "users" / "dept-checkup.password").read_text()
    assert password.strip() not in first.stdout + again.stdout + audit


def test_apply_revokes_what_a_removed_agreement_granted(
    applied: tuple[SecureStack, Result], tmp_path: Path
) -> None:
    stack, _ = applied
    folder = tmp_path / "agreements"
    shutil.copytree(stack.admin.agreements_dir, folder)
    extra = (folder / "evacuation-notifier.yaml").read_text(encoding="utf-8")
    extra = extra.replace("id: evacuation-notifier", "id: temp-app")
    extra = extra.replace("app-evacuation-notifier", "app-temp")
    (folder / "temp-app.yaml").write_text(extra, encoding="utf-8")
    added = _apply(stack, "--dir", str(folder))
    assert added.exit_code == 0, added.output
    assert "user    app-temp" in added.stdout
    assert added.stdout.count("acl   + User:app-temp") == 3
    removed = _apply(stack)
    assert removed.exit_code == 0, removed.output
    assert "app-temp" in removed.stdout and "deleted" in removed.stdout
    assert removed.stdout.count("acl   - User:app-temp") == 3


def test_checkup_department_writes_only_its_own_topic(
    applied: tuple[SecureStack, Result],
) -> None:
    stack, _ = applied
    checkup = stack.as_user("dept-checkup")
    catalogue = load_catalogue(checkup.schemas_dir)

    async def publish() -> None:
        async with Publisher(checkup, catalogue) as publisher:
            spec = catalogue.get("health.checkup.results")
            await publisher.publish(spec.topic, next(iter(spec.examples.values())))
            other = catalogue.get("registry.resident.events")
            with pytest.raises(PublishError, match="TopicAuthorizationFailed"):
                await asyncio.wait_for(
                    publisher.publish(other.topic, next(iter(other.examples.values()))), 60
                )

    asyncio.run(publish())


async def _first_record(settings: Settings, topic: str, group: str) -> bytes | None:
    consumer = AIOKafkaConsumer(
        topic, **kafka_client_options(settings), group_id=group, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), 60)
        return bytes(message.value) if message.value is not None else None
    finally:
        await consumer.stop()


def test_checkup_department_may_not_read_unified_resident(
    applied: tuple[SecureStack, Result],
) -> None:
    stack, _ = applied
    checkup = stack.as_user("dept-checkup")
    with pytest.raises((TopicAuthorizationFailedError, GroupAuthorizationFailedError)):
        asyncio.run(_first_record(checkup, "unified.resident", "dept-checkup-reader"))


def test_consumer_reads_its_view_but_not_the_unified_topic(
    applied: tuple[SecureStack, Result],
) -> None:
    stack, _ = applied
    app = stack.as_user("app-evacuation-notifier")
    group = f"app-evacuation-notifier-{uuid.uuid4().hex[:6]}"  # inside its group prefix
    assert asyncio.run(_first_record(app, VIEW, group)) == b"view-record"
    with pytest.raises(TopicAuthorizationFailedError):
        asyncio.run(_first_record(app, "unified.resident", group))
    with pytest.raises(GroupAuthorizationFailedError):
        asyncio.run(_first_record(app, VIEW, "someone-elses-group"))


async def _one_record(admin: Settings, topic: str) -> None:
    """``topic`` with one record in it, written by the platform user (ACLs only matter here)."""
    client = AIOKafkaAdminClient(**kafka_client_options(admin))
    await client.start()
    try:
        if topic not in await client.list_topics():
            await client.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await client.close()
    producer = AIOKafkaProducer(**kafka_client_options(admin))
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"view-record", key=b"011011")
    finally:
        await producer.stop()


def test_the_staff_view_reads_its_views_in_the_groups_it_uses(
    applied: tuple[SecureStack, Result],
) -> None:
    """``app-staff-view`` (deploy/agreements/staff-view.yaml) reads its views in the groups
    ``python -m staff_view`` names, and nothing of the platform topics behind them."""
    stack, first = applied
    agreement = next(a for a in load_agreements(stack.admin.agreements_dir) if a.id == "staff-view")
    view = "view.staff-overview.region"
    assert f"acl   + User:app-staff-view READ TOPIC {view} (LITERAL)" in first.stdout
    asyncio.run(_one_record(stack.admin, view))
    app = stack.as_user("app-staff-view")
    group = group_id("", agreement, uuid.uuid4().hex[:12], view)
    # the first record: ours, or one the views stage projected when a test ran it before
    assert asyncio.run(_first_record(app, view, group))
    for platform_topic in ("unified.region", "derived.evacuation-support"):
        with pytest.raises(TopicAuthorizationFailedError):
            asyncio.run(_first_record(app, platform_topic, group))


def test_a_wrong_password_is_refused(
    applied: tuple[SecureStack, Result], caplog: pytest.LogCaptureFixture
) -> None:
    stack, _ = applied
    wrong = stack.as_user("dept-checkup", password="not-the-password")
    caplog.set_level(logging.WARNING, logger="aiokafka")

    async def connect() -> None:
        producer = AIOKafkaProducer(**kafka_client_options(wrong), request_timeout_ms=10000)
        try:
            await asyncio.wait_for(producer.start(), 60)
        finally:
            await producer.stop()

    with pytest.raises(KafkaConnectionError):
        asyncio.run(connect())
    assert "SaslAuthenticationFailed" in caplog.text
    assert "not-the-password" not in caplog.text


def test_a_plaintext_connection_is_refused(secure_stack: SecureStack) -> None:
    admin = secure_stack.admin
    host, _, port = admin.kafka_bootstrap.rpartition(":")
    with pytest.raises(StackError):  # a Kafka request without TLS: the broker hangs up
        probe_kafka(host, int(port), timeout=5.0)
    plain = admin.model_copy(update={"kafka_security_protocol": "PLAINTEXT"})

    async def connect() -> None:
        client = AIOKafkaAdminClient(**kafka_client_options(plain), request_timeout_ms=5000)
        try:
            await asyncio.wait_for(client.start(), 60)
        finally:
            await client.close()

    with pytest.raises(KafkaConnectionError):
        asyncio.run(connect())
    with pytest.raises(StackError):  # nor does the controller port (mutual TLS) take plaintext
        probe_kafka(host, int(port) + 1, timeout=5.0)


def test_a_department_reads_its_own_rejects_and_not_another_departments(
    applied: tuple[SecureStack, Result], tmp_path: Path
) -> None:
    """Provider agreements grant READ on the DLQ of their own topics only: `renkei dlq report`
    as dept-registry reads 市民課's rejects and is refused 健康推進課's."""
    from click.testing import CliRunner

    from renkei.cli import cli
    from renkei.stack.secure import password_file

    stack, _ = applied
    catalogue = load_catalogue(stack.admin.schemas_dir)
    key = f"0000000{uuid.uuid4().int % 10**8:08d}"

    async def refuse_one_each() -> None:  # the platform (admin) refuses an input of each topic
        async with Publisher(stack.admin, catalogue) as publisher:
            for topic in ("registry.resident.events", "health.checkup.results"):
                problems = [("effective_date", "not a valid date")]
                sent = await publisher.dead_letter(
                    topic, {"resident_key": key}, problems, origin="export.csv line 3"
                )
                await sent

    asyncio.run(refuse_one_each())
    env = {
        **stack.environment,
        "RENKEI_KAFKA_SASL_USERNAME": "dept-registry",
        "RENKEI_KAFKA_SASL_PASSWORD_FILE": str(password_file(stack.admin.home, "dept-registry")),
    }
    out = tmp_path / "rejects.csv"
    own = CliRunner().invoke(
        cli, ["dlq", "report", "--department", "市民課", "-o", str(out)], env=env
    )
    assert own.exit_code == 0, own.output
    text = out.read_text(encoding="utf-8-sig")
    assert f"export.csv line 3,{key},effective_date,not a valid date" in text
    other = CliRunner().invoke(cli, ["dlq", "report", "--department", "健康推進課"], env=env)
    assert other.exit_code == 1, other.output
    assert "may not read dlq.health.checkup.results" in other.output
