"""Avro encoding and decoding in the Confluent wire format with fastavro."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro

from renkei.errors import SerializationError
from renkei.serde.registry import RegistryClient
from renkei.serde.wire import frame, unframe


class AvroEncoder:
    """Encodes datums of one subject's schema; the schema id is looked up once."""

    def __init__(self, client: RegistryClient, subject: str, schema: dict[str, Any]):
        self._client = client
        self.subject = subject
        self._schema_text = schema_text(schema)
        self._parsed = fastavro.parse_schema(schema)
        self.schema_id: int | None = None

    async def prepare(self) -> int:
        """Resolve the schema id (one registry call); later encodes need no I/O."""
        if self.schema_id is None:
            self.schema_id = await self._client.lookup(self.subject, self._schema_text)
        return self.schema_id

    def encode(self, datum: Any) -> bytes:
        """Frame and encode ``datum``; ``prepare()`` must have run."""
        if self.schema_id is None:
            raise SerializationError(f"{self.subject}: encoder used before prepare()")
        buffer = io.BytesIO()
        try:
            fastavro.schemaless_writer(buffer, self._parsed, datum)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SerializationError(f"{self.subject}: cannot encode record: {exc}") from exc
        return frame(self.schema_id, buffer.getvalue())


class AvroDecoder:
    """Decodes wire-format values of any schema id, fetching unknown writer schemas once.

    With ``reader_schema`` the writer's data is resolved to it (Avro schema evolution).
    """

    def __init__(self, client: RegistryClient, reader_schema: dict[str, Any] | None = None):
        self._client = client
        self._reader = fastavro.parse_schema(reader_schema) if reader_schema else None
        self._writers: dict[int, Any] = {}

    async def decode(self, message: bytes | None) -> Any:
        schema_id, _ = unframe(message)
        if schema_id not in self._writers:
            schema = await self._client.schema_by_id(schema_id)
            self._writers[schema_id] = fastavro.parse_schema(schema)
        return self.decode_cached(message)

    def decode_cached(self, message: bytes | None) -> Any:
        """Decode without I/O; SerializationError if the writer schema was never fetched."""
        schema_id, body = unframe(message)
        writer = self._writers.get(schema_id)
        if writer is None:
            raise SerializationError(f"schema id {schema_id} not in cache (call decode first)")
        try:
            return fastavro.schemaless_reader(io.BytesIO(body), writer, self._reader)
        except Exception as exc:  # fastavro raises EOFError, ValueError, SchemaResolutionError…
            raise SerializationError(
                f"value does not decode with schema id {schema_id}: {type(exc).__name__}"
            ) from exc


def schema_text(schema: dict[str, Any]) -> str:
    """The exact text Renkei registers for a schema (docs and custom properties kept)."""
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
