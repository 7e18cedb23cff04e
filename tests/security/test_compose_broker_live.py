"""The secure docker-compose broker, run for real without Docker (issue 14).

No container engine runs here, so ``docker compose up`` cannot be tried. What can be: the broker
configuration ``python -m renkei.deploy.compose_secrets`` writes for the ``kafka`` service, on
the Kafka 3.9.1 of the local stack's download cache, with only the container names and ports
rewritten for this machine (``kafka`` → ``localhost``, free ports, a temporary data folder);
formatted with the super user's SCRAM credential as ``deploy/compose/kafka-start.sh`` does; then
the two commands of the ``access-apply`` service (``renkei schemas apply --topics-only`` and
``renkei agreements apply --password-dir … --service-principals``) as ``renkei-admin``. Then:
each principal logs in with its generated password and gets what the generated ACLs give it and
nothing else, and a plaintext client gets nothing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAuthorizationFailedError
from click.testing import CliRunner
from pydantic import SecretStr

from renkei.cli import cli
from renkei.deploy import compose_secrets
from renkei.kafka_security import kafka_client_options
from renkei.settings import Settings
from renkei.stack.java import find_registry_java
from tests.runtime.kafka_helpers import free_port

# long: ~4 min (a SASL_SSL Kafka and an Apicurio of its own); CI leaves it out, `make test` /
# `make test-long` run it (README).
pytestmark = [pytest.mark.kafka, pytest.mark.long, pytest.mark.timeout(600)]


def _java() -> str:
    found = shutil.which("java")
    assert found, "java is needed (the stack's Kafka runs on it)"
    return found


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")[-4000:]
        with socket.socket() as sock:
            sock.settimeout(1)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError("the compose broker did not open its port:\n" + log.read_text()[-4000:])


class ComposeBroker:
    def __init__(self, base: Settings, tmp: Path):
        self.tmp = tmp
        self.secrets = tmp / "secrets"
        compose_secrets.make_secrets(base, self.secrets)
        self.internal, self.external, self.controller = free_port(), free_port(), free_port()
        text = (self.secrets / "kafka-server.properties").read_text(encoding="utf-8")
        for old, new in (
            ("/run/secrets/kafka-broker.pem", str(self.secrets / "tls" / "broker.pem")),
            ("/run/secrets/ca.pem", str(self.secrets / "tls" / "ca.pem")),
            ("/var/lib/kafka/data", str(tmp / "data")),
            ("1@kafka:9093", f"1@localhost:{self.controller}"),
            ("INTERNAL://kafka:19092", f"INTERNAL://localhost:{self.internal}"),
            ("EXTERNAL://127.0.0.1:9092", f"EXTERNAL://127.0.0.1:{self.external}"),
            ("INTERNAL://:19092", f"INTERNAL://:{self.internal}"),
            ("EXTERNAL://:9092", f"EXTERNAL://:{self.external}"),
            ("CONTROLLER://:9093", f"CONTROLLER://:{self.controller}"),
        ):
            assert old in text, old
            text = text.replace(old, new)
        self.properties = tmp / "server.properties"
        self.properties.write_text(text, encoding="utf-8")
        libs = base.home / "downloads" / "kafka-3.9.1" / "libs"
        assert libs.is_dir(), "run `renkei stack up` once: it caches Kafka 3.9.1"
        self.classpath = f"{libs}/*"
        self.log = tmp / "kafka.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        users = self.secrets / "users"
        admin = (users / "renkei-admin.password").read_text().strip()
        cluster = (self.secrets / "kafka-cluster-id").read_text().strip()
        log4j = self.tmp / "log4j.properties"
        log4j.write_text(
            "log4j.rootLogger=WARN, out\n"
            "log4j.appender.out=org.apache.log4j.ConsoleAppender\n"
            "log4j.appender.out.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
            "log4j.logger.kafka.server.KafkaServer=INFO\n"
            "log4j.logger.kafka.authorizer.logger=INFO\n"
        )
        java = [_java(), "-Xmx384m", f"-Dlog4j.configuration=file:{log4j}", "-cp", self.classpath]
        with self.log.open("ab") as out:  # what kafka-start.sh does, with the same arguments
            subprocess.run(
                [*java, "kafka.tools.StorageTool", "format", "--ignore-formatted",
                 "--cluster-id", cluster, "--config", str(self.properties),
                 "--add-scram", f"SCRAM-SHA-512=[name=renkei-admin,password={admin}]"],
                stdout=out, stderr=subprocess.STDOUT, check=True, timeout=180,
            )  # fmt: skip
            self.process = subprocess.Popen(
                [*java, "kafka.Kafka", str(self.properties)], stdout=out, stderr=subprocess.STDOUT
            )
        _wait_port(self.external, self.process, self.log, 120)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def settings(self, user: str, base: Settings) -> Settings:
        password = (self.secrets / "users" / f"{user}.password").read_text().strip()
        return base.model_copy(
            update={
                "kafka_bootstrap": f"127.0.0.1:{self.external}",
                "kafka_security_protocol": "SASL_SSL",
                "kafka_sasl_mechanism": "SCRAM-SHA-512",
                "kafka_sasl_username": user,
                "kafka_sasl_password": SecretStr(password),
                "kafka_sasl_password_file": None,
                "kafka_ssl_cafile": self.secrets / "tls" / "ca.pem",
                "topic_prefix": "",
                "home": self.tmp / "home",
            }
        )

    def environment(self, user: str) -> dict[str, str]:
        return {
            "RENKEI_HOME": str(self.tmp / "home"),
            "RENKEI_KAFKA_BOOTSTRAP": f"127.0.0.1:{self.external}",
            "RENKEI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "RENKEI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "RENKEI_KAFKA_SASL_USERNAME": user,
            "RENKEI_KAFKA_SASL_PASSWORD_FILE": str(self.secrets / "users" / f"{user}.password"),
            "RENKEI_KAFKA_SSL_CAFILE": str(self.secrets / "tls" / "ca.pem"),
            "RENKEI_TOPIC_PREFIX": "",
        }


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComposeBroker]:
    base = Settings()
    if not (base.home / "downloads" / "kafka-3.9.1" / "libs").is_dir():
        message = "Kafka 3.9.1 not in the download cache: run `renkei stack up` once"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    running = ComposeBroker(base, tmp_path_factory.mktemp("compose-broker"))
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _run(broker: ComposeBroker, user: str, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=broker.environment(user))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


async def _subscribe(settings: Settings, topic: str, group: str) -> None:
    """Join ``group`` on ``topic`` and wait for a record (raises what the broker refuses)."""
    consumer = AIOKafkaConsumer(
        topic, **kafka_client_options(settings), group_id=group, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        await asyncio.wait_for(consumer.getone(), 60)
    finally:
        await consumer.stop()


async def _end_offsets(settings: Settings, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(**kafka_client_options(settings), group_id=None)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets([TopicPartition(topic, 0)]))
    finally:
        await consumer.stop()


@pytest.fixture(scope="module")
def applied(broker: ComposeBroker) -> str:
    """The two commands of compose's access-apply service, as renkei-admin."""
    started = time.monotonic()
    topics = _run(broker, "renkei-admin", "schemas", "apply", "--topics-only")
    assert "unified.resident" in topics
    output = _run(
        broker,
        "renkei-admin",
        "agreements",
        "apply",
        "--password-dir",
        str(broker.secrets / "users"),
        "--service-principals",
    )
    print(f"access-apply's two commands took {time.monotonic() - started:.1f} s")
    return output


def test_compose_broker_and_access_apply_on_a_real_kafka(
    broker: ComposeBroker, applied: str
) -> None:
    base = Settings()
    for user in ("renkei-standardize", "renkei-catalogue", "renkei-registry", "app-staff-view"):
        assert f"user    {user}" in applied, applied
    # the catalogue's principal reads offsets of a topic it shows (and may read it)
    catalogue = broker.settings("renkei-catalogue", base)
    assert asyncio.run(_end_offsets(catalogue, "unified.resident"))
    # a stage principal reads its input and is refused what it does not read
    standardize = broker.settings("renkei-standardize", base)
    assert asyncio.run(_end_offsets(standardize, "registry.resident.events"))
    with pytest.raises(TopicAuthorizationFailedError):
        asyncio.run(_subscribe(standardize, "unified.resident", "renkei-standardize"))
    # the staff view's principal is refused the unified topic it never sees unprojected
    staff = broker.settings("app-staff-view", base)
    with pytest.raises(TopicAuthorizationFailedError):
        asyncio.run(_subscribe(staff, "unified.resident", "app-staff-view-test"))
    # the catalogue's principal may not join a consumer group at all
    with pytest.raises(KafkaError):
        asyncio.run(_subscribe(catalogue, "unified.resident", "renkei-catalogue"))
    # a wrong password and a plaintext client get nothing
    wrong = staff.model_copy(update={"kafka_sasl_password": SecretStr(uuid.uuid4().hex)})
    with pytest.raises(KafkaError):
        asyncio.run(_end_offsets(wrong, "view.staff-overview.region"))
    plain = base.model_copy(
        update={
            "kafka_bootstrap": f"127.0.0.1:{broker.external}",
            "kafka_security_protocol": "PLAINTEXT",
        }
    )
    with pytest.raises((KafkaConnectionError, KafkaError, asyncio.TimeoutError)):
        asyncio.run(asyncio.wait_for(_end_offsets(plain, "unified.resident"), 30))


def _registry_java() -> str:
    return str(find_registry_java(minimum=21).executable)


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")[-6000:]
        try:
            if httpx.get(url, timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} never answered 200:\n" + log.read_text(errors="replace")[-6000:])


def test_compose_registry_runs_as_its_principal_behind_the_proxy(
    broker: ComposeBroker, applied: str, tmp_path: Path
) -> None:
    """Apicurio with the compose service's settings file (as renkei-registry, SASL_SSL), on
    loopback; the registry proxy in front with the writer's password file; then what the
    compose schemas-apply service runs, through the proxy."""
    base = Settings()
    app = base.home / "downloads" / "apicurio-3.3.3" / "app" / "quarkus-run.jar"
    assert app.is_file(), "run `renkei stack up` once: it caches Apicurio 3.3.3"
    config = tmp_path / "registry-kafka.properties"
    text = (broker.secrets / "registry-kafka.properties").read_text(encoding="utf-8")
    config.write_text(text.replace("/run/secrets/ca.pem", str(broker.secrets / "tls" / "ca.pem")))
    http, management, proxy_port = free_port(), free_port(), free_port()
    log = tmp_path / "registry.log"
    with log.open("wb") as out:
        registry = subprocess.Popen(
            [
                _registry_java(),
                "-Xmx512m",
                f"-Dquarkus.http.port={http}",
                "-Dquarkus.http.host=127.0.0.1",  # as QUARKUS_HTTP_HOST in compose
                f"-Dquarkus.management.port={management}",
                "-Dquarkus.management.host=127.0.0.1",
                "-Dapicurio.storage.kind=kafkasql",
                f"-Dapicurio.kafkasql.bootstrap.servers=localhost:{broker.internal}",
                f"-Dquarkus.config.locations={config.as_uri()}",  # as JAVA_OPTS_APPEND
                "-jar",
                str(app),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        proxy = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "renkei.stack.registry_proxy",
                "--listen",
                f"127.0.0.1:{proxy_port}",
                "--upstream",
                f"http://127.0.0.1:{http}",
                "--password-file",
                f"renkei-schema={broker.secrets / 'registry-writer.password'}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        started = time.monotonic()
        _wait_http(f"http://127.0.0.1:{management}/health/ready", registry, log, 180)
        print(f"registry as renkei-registry ready in {time.monotonic() - started:.1f} s")
        url = f"http://127.0.0.1:{proxy_port}/apis/ccompat/v7"
        _wait_http(f"{url}/subjects", proxy, log, 60)
        # what the compose schemas-apply service runs (through the proxy, as renkei-schema)
        env = {
            "RENKEI_SCHEMA_REGISTRY_URL": url,
            "RENKEI_SCHEMA_REGISTRY_USERNAME": "renkei-schema",
            "RENKEI_SCHEMA_REGISTRY_PASSWORD_FILE": str(
                broker.secrets / "registry-writer.password"
            ),
            "RENKEI_HOME": str(tmp_path / "home"),
        }
        applied = CliRunner().invoke(
            cli, ["schemas", "apply", "--no-topics", "--topic", "registry.resident.events"], env=env
        )
        assert applied.exit_code == 0, (applied.output, applied.exception)
        subjects = httpx.get(f"{url}/subjects", timeout=10).json()
        assert "registry.resident.events-value" in subjects  # a read passes anonymously
        anonymous = httpx.post(
            f"{url}/subjects/x-value/versions", json={"schema": '"string"'}, timeout=10
        )
        assert anonymous.status_code == 401
        # its journal is in the topics the generated ACLs give renkei-registry
        admin = broker.settings("renkei-admin", base)
        assert asyncio.run(_end_offsets(admin, "_renkei_schemas"))
    finally:
        for process in (proxy, registry):
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
