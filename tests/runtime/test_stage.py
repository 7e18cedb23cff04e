"""StageProcessor (decode → step → encode → send, failures → DLQ) and DeliveryAcker, without
faust or a broker; the echo stage of echo_stage.py is the step."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import pytest

from renkei.contracts.dlq import header_map
from renkei.contracts.names import TopicNames
from renkei.errors import RegistryError
from renkei.runtime.agent import DeliveryAcker
from renkei.runtime.codec import OutputEncoders, SourceDecoder
from renkei.runtime.dlq import DeadLetterRouter, DlqBreaker, DlqLimitExceeded
from renkei.runtime.records import Output, SourceRecord
from renkei.runtime.stage import Stage, StageProcessor
from tests.runtime.echo_stage import SINK_SCHEMA, SOURCE_SCHEMA, echo_stage
from tests.runtime.fake_registry import URL, FakeRegistry, encode
from tests.runtime.test_dlq import FakeSend

PREFIX = "t."


class Harness:
    def __init__(self, stage: Stage | None = None, breaker: DlqBreaker | None = None) -> None:
        self.registry = FakeRegistry()
        self.source_id = self.registry.add(f"{PREFIX}echo.source-value", SOURCE_SCHEMA)
        self.sink_id = self.registry.add(f"{PREFIX}echo.sink-value", SINK_SCHEMA)
        client = self.registry.client()
        stage = stage or echo_stage()
        names = TopicNames(PREFIX)
        self.send = FakeSend()
        self.encoders = OutputEncoders(client, stage.outputs, names)
        self.processor = StageProcessor(
            stage,
            decoders={
                s.topic: SourceDecoder(client, s, topic=names.topic(s.topic)) for s in stage.inputs
            },
            encoders=self.encoders,
            names=names,
            send=self.send,
            router=DeadLetterRouter(
                stage=stage.name,
                send=self.send,
                breaker=breaker or DlqBreaker(),
                dlq_topic=names.dlq,
                dlq_partitions=lambda topic: 3,
            ),
            registry_url=URL,
        )

    async def start(self) -> Harness:
        await self.encoders.prepare()
        self.processor.on_prepared()
        return self

    def record(self, value: bytes | None, offset: int = 7) -> SourceRecord:
        return SourceRecord(
            topic=f"{PREFIX}echo.source",
            contract_topic="echo.source",
            partition=2,
            offset=offset,
            key=b"k1",
            value=value,
            headers=(("ce_id", b"e-1"), ("ce_dataschema", b"http://old/schemas/ids/1")),
        )

    def valid(self, n: int) -> bytes:
        return encode(SOURCE_SCHEMA, self.source_id, {"id": "a", "n": n})


async def test_a_valid_record_is_encoded_and_sent_with_its_key_and_headers() -> None:
    harness = await Harness().start()
    futures = await harness.processor.process(harness.record(harness.valid(21)))
    assert futures == ["future-1"]
    topic, key, value, partition, headers = harness.send.sent[0]
    assert (topic, key, partition) == ("t.echo.sink", b"k1", None)
    assert value == encode(SINK_SCHEMA, harness.sink_id, {"id": "a", "doubled": 42})
    assert headers == [
        ("ce_id", b"e-1"),
        ("ce_dataschema", f"{URL}/schemas/ids/{harness.sink_id}".encode()),
    ]


@pytest.mark.parametrize(
    ("value", "reason", "detail"),
    [
        (b"random bytes", "deserialization", "(value): unknown magic byte 114"),
        (struct.pack(">bI", 0, 999) + b"\x02a\x02", "schema", "(value): schema id 999 is not in"),
        ("negative", "standardization", "n: must not be negative"),
        ("thirteen", "processing", "ZeroDivisionError at echo_stage.py:"),
    ],
)
async def test_bad_records_go_to_the_dlq_unchanged(value: Any, reason: str, detail: str) -> None:
    harness = await Harness().start()
    raw = {"negative": harness.valid(-1), "thirteen": harness.valid(13)}.get(value, value)
    record = harness.record(raw)
    await harness.processor.process(record)
    [(topic, key, sent_value, partition, headers)] = harness.send.sent
    assert (topic, key, sent_value, partition) == ("t.dlq.echo.source", b"k1", raw, 2)
    found = header_map(headers)
    assert found["renkei.dlq.reason"] == reason
    assert found["renkei.dlq.detail"].startswith(detail)
    assert found["renkei.dlq.offset"] == "7"
    assert found["renkei.dlq.topic"] == "t.echo.source"
    # the original headers, as they were
    assert found["ce_dataschema"] == "http://old/schemas/ids/1"


async def test_an_output_that_does_not_fit_its_schema_is_a_processing_failure() -> None:
    def bad_step(record: SourceRecord, value: Any) -> list[Output]:
        return [Output("echo.sink", record.key, {"id": value["id"], "doubled": "not a number"})]

    stage = echo_stage()
    harness = await Harness(Stage(stage.name, stage.inputs, stage.outputs, bad_step)).start()
    await harness.processor.process(harness.record(harness.valid(1)))
    found = header_map(harness.send.sent[0][4])
    assert found["renkei.dlq.reason"] == "processing"
    assert "at field doubled" in found["renkei.dlq.detail"]


async def test_a_registry_outage_stops_the_stage_instead_of_filling_the_dlq() -> None:
    harness = await Harness().start()
    harness.registry.down = True
    with pytest.raises(RegistryError):
        await harness.processor.process(harness.record(struct.pack(">bI", 0, 77) + b"\x02a\x02"))
    assert harness.send.sent == []


async def test_the_breaker_stops_the_stage_and_successes_count_against_it() -> None:
    harness = await Harness(breaker=DlqBreaker(window_records=10, min_records=10)).start()
    await harness.processor.process(harness.record(harness.valid(1)))
    for offset in range(9):
        await harness.processor.process(harness.record(b"junk", offset))  # 9 of 10: 90 %
    with pytest.raises(DlqLimitExceeded):
        await harness.processor.process(harness.record(b"junk", 99))
    assert len(harness.send.sent) == 10


class FakeMessage:
    def __init__(self, offset: int, partition: int = 0) -> None:
        self.tp = ("t", partition)
        self.offset = offset


class FakeEvent:
    def __init__(self, offset: int, partition: int = 0) -> None:
        self.message = FakeMessage(offset, partition)
        self.acked = 0

    def ack(self) -> bool:
        self.acked += 1
        return True


async def test_events_are_acked_only_when_every_output_is_delivered() -> None:
    out: list[int] = []
    failures: list[BaseException] = []

    async def fail(exc: BaseException) -> None:
        failures.append(exc)

    acker = DeliveryAcker(lambda tp, offset, message: out.append(offset), fail)
    loop = asyncio.get_running_loop()
    none, one, two = FakeEvent(1), FakeEvent(2), FakeEvent(3)
    acker.ack_when_delivered(none, [])  # a step that produced nothing
    first: asyncio.Future[Any] = loop.create_future()
    acker.ack_when_delivered(one, [first])
    second, third = loop.create_future(), loop.create_future()
    acker.ack_when_delivered(two, [second, third])
    await asyncio.sleep(0)
    assert out == [1]
    first.set_result("metadata")
    second.set_result("metadata")
    await asyncio.sleep(0)
    assert out == [1, 2]
    third.set_result("metadata")
    await asyncio.sleep(0)
    assert out == [1, 2, 3]
    assert failures == []


async def test_acks_follow_offset_order_within_a_partition() -> None:
    """faust commits past an unacked offset when a later one is acked first (agent.py)."""
    out: list[tuple[int, int]] = []

    async def fail(exc: BaseException) -> None:
        raise AssertionError(exc)

    acker = DeliveryAcker(lambda tp, offset, message: out.append((tp[1], offset)), fail)
    loop = asyncio.get_running_loop()
    slow: asyncio.Future[Any] = loop.create_future()
    acker.ack_when_delivered(FakeEvent(10), [slow])
    acker.ack_when_delivered(FakeEvent(11), [])  # nothing to deliver, but 10 is still pending
    acker.ack_when_delivered(FakeEvent(7, partition=1), [])  # another partition: not held
    fast: asyncio.Future[Any] = loop.create_future()
    acker.ack_when_delivered(FakeEvent(12), [fast])
    fast.set_result("metadata")
    await asyncio.sleep(0)
    assert out == [(1, 7)]
    slow.set_result("metadata")
    await asyncio.sleep(0)
    assert out == [(1, 7), (0, 10), (0, 11), (0, 12)]


async def test_a_failed_delivery_leaves_the_event_unacked_and_stops_the_worker() -> None:
    failures: list[BaseException] = []

    async def fail(exc: BaseException) -> None:
        failures.append(exc)

    acker = DeliveryAcker(lambda *args: None, fail)
    event = FakeEvent(5)
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    acker.ack_when_delivered(event, [future])
    future.set_exception(RuntimeError("broker said no"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert event.acked == 0
    assert [str(f) for f in failures] == ["broker said no"]
    assert acker.failed is failures[0]
