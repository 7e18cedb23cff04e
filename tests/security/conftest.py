"""The secure stack for the tests of this folder: started once per session on its own ports
and RENKEI_HOME, stopped (and deleted) afterwards.

Ports: ``RENKEI_TEST_SECURE_BOOTSTRAP`` (default 127.0.0.1:19092, controller 19093) and
``RENKEI_TEST_SECURE_REGISTRY_URL`` (default http://127.0.0.1:18081/apis/ccompat/v7: the
registry proxy; Apicurio itself on 18082, management 19081). Kafka and
Apicurio come from the plain stack's download cache (symlinked), so nothing is fetched twice.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from click.testing import CliRunner, Result
from pydantic import SecretStr

from renkei.cli import cli
from renkei.kafka_security import kafka_client_options
from renkei.settings import Settings, load_settings
from renkei.stack import ensure_stack_up, stop_stack
from renkei.stack.secure import ADMIN_USER, SCHEMA_USER, password_file

SECURE_BOOTSTRAP = os.environ.get("RENKEI_TEST_SECURE_BOOTSTRAP", "127.0.0.1:19092")
VIEW = "view.evacuation-support.evacuation-support"
SECURE_REGISTRY = os.environ.get(
    "RENKEI_TEST_SECURE_REGISTRY_URL", "http://127.0.0.1:18081/apis/ccompat/v7"
)


@dataclass(frozen=True)
class SecureStack:
    """The admin's settings of the running secure stack, and how long it took to start."""

    admin: Settings
    started_in: float

    @property
    def environment(self) -> dict[str, str]:
        """RENKEI_* variables of the admin, for CLI runs (the password stays in its file)."""
        admin = self.admin
        return {
            "RENKEI_HOME": str(admin.home),
            "RENKEI_KAFKA_BOOTSTRAP": admin.kafka_bootstrap,
            "RENKEI_SCHEMA_REGISTRY_URL": admin.schema_registry_url,
            "RENKEI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "RENKEI_KAFKA_SASL_USERNAME": ADMIN_USER,
            "RENKEI_KAFKA_SASL_PASSWORD_FILE": str(admin.kafka_sasl_password_file),
            "RENKEI_KAFKA_SSL_CAFILE": str(admin.kafka_ssl_cafile),
            "RENKEI_SCHEMA_REGISTRY_USERNAME": SCHEMA_USER,
            "RENKEI_SCHEMA_REGISTRY_PASSWORD_FILE": str(admin.schema_registry_password_file),
            "RENKEI_TOPIC_PREFIX": "",
        }

    def as_user(self, principal: str, *, password: str | None = None) -> Settings:
        """Settings of ``principal`` (its stored password, or ``password`` if given); without
        the schema principal's registry credentials, which only the platform holds."""
        update: dict[str, object] = {
            "kafka_sasl_username": principal,
            "schema_registry_username": None,
            "schema_registry_password_file": None,
        }
        if password is None:
            update["kafka_sasl_password_file"] = password_file(self.admin.home, principal)
        else:
            update["kafka_sasl_password"] = SecretStr(password)
            update["kafka_sasl_password_file"] = None
        return self.admin.model_copy(update=update)


@pytest.fixture(scope="session")
def secure_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureStack]:
    """Start the secure stack (Kafka SASL_SSL + registry) in a fresh home; stop it at the end."""
    home = tmp_path_factory.mktemp("renkei-secure")
    downloads = load_settings().home / "downloads"
    if downloads.is_dir():
        (home / "downloads").symlink_to(downloads, target_is_directory=True)
    base = Settings(
        home=home,
        kafka_bootstrap=SECURE_BOOTSTRAP,
        schema_registry_url=SECURE_REGISTRY,
        kafka_security_protocol="SASL_SSL",
        worker_web_port_base=7400,
    )
    started = time.monotonic()
    try:
        ensure_stack_up(base, kafka_timeout=120.0, registry_timeout=240.0)
        admin = base.model_copy(
            update={
                "kafka_sasl_username": ADMIN_USER,
                "kafka_sasl_password_file": password_file(home, ADMIN_USER),
                "kafka_ssl_cafile": home / "secrets" / "tls" / "ca.pem",
                "schema_registry_username": SCHEMA_USER,
                "schema_registry_password_file": password_file(home, SCHEMA_USER),
            }
        )
        yield SecureStack(admin, time.monotonic() - started)
    finally:
        stop_stack(base, wipe=True)
        shutil.rmtree(home, ignore_errors=True)


def apply_agreements_cli(stack: SecureStack, *args: str) -> Result:
    """``renkei agreements apply`` as the admin, through the real CLI."""
    return CliRunner().invoke(cli, ["agreements", "apply", *args], env=stack.environment)


async def _view_with_one_record(admin: Settings) -> None:
    """The evacuation notifier's view topic with one record in it (the views stage is tested in
    tests/views; here only the ACLs matter)."""
    client = AIOKafkaAdminClient(**kafka_client_options(admin))
    await client.start()
    try:
        if VIEW not in await client.list_topics():
            await client.create_topics([NewTopic(VIEW, 1, 1)])
    finally:
        await client.close()
    producer = AIOKafkaProducer(**kafka_client_options(admin))
    await producer.start()
    try:
        await producer.send_and_wait(VIEW, b"view-record", key=b"alert-1:region")
    finally:
        await producer.stop()


@pytest.fixture(scope="session")
def applied(secure_stack: SecureStack) -> tuple[SecureStack, Result]:
    """Catalogue topics and schemas (`schemas apply`), then the repository's agreements
    (`agreements apply`, the session's first apply: its output lists what it created)."""
    schemas = CliRunner().invoke(cli, ["schemas", "apply"], env=secure_stack.environment)
    assert schemas.exit_code == 0, schemas.output
    result = apply_agreements_cli(secure_stack)
    assert result.exit_code == 0, result.output
    asyncio.run(_view_with_one_record(secure_stack.admin))
    return secure_stack, result
