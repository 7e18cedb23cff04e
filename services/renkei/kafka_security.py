"""How every Kafka client of Renkei authenticates: one place from settings to client options.

Producers, consumers and admin clients (aiokafka) take :func:`kafka_client_options`; faust apps
take :func:`faust_broker_credentials`. Both read the same :class:`KafkaSecurity`, built by
:func:`kafka_security` from the ``RENKEI_KAFKA_SECURITY_PROTOCOL`` / ``_SASL_*`` / ``_SSL_CAFILE``
settings. Under PLAINTEXT (the shared development stack) the options are empty and nothing
changes. The password leaves its ``SecretStr`` only here, into the client's constructor; it is
never part of a message, a repr or a log line.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faust.auth import SASLCredentials

from renkei.errors import ConfigurationError
from renkei.settings import Settings


@dataclass(frozen=True)
class KafkaSecurity:
    """Resolved security of the Kafka clients (the password is hidden from repr)."""

    protocol: str
    mechanism: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: Path | None = None

    @property
    def secure(self) -> bool:
        return self.protocol != "PLAINTEXT"

    def ssl_context(self) -> ssl.SSLContext:
        """TLS with certificate and host name checks against ``cafile`` (else system CAs)."""
        try:
            return ssl.create_default_context(cafile=str(self.cafile) if self.cafile else None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"cannot load CA file {self.cafile}: {exc}") from exc

    def aiokafka_options(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer / AIOKafkaConsumer / AIOKafkaAdminClient."""
        if not self.secure:
            return {}
        return {
            "security_protocol": self.protocol,
            "ssl_context": self.ssl_context(),
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }

    def faust_credentials(self) -> SASLCredentials | None:
        """faust's ``broker_credentials`` (None under PLAINTEXT)."""
        if not self.secure:
            return None
        return SASLCredentials(
            username=self.username,
            password=self.password,
            ssl_context=self.ssl_context(),
            mechanism=self.mechanism,
        )


def _password(settings: Settings) -> str | None:
    if settings.kafka_sasl_password is not None:
        return settings.kafka_sasl_password.get_secret_value()
    if settings.kafka_sasl_password_file is None:
        return None
    try:
        return settings.kafka_sasl_password_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read RENKEI_KAFKA_SASL_PASSWORD_FILE {settings.kafka_sasl_password_file}: "
            f"{exc.strerror or type(exc).__name__}"
        ) from exc


def kafka_security(settings: Settings) -> KafkaSecurity:
    """The one function turning settings into client security (ConfigurationError if partial)."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return KafkaSecurity("PLAINTEXT")
    password = _password(settings)
    if not settings.kafka_sasl_username or not password:
        raise ConfigurationError(
            "RENKEI_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs RENKEI_KAFKA_SASL_USERNAME and "
            "RENKEI_KAFKA_SASL_PASSWORD (or RENKEI_KAFKA_SASL_PASSWORD_FILE)"
        )
    if settings.kafka_ssl_cafile is not None and not settings.kafka_ssl_cafile.is_file():
        raise ConfigurationError(f"RENKEI_KAFKA_SSL_CAFILE not found: {settings.kafka_ssl_cafile}")
    return KafkaSecurity(
        protocol=settings.kafka_security_protocol,
        mechanism=settings.kafka_sasl_mechanism,
        username=settings.kafka_sasl_username,
        password=password,
        cafile=settings.kafka_ssl_cafile,
    )


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """``bootstrap_servers`` plus the security options, for any aiokafka client."""
    return {
        "bootstrap_servers": settings.kafka_bootstrap,
        **kafka_security(settings).aiokafka_options(),
    }


def faust_broker_credentials(settings: Settings) -> SASLCredentials | None:
    """The faust ``broker_credentials`` of ``settings`` (None under PLAINTEXT)."""
    return kafka_security(settings).faust_credentials()
