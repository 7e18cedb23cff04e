"""The project's one exception tree.

Library errors (aiokafka, fastavro, httpx, pydantic) are wrapped in these types with
``raise ... from exc`` so callers handle Renkei errors only. Messages never contain personal
data: they name fields, topics and reasons, not values.
"""

from __future__ import annotations


class RenkeiError(Exception):
    """Base of every error Renkei raises on purpose."""


class ConfigurationError(RenkeiError):
    """Settings or files on disk are wrong (bad path, unknown topic, malformed metadata)."""


class StackError(RenkeiError):
    """The local Kafka / registry stack could not be fetched, started, or reached."""


class SchemaError(RenkeiError):
    """A schema is malformed or incompatible with what the registry holds."""


class RegistryError(RenkeiError):
    """The schema registry answered with an error or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, error_code: int | None = None):
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class SerializationError(RenkeiError):
    """A value could not be encoded to, or decoded from, the Confluent Avro wire format."""


class InvalidRecord(RenkeiError):
    """A single record is bad (wrong shape, forbidden value). Routed to a DLQ or reported; the
    stream or batch goes on. ``reasons`` are (field path, reason) pairs, free of personal data.

    The one error a stage step raises for a bad record (arroyo's ``InvalidMessage``): the stage
    framework routes it to ``dlq.<topic>`` with :attr:`dlq_reason` as the reason class and the
    ``reasons`` as the detail, and knows no stage's own error types.
    """

    dlq_reason: str = "processing"
    """Reason class of the DLQ record (``renkei.contracts.dlq.DlqReason``)."""
    carries_my_number: bool = False
    """The record holds a 個人番号 (My Number): the DLQ keeps a copy with it masked, never the
    number itself."""

    def __init__(self, reasons: list[tuple[str, str]]):
        self.reasons = reasons
        super().__init__("; ".join(f"{field}: {why}" for field, why in reasons))


class PublishError(RenkeiError):
    """The broker did not acknowledge a record."""


class AuditError(RenkeiError):
    """The audit log could not be written, read or published (the chain itself is checked by
    ``renkei audit verify``, which reports breaks instead of raising)."""
