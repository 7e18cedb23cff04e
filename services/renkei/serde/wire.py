"""The Confluent wire format: byte 0x00, 4-byte big-endian schema id, then the Avro body."""

from __future__ import annotations

import struct

from renkei.errors import SerializationError

MAGIC = 0
_HEADER = struct.Struct(">bI")
HEADER_SIZE = _HEADER.size


def frame(schema_id: int, body: bytes) -> bytes:
    """Prefix an Avro body with the wire header."""
    return _HEADER.pack(MAGIC, schema_id) + body


def unframe(message: bytes | None) -> tuple[int, memoryview]:
    """(schema id, Avro body) of a framed value; SerializationError when it is not one."""
    if message is None:
        raise SerializationError("value is empty (a tombstone), not an Avro record")
    if len(message) < HEADER_SIZE:
        raise SerializationError(f"value is {len(message)} bytes, shorter than the wire header")
    magic, schema_id = _HEADER.unpack_from(message)
    if magic != MAGIC:
        raise SerializationError(f"unknown magic byte {magic} (expected 0: Confluent wire format)")
    return schema_id, memoryview(message)[HEADER_SIZE:]
