"""DeadLetterRouter headers and DlqBreaker thresholds (pure: no broker)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from renkei.contracts.dlq import header_map
from renkei.contracts.names import TopicNames
from renkei.errors import InvalidRecord
from renkei.normalize.errors import StandardizationError
from renkei.runtime.dlq import (
    DeadLetterRouter,
    DlqBreaker,
    DlqLimitExceeded,
    Rejection,
    describe,
    dlq_headers,
    encode_failure_field,
)
from renkei.runtime.records import SourceRecord

NOW = dt.datetime(2026, 4, 1, 9, 30, 0, 123000, tzinfo=dt.UTC)
RECORD = SourceRecord(
    topic="registry.resident.events",
    contract_topic="registry.resident.events",
    partition=4,
    offset=1234,
    key=b"R-0001",
    value=b"\x00\x00\x00\x00\x07garbage",
    headers=(
        ("ce_id", b"e-1"),
        ("ce_type", b"jp.renkei.registry.resident.event"),
        ("x-trace", b"a"),
        ("x-trace", b"b"),
        ("renkei.dlq.reason", b"schema"),  # from an earlier trip through a DLQ
    ),
)


class FakeSend:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, int | None, list[Any]]] = []

    async def __call__(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        headers: Any,
    ) -> str:
        self.sent.append((topic, key, value, partition, headers))
        return f"future-{len(self.sent)}"


def _router(
    send: FakeSend, breaker: DlqBreaker | None = None, partitions: int = 6
) -> DeadLetterRouter:
    return DeadLetterRouter(
        stage="standardize",
        send=send,
        breaker=breaker or DlqBreaker(),
        dlq_topic=TopicNames().dlq,
        dlq_partitions=lambda topic: partitions,
        clock=lambda: NOW,
    )


def test_headers_keep_the_originals_and_add_every_reason_header() -> None:
    headers = dlq_headers(
        RECORD.headers,
        reason="standardization",
        detail="detail.person.birth_date: era year 0",
        stage="standardize",
        topic=RECORD.topic,
        partition=RECORD.partition,
        offset=RECORD.offset,
        now=NOW,
    )
    assert headers[:4] == list(RECORD.headers[:4])  # order and repeated names kept
    assert [name for name, _ in headers].count("renkei.dlq.reason") == 1
    assert header_map(headers) == {
        "ce_id": "e-1",
        "ce_type": "jp.renkei.registry.resident.event",
        "x-trace": "b",
        "renkei.dlq.reason": "standardization",
        "renkei.dlq.detail": "detail.person.birth_date: era year 0",
        "renkei.dlq.stage": "standardize",
        "renkei.dlq.topic": "registry.resident.events",
        "renkei.dlq.partition": "4",
        "renkei.dlq.offset": "1234",
        "renkei.dlq.time": "2026-04-01T09:30:00.123+00:00",
    }


async def test_router_sends_the_original_bytes_to_the_dlq_of_the_source_partition() -> None:
    send = FakeSend()
    router = _router(send)
    future = await router.route(RECORD, Rejection("deserialization", "unknown magic byte 7"))
    assert future == "future-1"
    topic, key, value, partition, headers = send.sent[0]
    assert (topic, key, value, partition) == (
        "dlq.registry.resident.events",
        RECORD.key,
        RECORD.value,
        4,
    )
    assert header_map(headers)["renkei.dlq.reason"] == "deserialization"
    assert router.routed == 1


async def test_router_lets_the_partitioner_choose_when_the_dlq_lacks_the_partition() -> None:
    send = FakeSend()
    await _router(send, partitions=3).route(RECORD, Rejection("schema", "x"))
    assert send.sent[0][3] is None


async def test_router_uses_the_test_prefix_and_keeps_a_tombstone_a_tombstone() -> None:
    send = FakeSend()
    router = DeadLetterRouter(
        stage="echo", send=send, breaker=DlqBreaker(), dlq_topic=TopicNames("t-1.").dlq
    )
    tombstone = SourceRecord("t-1.echo.source", "echo.source", 0, 5, b"k", None)
    await router.route(tombstone, Rejection("deserialization", "value is empty"))
    assert send.sent[0][:4] == ("t-1.dlq.echo.source", b"k", None, None)


def test_describe_keeps_field_paths_and_never_a_foreign_message() -> None:
    error = StandardizationError("detail.person.birth_date", "not a date (和暦 or 西暦)")
    assert describe(error) == "detail.person.birth_date: not a date (和暦 or 西暦)"
    assert describe(InvalidRecord([("a", "x"), ("b.c", "y")])) == "a: x; b.c: y"
    try:
        {"name": 1}["山田太郎"]
    except KeyError as exc:
        text = describe(exc)
    assert text.startswith("KeyError at test_dlq.py:")
    assert "山田" not in text


def test_encode_failure_field_is_read_from_fastavro_messages() -> None:
    assert (
        encode_failure_field(ValueError("'x' (type str) do not match ['null', 'int'] on field age"))
        == "age"
    )
    assert encode_failure_field(ValueError("no value and no default for std_meta")) == "std_meta"
    assert encode_failure_field(ValueError("something else")) is None


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _breaker(clock: Clock | None = None, **kwargs: Any) -> DlqBreaker:
    return DlqBreaker(clock=clock or Clock(), **kwargs)


def test_breaker_waits_for_the_minimum_number_of_records() -> None:
    breaker = _breaker()
    for _ in range(99):
        breaker.record_failure()
    with pytest.raises(DlqLimitExceeded, match="100 of the last 100 records failed"):
        breaker.record_failure()


def test_breaker_trips_only_above_the_ratio() -> None:
    breaker = _breaker()
    for _ in range(10):
        breaker.record_success()
    for _ in range(90):
        breaker.record_failure()  # 90 of 100: not *more* than 90 %
    assert breaker.counts == (90, 100)
    with pytest.raises(DlqLimitExceeded):
        breaker.record_failure()  # 91 of 101


def test_breaker_window_forgets_old_records_by_count() -> None:
    breaker = _breaker(window_records=200, min_records=100)
    for _ in range(95):
        breaker.record_failure()
    for _ in range(200):
        breaker.record_success()  # pushes the 95 failures out of the window
    assert breaker.counts == (0, 200)
    for _ in range(180):  # 180 of the last 200 = 90 %: not more than the limit
        breaker.record_failure()
    assert breaker.counts == (180, 200)
    with pytest.raises(DlqLimitExceeded):
        breaker.record_failure()  # 181 of 200


def test_breaker_window_forgets_old_records_by_age() -> None:
    clock = Clock()
    breaker = _breaker(clock, window_seconds=60.0)
    for _ in range(99):
        breaker.record_failure()
    clock.now = 61.0
    breaker.record_failure()  # the 99 earlier failures are older than the window
    assert breaker.counts == (1, 1)


async def test_a_tripped_breaker_stops_routing() -> None:
    send = FakeSend()
    router = _router(send, DlqBreaker(min_records=10, window_records=10))
    for _ in range(9):
        await router.route(RECORD, Rejection("deserialization", "x"))
    with pytest.raises(DlqLimitExceeded):
        await router.route(RECORD, Rejection("deserialization", "x"))
    assert len(send.sent) == 9


def test_breaker_rejects_a_minimum_above_its_window() -> None:
    with pytest.raises(ValueError):
        DlqBreaker(window_records=10, min_records=11)
