"""The secure local stack (``renkei stack up --secure``): SASL_SSL, SCRAM, ACLs, a super user.

The broker of a secure home listens on two loopback ports:

- ``kafka_port`` — ``SASL_SSL`` with ``SCRAM-SHA-512``: every client (Renkei's stages, SDKs,
  CLI, the registry, downstream apps) authenticates as a SCRAM user over TLS;
- ``kafka_port + 1`` — the KRaft ``CONTROLLER`` listener over mutual TLS: only the broker itself
  (certificate ``CN=renkei-broker``) talks to the controller. SCRAM cannot serve this listener
  (its credentials live in the metadata log the controller is still loading), and a plaintext
  controller port would hand every local process an unauthenticated way into the controller.

Authorization is KRaft's ``StandardAuthorizer`` with ``allow.everyone.if.no.acl.found=false``:
without an ACL nothing is allowed, except for the super users — the broker's certificate
principal and the platform user ``renkei-admin``. The admin's SCRAM credential is written into
the metadata log when the data folder is formatted (``--add-scram``), so it exists before the
first client connects. Its password is generated once, kept 0600 under
``$RENKEI_HOME/secrets/users/``, and never printed or logged.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from renkei.errors import StackError
from renkei.stack.endpoints import LOOPBACK_HOST, StackEndpoints
from renkei.stack.kafka_probe import port_in_use
from renkei.stack.secure_tls import BROKER_COMMON_NAME, TlsFiles, ensure_tls_files, write_private

ADMIN_USER = "renkei-admin"
SCHEMA_USER = "renkei-schema"
"""The schema principal: the only user the registry proxy lets change schemas (HTTP Basic)."""
SCRAM_MECHANISM = "SCRAM-SHA-512"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"
SECURE_MARKER = "secure.mode"
"""Written next to server.properties when a data folder is formatted for the secure stack."""


def secrets_dir(home: Path) -> Path:
    """``$RENKEI_HOME/secrets`` (0700): TLS files, SCRAM passwords, the registry's credentials."""
    return home / "secrets"


def password_file(home: Path, user: str) -> Path:
    """Where the SCRAM password of ``user`` is kept (0600)."""
    return secrets_dir(home) / "users" / f"{user}.password"


def new_password() -> str:
    """A random password of 32 URL-safe characters (no quoting needed in JAAS or properties)."""
    return secrets.token_urlsafe(24)


def ensure_password(home: Path, user: str) -> str:
    """The stored password of ``user``, generated and stored 0600 the first time."""
    path = password_file(home, user)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    password = new_password()
    write_private(path, (password + "\n").encode())
    return password


def _jaas(user: str, password: str) -> str:
    return f'{SCRAM_LOGIN} required username="{user}" password="{password}";'


@dataclass(frozen=True)
class BrokerSecurity:
    """Everything the secure broker and its registry need; repr hides the password."""

    home: Path
    tls: TlsFiles
    admin_password: str

    def __repr__(self) -> str:
        return f"BrokerSecurity(home={self.home}, admin={ADMIN_USER})"

    @property
    def admin_password_file(self) -> Path:
        return password_file(self.home, ADMIN_USER)

    @property
    def registry_config(self) -> Path:
        """Quarkus config file (0600) with the registry's Kafka client credentials."""
        return secrets_dir(self.home) / "registry-kafka.properties"

    def listener_settings(self, endpoints: StackEndpoints) -> list[tuple[str, str]]:
        """server.properties lines: listeners, TLS, SASL, authorizer (see module docstring)."""
        host, port, controller = LOOPBACK_HOST, endpoints.kafka_port, endpoints.controller_port
        return [
            ("listeners", f"SASL_SSL://{host}:{port},CONTROLLER://{host}:{controller}"),
            ("advertised.listeners", f"SASL_SSL://{host}:{port}"),
            ("controller.listener.names", "CONTROLLER"),
            ("listener.security.protocol.map", "SASL_SSL:SASL_SSL,CONTROLLER:SSL"),
            ("inter.broker.listener.name", "SASL_SSL"),
            ("sasl.enabled.mechanisms", SCRAM_MECHANISM),
            ("sasl.mechanism.inter.broker.protocol", SCRAM_MECHANISM),
            (
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                _jaas(ADMIN_USER, self.admin_password),
            ),
            ("ssl.keystore.type", "PEM"),
            ("ssl.keystore.location", str(self.tls.broker_keystore)),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.location", str(self.tls.ca_cert)),
            ("listener.name.controller.ssl.client.auth", "required"),
            ("authorizer.class.name", AUTHORIZER),
            ("super.users", f"User:CN={BROKER_COMMON_NAME};User:{ADMIN_USER}"),
            ("allow.everyone.if.no.acl.found", "false"),
        ]

    def format_args(self) -> list[str]:
        """StorageTool arguments creating the admin's SCRAM credential in the new metadata log.

        The password is on the formatter's command line for the second it runs (a loopback
        development machine; the file it comes from is 0600).
        """
        return [
            "--add-scram",
            f"{SCRAM_MECHANISM}=[name={ADMIN_USER},password={self.admin_password}]",
        ]

    def write_registry_config(self) -> Path:
        """The registry's Kafka client settings (kafkasql producer, consumer and admin)."""
        lines = [
            "# Written by `renkei stack up --secure`: Apicurio kafkasql -> the SASL_SSL broker.",
            "apicurio.kafka.common.security.protocol=SASL_SSL",
            f"apicurio.kafka.common.sasl.mechanism={SCRAM_MECHANISM}",
            f"apicurio.kafka.common.sasl.jaas.config={_jaas(ADMIN_USER, self.admin_password)}",
            "apicurio.kafka.common.ssl.truststore.type=PEM",
            f"apicurio.kafka.common.ssl.truststore.location={self.tls.ca_cert}",
        ]
        write_private(self.registry_config, ("\n".join(lines) + "\n").encode())
        return self.registry_config

    def client_environment(self, endpoints: StackEndpoints) -> dict[str, str]:
        """The RENKEI_* variables a client needs to act as the platform super user."""
        return {
            "RENKEI_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
            "RENKEI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "RENKEI_KAFKA_SASL_MECHANISM": SCRAM_MECHANISM,
            "RENKEI_KAFKA_SASL_USERNAME": ADMIN_USER,
            "RENKEI_KAFKA_SASL_PASSWORD_FILE": str(self.admin_password_file),
            "RENKEI_KAFKA_SSL_CAFILE": str(self.tls.ca_cert),
            "RENKEI_SCHEMA_REGISTRY_URL": endpoints.registry_url,
            "RENKEI_SCHEMA_REGISTRY_USERNAME": SCHEMA_USER,
            "RENKEI_SCHEMA_REGISTRY_PASSWORD_FILE": str(password_file(self.home, SCHEMA_USER)),
        }


def ensure_broker_security(home: Path) -> BrokerSecurity:
    """TLS files and the admin password of ``home``, made the first time (idempotent)."""
    folder = secrets_dir(home)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    tls = ensure_tls_files(folder / "tls")
    ensure_password(home, SCHEMA_USER)  # the registry proxy's writer
    return BrokerSecurity(home=home, tls=tls, admin_password=ensure_password(home, ADMIN_USER))


def load_broker_security(home: Path) -> BrokerSecurity | None:
    """The secure material of ``home`` if ``renkei stack up --secure`` made it, else None."""
    tls = TlsFiles(secrets_dir(home) / "tls")
    admin = password_file(home, ADMIN_USER)
    if not tls.complete or not admin.is_file():
        return None
    return BrokerSecurity(home, tls, admin.read_text(encoding="utf-8").strip())


async def _describe(endpoints: StackEndpoints, security: BrokerSecurity, timeout: float) -> bool:
    from renkei.kafka_security import KafkaSecurity  # local: keeps the stack importable alone

    client = KafkaSecurity(
        "SASL_SSL", SCRAM_MECHANISM, ADMIN_USER, security.admin_password, security.tls.ca_cert
    )
    admin = AIOKafkaAdminClient(
        bootstrap_servers=endpoints.kafka_bootstrap,
        request_timeout_ms=int(timeout * 1000),
        **client.aiokafka_options(),
    )
    try:
        await asyncio.wait_for(admin.start(), timeout)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout)
        return bool(cluster.get("brokers")) and int(cluster.get("controller_id", -1)) >= 0
    finally:
        await admin.close()


def secure_kafka_ready(
    endpoints: StackEndpoints, security: BrokerSecurity, timeout: float = 5.0
) -> bool:
    """True once the broker authenticates the admin over SASL_SSL and lists itself."""
    if not port_in_use(endpoints.kafka_host, endpoints.kafka_port):
        return False  # not listening yet: spare aiokafka's connection-refused warnings
    try:
        return asyncio.run(_describe(endpoints, security, timeout))
    except (KafkaError, OSError, TimeoutError, StackError):
        return False
