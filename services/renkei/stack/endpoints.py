"""Addresses of the local stack, derived from :class:`renkei.settings.Settings`.

The broker listens where ``settings.kafka_bootstrap`` points (first entry, default
127.0.0.1:9092) and its KRaft controller on the next port; the registry serves the host and
port of ``settings.schema_registry_url``. The local stack binds loopback only.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from renkei.errors import StackError
from renkei.settings import Settings

LOOPBACK_HOST = "127.0.0.1"
REGISTRY_MANAGEMENT_OFFSET = 1000
"""Quarkus' management interface (health, metrics) listens 1000 above the HTTP port (8081 →
9081), off its default 9000, which other tools use."""

REGISTRY_UPSTREAM_OFFSET = 1
"""On the secure stack the registry's own HTTP port is one above the URL's port, where the
authenticating proxy (:mod:`renkei.stack.registry_proxy`) listens; both loopback."""

REGISTRY_TOPIC = "_renkei_schemas"
"""The Kafka topic Apicurio's ``kafkasql`` storage persists schemas in."""

SECURE_SCHEME = "sasl_ssl://"
"""Prefix of a secure broker's address in its pid record (plain brokers have none)."""

_LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass(frozen=True)
class StackEndpoints:
    """Where the broker and the registry listen, and the URLs used to probe them."""

    kafka_host: str
    kafka_port: int
    registry_url: str
    registry_host: str
    registry_port: int
    kafka_is_local: bool = True
    registry_is_local: bool = True
    secure: bool = False
    """SASL_SSL broker (``renkei stack up --secure``, RENKEI_KAFKA_SECURITY_PROTOCOL=SASL_SSL)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> StackEndpoints:
        """Read the broker and registry addresses the rest of Renkei will use."""
        first = settings.kafka_bootstrap.split(",")[0].strip()
        host, _, port_text = first.rpartition(":")
        if not host or not port_text.isdigit():
            raise StackError(f"kafka_bootstrap must be host:port, got {first!r}")
        url = urlsplit(settings.schema_registry_url)
        if url.scheme != "http" or url.hostname is None:
            raise StackError(
                f"schema_registry_url must be an http:// URL, got {settings.schema_registry_url!r}"
            )
        return cls(
            kafka_host=host,
            kafka_port=int(port_text),
            registry_url=settings.schema_registry_url.rstrip("/"),
            registry_host=url.hostname,
            registry_port=url.port or 80,
            kafka_is_local=host in _LOCAL_NAMES,
            registry_is_local=url.hostname in _LOCAL_NAMES,
            secure=settings.kafka_security_protocol == "SASL_SSL",
        )

    @property
    def kafka_bootstrap(self) -> str:
        """What clients (and the registry) connect to: the loopback listener."""
        return f"{LOOPBACK_HOST}:{self.kafka_port}"

    @property
    def kafka_address(self) -> str:
        """The broker as pid records and status name it: ``sasl_ssl://`` marks a secure one."""
        return f"{SECURE_SCHEME}{self.kafka_bootstrap}" if self.secure else self.kafka_bootstrap

    @property
    def controller_port(self) -> int:
        return self.kafka_port + 1

    @property
    def registry_bind_port(self) -> int:
        """Where Apicurio itself listens: the URL's port, or (secure) the port above it, behind
        the proxy that owns the URL's port."""
        return self.registry_port + (REGISTRY_UPSTREAM_OFFSET if self.secure else 0)

    @property
    def registry_upstream(self) -> str:
        """Apicurio's own base URL (no API path): what the secure stack's proxy forwards to."""
        return f"http://{LOOPBACK_HOST}:{self.registry_bind_port}"

    @property
    def registry_management_port(self) -> int:
        return self.registry_port + REGISTRY_MANAGEMENT_OFFSET

    @property
    def registry_ready_url(self) -> str:
        """Answers 200 once the Confluent-compatible API can serve requests."""
        return f"{self.registry_url}/subjects"

    @property
    def registry_health_url(self) -> str:
        """Quarkus readiness on the management port: 200 only once the storage is loaded. The
        API answers earlier, while the kafkasql journal is still being read, and then misses
        subjects that exist (a `schemas apply` at that moment is refused with HTTP 409)."""
        return f"http://{self.registry_host}:{self.registry_management_port}/health/ready"

    @property
    def registry_info_url(self) -> str:
        """Apicurio's own API: ``{"name": ..., "version": "3.3.3", ...}``."""
        return f"http://{self.registry_host}:{self.registry_port}/apis/registry/v3/system/info"

    def require_local(self) -> None:
        """Refuse to start servers for addresses that are not on this machine."""
        if not self.kafka_is_local:
            raise StackError(
                f"kafka_bootstrap points at {self.kafka_host}:{self.kafka_port}; the local stack "
                "only serves 127.0.0.1 (unset RENKEI_KAFKA_BOOTSTRAP to use it)"
            )
        if not self.registry_is_local:
            raise StackError(
                f"schema_registry_url points at {self.registry_host}; the local stack only serves "
                "127.0.0.1 (unset RENKEI_SCHEMA_REGISTRY_URL to use it)"
            )
