"""The commit-interval batch (runtime/batch.py) without a broker: write-back cache, coalescing
of state-valued outputs, ack order after delivery, flush triggers."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from faust.exceptions import PartitionsMismatch
from faust.streams import _current_event

from renkei.runtime.batch import BatchLimits, CachedTable, CommitBatch, coalesce

RESIDENT, FACTS = "unified.resident", "internal.resident.facts"


class Event:
    """Stands in for a faust event (weak-referenceable, as faust's current event is)."""

    def __init__(self, message: Any):
        self.message = message


def event(offset: int, partition: int = 0, topic: str = "in") -> Any:
    return Event(SimpleNamespace(topic=topic, partition=partition, offset=offset))


@contextlib.contextmanager
def processing(ev: Any) -> Iterator[None]:
    """What faust's stream does around a step: ``ev`` is the current event."""
    token = _current_event.set(weakref.ref(ev))
    try:
        yield
    finally:
        _current_event.reset(token)


class Store(dict[str, Any]):
    """A table: records every write (with the partition of the event it was written under)
    and hands the batch a changelog future per write, as TrackedTable does."""

    def __init__(self, batch: CommitBatch | None = None, resolve: bool = True):
        super().__init__()
        self.writes: list[tuple[str, Any, int | None]] = []
        self.batch = batch
        self.futures: list[asyncio.Future[None]] = []
        self.resolve = resolve

    def _written(self) -> None:
        if self.batch is not None:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            if self.resolve:
                future.set_result(None)
            self.futures.append(future)
            self.batch.changelog_written(future)

    def __setitem__(self, key: str, value: Any) -> None:
        current = _current_event.get(None)
        partition = current().message.partition if current else None
        self.writes.append((key, value, partition))
        super().__setitem__(key, value)
        self._written()

    def __delitem__(self, key: str) -> None:
        self.writes.append((key, None, None))
        super().__delitem__(key)
        self._written()


class Producer:
    """Records sends; their futures resolve when told (``deliver``) or at once."""

    def __init__(self, auto: bool = True):
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.futures: list[asyncio.Future[None]] = []
        self.auto = auto

    async def __call__(self, topic: str, key: Any, value: Any, partition: Any, headers: Any) -> Any:
        self.sent.append((topic, key, value))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.auto:
            future.set_result(None)
        self.futures.append(future)
        return future


class Recorder:
    def __init__(self) -> None:
        self.acked: list[int] = []
        self.failed: list[BaseException] = []

    def ack(self, ev: Any) -> None:
        self.acked.append(ev.message.offset)

    async def fail(self, exc: BaseException) -> None:
        self.failed.append(exc)


def make_batch(producer: Producer, rec: Recorder, **kwargs: Any) -> CommitBatch:
    kwargs.setdefault("limits", BatchLimits(max_records=100, max_ms=10_000))
    return CommitBatch(send=producer, ack=rec.ack, fail=rec.fail, **kwargs)


def out(topic: str, key: str, value: str) -> tuple[str, bytes, bytes, list[Any]]:
    return (topic, key.encode(), value.encode(), [])


def test_coalesce_keeps_the_last_state_record_per_key_and_every_event_record() -> None:
    outputs = [
        out(RESIDENT, "a", "a1"),
        out(FACTS, "a", "f1"),
        out(RESIDENT, "b", "b1"),
        out(RESIDENT, "a", "a2"),
        out(FACTS, "a", "f2"),
    ]
    kept = coalesce(outputs, frozenset({RESIDENT}))
    assert [v for _, _, v, _ in kept] == [b"f1", b"b1", b"a2", b"f2"]
    assert coalesce(outputs, frozenset()) == outputs


async def test_table_changes_are_cached_until_the_flush_and_each_key_is_written_once() -> None:
    producer, rec = Producer(), Recorder()
    batch = make_batch(producer, rec)
    store = Store(batch)
    store.update({"x": {"n": 0}})
    store.writes.clear()
    table = CachedTable("t", store, batch)
    for offset in range(3):
        ev = event(offset, partition=2)
        with processing(ev):
            before = table.get("x")
            table["x"] = {"n": before["n"] + 1}
            table["y"] = {"n": offset}
        await batch.add(ev, "in", [], [])
    assert store.writes == []  # nothing written yet
    with processing(event(9, partition=2)):
        assert table["x"] == {"n": 3}  # a later record of the batch reads the cache
    with processing(event(9, partition=1)):
        assert table.get("y") is None  # another partition's entry is another key
    await batch.flush()
    assert store.writes == [("x", {"n": 3}, 2), ("y", {"n": 2}, 2)]
    assert rec.acked == [0, 1, 2]


async def test_a_key_deleted_in_the_batch_reads_as_missing_and_is_deleted_at_the_flush() -> None:
    producer, rec = Producer(), Recorder()
    batch = make_batch(producer, rec)
    store = Store(batch)
    store.update({"gone": {"v": 1}})
    table = CachedTable("t", store, batch)
    ev = event(0)
    with processing(ev):
        assert table.pop("gone", None) == {"v": 1}
        assert "gone" not in table
        assert table.get("gone") is None
        with pytest.raises(KeyError):
            table["gone"]
        table["tmp"] = {"v": 2}
        del table["tmp"]  # added and removed within the batch: never stored
    await batch.add(ev, "in", [], [])
    await batch.flush()
    assert "gone" not in store and "tmp" not in store
    assert rec.acked == [0]


async def test_acks_wait_for_outputs_then_changelog_writes_and_come_in_processing_order() -> None:
    producer, rec = Producer(auto=False), Recorder()
    batch = make_batch(producer, rec, state_topics=frozenset({RESIDENT}))
    store = Store(batch, resolve=False)
    table = CachedTable("t", store, batch)
    for offset in (5, 6, 7):
        ev = event(offset)
        with processing(ev):
            table["k"] = offset
        await batch.add(ev, "in", [out(RESIDENT, "k", f"v{offset}"), out(FACTS, "k", "f")], [])
    flushing = asyncio.ensure_future(batch.flush())
    await asyncio.sleep(0.01)
    facts = (FACTS, b"k", b"f")
    assert producer.sent == [facts, facts, (RESIDENT, b"k", b"v7"), facts]
    assert store.writes == []  # state is written only after the outputs are delivered
    for future in producer.futures:
        future.set_result(None)
    await asyncio.sleep(0.01)
    assert store.writes == [("k", 7, 0)]
    assert rec.acked == []  # the changelog write is not delivered yet
    store.futures[0].set_result(None)
    await flushing
    assert rec.acked == [5, 6, 7]
    assert batch.coalesced_away == 2


async def test_a_failed_delivery_stops_the_worker_and_acks_nothing() -> None:
    producer, rec = Producer(auto=False), Recorder()
    batch = make_batch(producer, rec)
    store = Store(batch)
    table = CachedTable("t", store, batch)
    ev = event(0)
    with processing(ev):
        table["k"] = 1
    await batch.add(ev, "in", [out(RESIDENT, "k", "v")], [])
    flushing = asyncio.ensure_future(batch.flush())
    await asyncio.sleep(0.01)
    producer.futures[0].set_exception(RuntimeError("broker gone"))
    await flushing
    assert rec.acked == [] and store.writes == []
    assert [str(e) for e in rec.failed] == ["broker gone"]
    assert not await batch.admitted()  # the agents stop consuming


async def test_a_dlq_delivery_is_awaited_before_the_ack() -> None:
    producer, rec = Producer(), Recorder()
    batch = make_batch(producer, rec)
    dlq: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    await batch.add(event(0), "in", [], [dlq])
    flushing = asyncio.ensure_future(batch.flush())
    await asyncio.sleep(0.01)
    assert rec.acked == []
    dlq.set_result(None)
    await flushing
    assert rec.acked == [0]


async def test_a_full_batch_is_flushed_while_the_next_one_fills_one_batch_in_flight() -> None:
    producer, rec = Producer(auto=False), Recorder()
    batch = make_batch(producer, rec, limits=BatchLimits(max_records=2, max_ms=10_000))
    store = Store(batch)
    table = CachedTable("t", store, batch)
    for offset in (0, 1):
        ev = event(offset)
        with processing(ev):
            table["k"] = offset
        await batch.add(ev, "in", [out(FACTS, "k", str(offset))], [])
    await asyncio.sleep(0.01)  # batch 1 is in flight: its outputs are not delivered yet
    assert len(producer.sent) == 2 and rec.acked == [] and store.writes == []
    ev = event(2)
    with processing(ev):
        assert table["k"] == 1  # the next batch reads the flushing batch's change
        table["k"] = 2
    await batch.add(ev, "in", [out(FACTS, "k", "2")], [])
    third = asyncio.ensure_future(batch.add(event(3), "in", [], []))
    await asyncio.sleep(0.01)
    assert not third.done()  # batch 2 is full: it waits for batch 1
    assert len(producer.sent) == 2  # nothing of batch 2 is sent before batch 1 is done
    producer.futures[0].set_result(None)
    producer.futures[1].set_result(None)
    await third
    await asyncio.sleep(0.01)
    assert rec.acked == [0, 1] and store.writes == [("k", 1, 0)]
    producer.futures[2].set_result(None)
    await batch.flush()
    assert rec.acked == [0, 1, 2, 3] and store.writes == [("k", 1, 0), ("k", 2, 0)]


async def test_an_urgent_record_ends_the_batch_at_once() -> None:
    producer, rec = Producer(), Recorder()
    batch = make_batch(producer, rec, urgent_topics=frozenset({"alerts"}))
    await batch.add(event(0), "in", [], [])
    await batch.add(event(1, topic="alerts"), "alerts", [], [])
    await asyncio.sleep(0)  # the flush runs as its own task
    assert rec.acked == [0, 1]


async def test_an_idle_input_flushes_after_a_loop_turn_and_a_busy_one_keeps_batching() -> None:
    producer, rec = Producer(), Recorder()
    batch = make_batch(producer, rec)
    for offset in range(5):  # a busy stream: one record per loop turn, as faust yields
        await batch.add(event(offset), "in", [], [])
        await asyncio.sleep(0)
    assert rec.acked == []
    for _ in range(5):
        await asyncio.sleep(0)
    assert rec.acked == [0, 1, 2, 3, 4] and batch.flushes == 1


async def test_the_interval_flushes_a_batch_that_never_goes_idle() -> None:
    producer, rec = Producer(), Recorder()
    batch = make_batch(producer, rec, limits=BatchLimits(max_records=10_000, max_ms=30))
    offset = 0
    while not rec.acked:  # a record every turn: never idle
        await batch.add(event(offset), "in", [], [])
        offset += 1
        await asyncio.sleep(0.001)
    assert batch.flushes == 1 and rec.acked == list(range(len(rec.acked)))


class StaleMetadataStore(Store):
    """A faust table whose first writes fail faust's partition-count check, as they do while
    the consumer's metadata snapshot still holds an older count of a changelog just created."""

    def __init__(self, batch: CommitBatch, mismatches: int):
        super().__init__(batch)
        self.mismatches = mismatches

    def __setitem__(self, key: str, value: Any) -> None:
        if self.mismatches:
            self.mismatches -= 1
            raise PartitionsMismatch("source 6 partitions, changelog 1")
        super().__setitem__(key, value)


async def test_a_table_write_waits_for_metadata_instead_of_failing_the_records() -> None:
    producer, rec = Producer(), Recorder()
    refreshed: list[int] = []

    async def refresh() -> None:
        refreshed.append(1)

    batch = make_batch(producer, rec, refresh_metadata=refresh)
    store = StaleMetadataStore(batch, mismatches=2)
    table = CachedTable("t", store, batch)
    ev = event(0)
    with processing(ev):
        table["k"] = 1
    await batch.add(ev, "in", [out(FACTS, "k", "f")], [])
    await batch.flush()
    assert store == {"k": 1} and rec.acked == [0] and rec.failed == []
    assert len(refreshed) == 2


async def test_a_partition_mismatch_that_stays_stops_the_worker_and_acks_nothing() -> None:
    producer, rec = Producer(), Recorder()
    batch = make_batch(producer, rec, metadata_wait_s=0.6)
    store = StaleMetadataStore(batch, mismatches=1_000)
    table = CachedTable("t", store, batch)
    ev = event(0)
    with processing(ev):
        table["k"] = 1
    await batch.add(ev, "in", [], [])
    await batch.flush()
    assert rec.acked == [] and isinstance(rec.failed[0], PartitionsMismatch)


async def test_the_delivered_records_are_reported_after_coalescing() -> None:
    producer, rec = Producer(), Recorder()
    told: list[tuple[int, list[Any]]] = []
    batch = make_batch(
        producer,
        rec,
        state_topics=frozenset({RESIDENT}),
        on_sent=lambda outputs, sent: told.append((len(outputs), list(sent))),
    )
    outputs = [out(RESIDENT, "k", "v1"), out(FACTS, "k", "f"), out(RESIDENT, "k", "v2")]
    await batch.add(event(0), "in", outputs, [])
    await batch.flush()
    [(count, sent)] = told
    assert count == 3
    assert sent == [outputs[1], outputs[2]] and sent[1] is outputs[2]  # the same records


async def test_local_keys_lists_a_partitions_keys_with_the_pending_changes() -> None:
    from aiokafka.partitioner import DefaultPartitioner

    from renkei.runtime.batch import key_partition

    keys = [f"{n:015d}" for n in range(200)]
    partitioner = DefaultPartitioner()
    for key in keys:  # where a record keyed by it goes, with Kafka's default partitioner
        assert key_partition(key, 6) == partitioner(key.encode(), list(range(6)), [])
    producer, rec = Producer(), Recorder()
    batch = make_batch(producer, rec)
    store = Store(batch)
    store.partitions = 6  # type: ignore[attr-defined]
    store.update({key: {"v": 1} for key in keys[:150]})
    table = CachedTable("t", store, batch)
    mine = [key for key in keys if key_partition(key, 6) == 2]
    gone, new = mine[0], next(k for k in keys[150:] if key_partition(k, 6) == 2)
    ev = event(0, partition=2)
    with processing(ev):
        del table[gone]
        table[new] = {"v": 2}
        listed = table.local_keys(2)
    assert listed == sorted({k for k in mine if k in keys[:150] and k != gone} | {new})
