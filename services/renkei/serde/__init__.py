"""Confluent wire format with fastavro, and an async, caching schema-registry client."""

from renkei.serde.avro import AvroDecoder, AvroEncoder
from renkei.serde.registry import RegistryClient
from renkei.serde.wire import frame, unframe

__all__ = ["AvroDecoder", "AvroEncoder", "RegistryClient", "frame", "unframe"]
