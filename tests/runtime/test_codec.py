"""SourceDecoder / OutputEncoders against an in-memory registry (httpx.MockTransport)."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from renkei.contracts.names import TopicNames
from renkei.errors import RegistryError
from renkei.runtime.codec import OutputEncodeError, OutputEncoders, SourceDecoder, UndecodableRecord
from tests.runtime.echo_stage import SINK, SINK_SCHEMA, SOURCE, SOURCE_SCHEMA
from tests.runtime.fake_registry import FakeRegistry, encode

# A newer writer that added an optional ``note``: the catalogue (reader) schema still reads it.
NEWER_WRITER: dict[str, Any] = {
    "type": "record",
    "name": "EchoSource",
    "namespace": "jp.renkei.test",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "n", "type": "int"},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
INCOMPATIBLE: dict[str, Any] = {
    "type": "record",
    "name": "EchoSource",
    "namespace": "jp.renkei.test",
    "fields": [{"name": "id", "type": "long"}],
}


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


async def test_decodes_and_fetches_each_writer_schema_once(registry: FakeRegistry) -> None:
    schema_id = registry.add("echo.source-value", SOURCE_SCHEMA)
    decoder = SourceDecoder(registry.client(), SOURCE)
    for n in range(3):
        value = encode(SOURCE_SCHEMA, schema_id, {"id": "a", "n": n})
        assert await decoder.decode(value) == {"id": "a", "n": n}
    assert registry.requests == [f"GET /schemas/ids/{schema_id}"]


async def test_an_evolved_writer_is_read_into_the_catalogue_schema(registry: FakeRegistry) -> None:
    schema_id = registry.add("echo.source-value", NEWER_WRITER)
    decoder = SourceDecoder(registry.client(), SOURCE)
    value = encode(NEWER_WRITER, schema_id, {"id": "a", "n": 2, "note": "extra"})
    assert await decoder.decode(value) == {"id": "a", "n": 2}


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (None, "tombstone"),
        (b"\x00\x00", "shorter than the wire header"),
        (b"\x01\x00\x00\x00\x01\x02a\x02", "unknown magic byte 1"),
        (b'{"id": "a"}', "unknown magic byte 123"),
    ],
)
async def test_values_that_are_not_wire_format_are_deserialization_failures(
    registry: FakeRegistry, value: bytes | None, detail: str
) -> None:
    decoder = SourceDecoder(registry.client(), SOURCE)
    with pytest.raises(UndecodableRecord, match=detail) as caught:
        await decoder.decode(value)
    assert caught.value.reason == "deserialization"
    assert registry.requests == []


async def test_a_body_that_does_not_decode_is_a_deserialization_failure(
    registry: FakeRegistry,
) -> None:
    schema_id = registry.add("echo.source-value", SOURCE_SCHEMA)
    decoder = SourceDecoder(registry.client(), SOURCE)
    truncated = encode(SOURCE_SCHEMA, schema_id, {"id": "abcdef", "n": 1})[:8]
    with pytest.raises(UndecodableRecord) as caught:
        await decoder.decode(truncated)
    assert caught.value.reason == "deserialization"
    assert "abc" not in str(caught.value)


async def test_an_unknown_schema_id_is_a_schema_failure_asked_once(registry: FakeRegistry) -> None:
    decoder = SourceDecoder(registry.client(), SOURCE)
    value = struct.pack(">bI", 0, 4242) + b"\x02a\x02"
    for _ in range(3):
        with pytest.raises(
            UndecodableRecord, match="schema id 4242 is not in the registry"
        ) as caught:
            await decoder.decode(value)
        assert caught.value.reason == "schema"
    assert registry.requests == ["GET /schemas/ids/4242"]


async def test_an_incompatible_writer_is_a_schema_failure(registry: FakeRegistry) -> None:
    schema_id = registry.add("other-value", INCOMPATIBLE)
    decoder = SourceDecoder(registry.client(), SOURCE)
    with pytest.raises(
        UndecodableRecord, match=r"cannot be read as the echo\.source schema"
    ) as caught:
        await decoder.decode(encode(INCOMPATIBLE, schema_id, {"id": 7}))
    assert caught.value.reason == "schema"


async def test_a_registry_that_is_down_is_not_the_records_fault(registry: FakeRegistry) -> None:
    registry.down = True
    decoder = SourceDecoder(registry.client(), SOURCE)
    with pytest.raises(RegistryError) as caught:
        await decoder.decode(struct.pack(">bI", 0, 1) + b"\x02a\x02")
    assert caught.value.status == 503


async def test_prefetch_reads_the_latest_writer_schema_before_records_arrive(
    registry: FakeRegistry,
) -> None:
    schema_id = registry.add("t.echo.source-value", SOURCE_SCHEMA)
    decoder = SourceDecoder(registry.client(), SOURCE, topic="t.echo.source")
    assert await decoder.prefetch_latest("t.echo.source-value") == schema_id
    before = len(registry.requests)
    await decoder.decode(encode(SOURCE_SCHEMA, schema_id, {"id": "a", "n": 1}))
    assert len(registry.requests) == before
    assert await decoder.prefetch_latest("missing-value") is None


async def test_encoders_resolve_ids_once_and_encode_without_io(registry: FakeRegistry) -> None:
    schema_id = registry.add("t.echo.sink-value", SINK_SCHEMA)
    encoders = OutputEncoders(registry.client(), [SINK], TopicNames("t."))
    assert await encoders.prepare() == {"echo.sink": schema_id}
    requests = len(registry.requests)
    value = encoders.encode("echo.sink", {"id": "a", "doubled": 4})
    assert value[:5] == struct.pack(">bI", 0, schema_id)
    assert len(registry.requests) == requests
    assert encoders.schema_id("echo.sink") == schema_id


async def test_an_unregistered_output_schema_fails_at_startup(registry: FakeRegistry) -> None:
    encoders = OutputEncoders(registry.client(), [SINK], TopicNames())
    with pytest.raises(RegistryError, match="renkei schemas apply"):
        await encoders.prepare()


async def test_an_output_that_does_not_fit_names_the_field_not_the_value(
    registry: FakeRegistry,
) -> None:
    registry.add("echo.sink-value", SINK_SCHEMA)
    encoders = OutputEncoders(registry.client(), [SINK], TopicNames())
    await encoders.prepare()
    with pytest.raises(OutputEncodeError) as caught:
        encoders.encode("echo.sink", {"id": "山田花子", "doubled": "山田太郎"})
    message = str(caught.value)
    assert "echo.sink schema at field doubled" in message
    assert "山田" not in message
