"""Confluent-Avro decoding of consumed values and encoding of outputs, for faust agents.

Agents consume raw bytes (no faust serializer): the stage decodes here, so a value that does not
decode is a record to route to the DLQ rather than an exception inside faust's consumer.

- :class:`SourceDecoder` reads every writer schema id into the topic's catalogue schema (Avro
  schema resolution: an evolved writer still reads). The first record with a new id awaits the
  async registry client once; later records decode with no I/O. Failures become
  :class:`UndecodableRecord` with their DLQ reason class; a registry that is down is not the
  record's fault and propagates.
- :class:`OutputEncoders` resolves the schema id of every output subject once at startup
  (:meth:`OutputEncoders.prepare`); :meth:`OutputEncoders.encode` is then pure CPU.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import fastavro
from fastavro.read import SchemaResolutionError

from renkei.contracts.dlq import DlqReason
from renkei.contracts.names import TopicNames
from renkei.errors import ConfigurationError, InvalidRecord, RegistryError, SerializationError
from renkei.runtime.dlq import encode_failure_field
from renkei.schemas.catalogue import TopicSpec
from renkei.serde.avro import AvroDecoder, AvroEncoder
from renkei.serde.registry import RegistryClient
from renkei.serde.wire import unframe

log = logging.getLogger(__name__)

UNKNOWN_ID_TTL = 60.0
"""Seconds an id the registry did not know is answered from memory (a flood of records with
a bogus id must not become a flood of registry requests)."""


class UndecodableRecord(InvalidRecord):
    """A consumed value that is not a record of its topic; ``dlq_reason`` is its DLQ class."""

    def __init__(self, reason: DlqReason, detail: str):
        self.dlq_reason: DlqReason = reason
        super().__init__([("(value)", detail)])

    @property
    def reason(self) -> DlqReason:
        return self.dlq_reason


class OutputEncodeError(SerializationError):
    """An output datum does not fit its topic's schema (a step bug, or a value it let through)."""


class _SameSchemaDecoder(AvroDecoder):
    """AvroDecoder that hands fastavro the reader schema object itself when a writer schema
    equals it: fastavro compares writer and reader schemas on every record, and two equal
    parsed schemas cost a deep comparison each time, the same object almost nothing."""

    async def decode(self, message: bytes | None) -> Any:
        schema_id, _ = unframe(message)
        if schema_id not in self._writers:
            schema = await self._client.schema_by_id(schema_id)
            parsed = fastavro.parse_schema(schema)
            reader = self._reader
            self._writers[schema_id] = reader if reader is not None and parsed == reader else parsed
        return self.decode_cached(message)


class SourceDecoder:
    """Decodes the values of one source topic into its catalogue schema."""

    def __init__(self, client: RegistryClient, spec: TopicSpec, *, topic: str | None = None):
        self.topic = topic or spec.topic
        self._client = client
        self._decoder = _SameSchemaDecoder(client, reader_schema=spec.schema)
        self._unknown: dict[int, float] = {}

    async def decode(self, value: bytes | None) -> Any:
        """The datum in ``value``; UndecodableRecord when the value is not one of this topic."""
        try:
            schema_id, _ = unframe(value)
        except SerializationError as exc:
            raise UndecodableRecord("deserialization", str(exc)) from exc
        if self._unknown and schema_id in self._unknown:
            if time.monotonic() - self._unknown[schema_id] < UNKNOWN_ID_TTL:
                raise UndecodableRecord("schema", f"schema id {schema_id} is not in the registry")
            del self._unknown[schema_id]
        try:
            return await self._decoder.decode(value)
        except RegistryError as exc:
            if exc.status != 404:
                raise  # the registry is down or refusing: not this record's fault
            self._unknown[schema_id] = time.monotonic()
            raise UndecodableRecord(
                "schema", f"schema id {schema_id} is not in the registry"
            ) from exc
        except SerializationError as exc:
            if isinstance(exc.__cause__, SchemaResolutionError):
                raise UndecodableRecord(
                    "schema",
                    f"writer schema id {schema_id} cannot be read as the {self.topic} schema",
                ) from exc
            raise UndecodableRecord("deserialization", str(exc)) from exc
        except Exception as exc:  # the id names a schema fastavro cannot parse (not Avro)
            raise UndecodableRecord(
                "schema",
                f"schema id {schema_id} is not a usable Avro schema ({type(exc).__name__})",
            ) from exc

    async def prefetch_latest(self, subject: str) -> int | None:
        """Fetch the latest writer schema of ``subject`` now, so the first records need no
        registry round trip; None (and a warning) when nothing is registered yet."""
        latest = await self._client.latest(subject)
        if latest is None:
            log.warning("no schema registered under %s yet (renkei schemas apply)", subject)
            return None
        schema_id = int(latest["id"])
        await self._client.schema_by_id(schema_id)
        return schema_id


class OutputEncoders:
    """Encoders of a stage's output topics (contract names), ids resolved once at startup."""

    def __init__(self, client: RegistryClient, specs: Iterable[TopicSpec], names: TopicNames):
        self._encoders = {
            spec.topic: AvroEncoder(client, names.subject(spec.topic), spec.schema)
            for spec in specs
        }

    async def prepare(self) -> dict[str, int]:
        """Resolve every output schema id (RegistryError naming `renkei schemas apply` when a
        subject lacks the catalogue's schema)."""
        return {topic: await encoder.prepare() for topic, encoder in self._encoders.items()}

    def schema_id(self, topic: str) -> int:
        schema_id = self._encoders[topic].schema_id
        if schema_id is None:
            raise SerializationError(f"{topic}: encoder used before prepare()")
        return schema_id

    def encode(self, topic: str, datum: Any) -> bytes:
        """Framed bytes of ``datum``; OutputEncodeError (value-free) when it does not fit."""
        encoder = self._encoders.get(topic)
        if encoder is None:
            raise ConfigurationError(f"the stage does not declare {topic!r} as an output")
        try:
            return encoder.encode(datum)
        except SerializationError as exc:
            field = encode_failure_field(exc)
            where = f" at field {field}" if field else ""
            cause = type(exc.__cause__ or exc).__name__
            raise OutputEncodeError(
                f"output does not fit the {topic} schema{where} ({cause})"
            ) from exc
