"""Commit-interval processing: a batch of consumed records, table changes in a write-back cache,
outputs coalesced where they are state-valued, delivery awaited, then the batch acked.

Kafka Streams' record caches (KIP-63) are the model. Every record is processed as it comes, in
offset order per partition, inside faust's per-event context (its step reads the tables and
the partition is the record's). What the step changes and sends is held by the open
:class:`CommitBatch` instead of being written and sent at once:

- table writes go to a write-back cache keyed by (table, partition, key): later records of the
  batch read the cached value; each changed key is written once, to the store and its
  changelog, when the batch is flushed;
- encoded outputs are buffered; a topic declared *state-valued* keeps only the latest record
  per key of the batch (``unified.resident``, ``unified.region``: a later record carries the
  whole state); event-valued topics (facts, internal messages, lists whose release is audited,
  DLQ records) keep every record.

A batch is flushed when it holds ``max_records`` records, when its first record is
``max_ms`` old, when the input goes idle (no record processed for a turn of the event loop: a
quiet stream is not delayed), when a record of an *urgent* topic was processed (a lane that
must not wait, e.g. alerts), or before partitions are revoked. Flushing:

1. send the (coalesced) outputs and wait until the broker acknowledged every one;
2. write the cached table changes (store + changelog) and wait for the changelog writes;
3. ack the batch's records in the order they were processed (offset order per partition).

While a batch is flushed (its deliveries awaited), the next one is already processed: its
records read the flushing batch's changes until they are in the table. One batch is in flight
at a time — a full next batch waits for it — so the next batch's outputs are sent, its state
written and its records acked only after the previous batch's, and acks stay in offset order.

A crash before 2 leaves the state as it was before the batch: the redelivered batch computes
the same outputs again (duplicates, absorbed downstream by key and revision). A crash between 2
and 3 leaves the new state with its outputs already delivered: the redelivered records find
their effect applied (idempotent by revision).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

from aiokafka.partitioner import murmur2
from faust.exceptions import PartitionsMismatch
from faust.streams import _current_event, current_event
from faust.types import EventT

from renkei.runtime.stage import Encoded

log = logging.getLogger(__name__)

Send = Callable[[str, bytes | None, bytes | None, int | None, Any], Awaitable[Any]]
Fail = Callable[[BaseException], Awaitable[None]]
Ack = Callable[[EventT[Any]], None]

_DELETED = object()


@dataclass(frozen=True)
class BatchLimits:
    """When a batch is flushed at the latest: ``max_records`` records, or ``max_ms`` after its
    first record (settings ``stage_batch_max_records`` / ``stage_batch_max_ms``)."""

    max_records: int = 500
    max_ms: float = 200.0


class _Write:
    __slots__ = ("event", "table", "value")

    def __init__(self, table: MutableMapping[str, Any], event: EventT[Any] | None, value: Any):
        self.table = table
        self.event = event
        self.value = value


def key_partition(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a record keyed ``key`` (murmur2)."""
    return (int(murmur2(key.encode("utf-8"))) & 0x7FFFFFFF) % partitions


def _partition_of(event: EventT[Any] | None) -> int:
    return -1 if event is None else int(event.message.partition)


class CachedTable(MutableMapping[str, Any]):
    """A faust table seen through the open batch's write-back cache.

    Values are kept as the step gave them (no copy): steps treat table values as immutable
    and write a new value for a change, as they did when every read decoded a fresh copy."""

    def __init__(self, name: str, table: MutableMapping[str, Any], batch: CommitBatch):
        self.name = name
        self.table = table
        self._batch = batch

    def __getitem__(self, key: str) -> Any:
        write = self._batch.cached((self.name, _partition_of(current_event()), key))
        if write is None:
            return self.table[key]
        if write.value is _DELETED:
            raise KeyError(key)
        return write.value

    def get(self, key: str, default: Any = None) -> Any:
        write = self._batch.cached((self.name, _partition_of(current_event()), key))
        if write is None:
            return self.table.get(key, default)
        return default if write.value is _DELETED else write.value

    def __contains__(self, key: object) -> bool:
        return self.get(str(key), _DELETED) is not _DELETED

    def __setitem__(self, key: str, value: Any) -> None:
        event = current_event()
        self._batch.writes[(self.name, _partition_of(event), key)] = _Write(
            self.table, event, value
        )

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        event = current_event()
        self._batch.writes[(self.name, _partition_of(event), key)] = _Write(
            self.table, event, _DELETED
        )

    def __iter__(self) -> Iterator[str]:
        raise TypeError("a stage table cannot be iterated (its partitions live on many workers)")

    def local_keys(self, partition: int) -> list[str]:
        """The keys of ``partition`` as this worker holds them (its local store, with the
        pending batches' changes), sorted: a scan of one partition for a change that concerns
        every key (a municipal reorganisation, ``stages/resident/reorganisation.py``). Call it
        while processing a record of a co-partitioned topic's ``partition`` (the worker owns
        the table's partition then). Keys are placed as Kafka's default partitioner places a
        resident-keyed record (murmur2 of the key), which is where the stage writes them."""
        count = int(getattr(self.table, "partitions", 0) or 0)
        held = {
            str(key)
            for key in self.table
            if count <= 0 or key_partition(str(key), count) == partition
        }
        for key, deleted in self._batch.pending_keys(self.name, partition).items():
            if deleted:
                held.discard(key)
            else:
                held.add(key)
        return sorted(held)

    def __len__(self) -> int:
        return len(self.table)


def coalesce(outputs: list[Encoded], state_topics: frozenset[str]) -> list[Encoded]:
    """``outputs`` with only the last record per key of each state-valued topic, each kept at
    the place of its last occurrence; every record of other topics is kept, in order."""
    if not state_topics:
        return outputs
    seen: set[tuple[str, bytes | None]] = set()
    kept: list[Encoded] = []
    for output in reversed(outputs):
        topic, key = output[0], output[1]
        if topic in state_topics:
            if (topic, key) in seen:
                continue
            seen.add((topic, key))
        kept.append(output)
    kept.reverse()
    return kept


class CommitBatch:
    """The open batch of one stage App (shared by its agents, so every agent reads the same
    cache); see the module docstring."""

    def __init__(
        self,
        *,
        send: Send,
        ack: Ack,
        fail: Fail,
        limits: BatchLimits = BatchLimits(),
        state_topics: frozenset[str] = frozenset(),
        urgent_topics: frozenset[str] = frozenset(),
        await_changelog: bool = True,
        refresh_metadata: Callable[[], Awaitable[None]] | None = None,
        metadata_wait_s: float = 60.0,
        on_sent: Callable[[list[Encoded], list[Encoded]], None] | None = None,
    ):
        self._send = send
        self._ack = ack
        self._fail = fail
        self.limits = limits
        self.state_topics = state_topics
        self.urgent_topics = urgent_topics
        self.await_changelog = await_changelog
        self._refresh_metadata = refresh_metadata
        self.metadata_wait_s = metadata_wait_s
        self._on_sent = on_sent
        """Told (batch outputs, those sent after coalescing) as they are handed to the producer
        (which stamps them): the output metrics count what goes to the topics, not what
        coalescing dropped, and time it as Kafka does."""
        self.writes: dict[tuple[str, int, str], _Write] = {}
        """Table changes of the open batch."""
        self._sealed: dict[tuple[str, int, str], _Write] = {}
        """Table changes of the batch being flushed (read until they are in the table)."""
        self._events: list[EventT[Any]] = []
        self._outputs: list[Encoded] = []
        self._futures: list[Any] = []
        self._changelog: list[Any] = []
        self._flushing: asyncio.Future[None] | None = None
        self._due = False
        self._timer: asyncio.TimerHandle | None = None
        self._idle_check: int | None = None
        self._added = 0
        self.failed: BaseException | None = None
        self.flushes = 0
        self.flushed_records = 0
        self.coalesced_away = 0

    def __len__(self) -> int:
        return len(self._events)

    def cached(self, slot: tuple[str, int, str]) -> _Write | None:
        """The batch's pending change of a table key (open batch first), None if unchanged."""
        write = self.writes.get(slot)
        if write is None and self._sealed:
            write = self._sealed.get(slot)
        return write

    def pending_keys(self, table: str, partition: int) -> dict[str, bool]:
        """Keys of ``table`` in ``partition`` the open and the flushing batch change → whether
        the change is a deletion (the open batch's change wins)."""
        pending: dict[str, bool] = {}
        for writes in (self.writes, self._sealed):
            for (name, part, key), write in writes.items():
                if name == table and part == partition and key not in pending:
                    pending[key] = write.value is _DELETED
        return pending

    def changelog_written(self, future: Any) -> None:
        """A changelog write of the flush in progress (TrackedTable reports it)."""
        self._changelog.append(future)

    async def admitted(self) -> bool:
        """False once a flush failed (stop consuming)."""
        return self.failed is None

    async def add(
        self, event: EventT[Any], topic: str, encoded: list[Encoded], futures: list[Any]
    ) -> None:
        """Record ``event`` as processed with its outputs (and DLQ delivery ``futures``);
        seal the batch when it is full or ``topic`` is urgent."""
        if not self._events:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.limits.max_ms / 1000, self._flush_due)
        self._events.append(event)
        self._outputs += encoded
        self._futures += futures
        self._added += 1
        if len(self._events) >= self.limits.max_records or topic in self.urgent_topics:
            await self._seal()
        else:
            self._watch_idle()

    def _watch_idle(self) -> None:
        """Flush once a turn of the event loop passes without a new record: faust's stream
        yields once per event, so a buffered input keeps the batch growing."""
        if self._idle_check is not None:
            return
        self._idle_check = self._added
        loop = asyncio.get_running_loop()

        def second_turn() -> None:
            loop.call_soon(check)

        def check() -> None:
            seen, self._idle_check = self._idle_check, None
            if not self._events:
                return
            if seen == self._added:
                self._flush_due()
            else:
                self._watch_idle()

        loop.call_soon(second_turn)

    def _flush_due(self) -> None:
        """The open batch should go now: at once, or when the flush in progress ends."""
        if self._flushing is None:
            self._start_flush()
        else:
            self._due = True

    async def _seal(self) -> None:
        """Wait for the flush in progress (one batch in flight), then start this one's (unless
        it was started meanwhile)."""
        while self._flushing is not None and self._events:
            await asyncio.shield(self._flushing)
        self._start_flush()

    def _start_flush(self) -> None:
        if not self._events or self._flushing is not None or self.failed is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._due = False
        batch = self._events, self._outputs, self._futures
        self._events, self._outputs, self._futures = [], [], []
        self._sealed, self.writes = self.writes, {}
        self._flushing = asyncio.ensure_future(self._flush(*batch))

    async def flush(self) -> None:
        """Flush the open batch now and wait until it is acked."""
        await self._seal()
        while self._flushing is not None:
            await asyncio.shield(self._flushing)

    async def _flush(
        self, events: list[EventT[Any]], outputs: list[Encoded], futures: list[Any]
    ) -> None:
        try:
            sent = coalesce(outputs, self.state_topics)
            self.coalesced_away += len(outputs) - len(sent)
            try:
                for topic, key, value, headers in sent:
                    futures.append(await self._send(topic, key, value, None, headers))
                if self._on_sent is not None:
                    self._on_sent(outputs, sent)
                await _delivered(futures)
                await _delivered(await self._write_tables_once_known())
            except Exception as exc:  # not the records' fault: stop, nothing acked
                self.failed = exc
                await self._fail(exc)
                return
            for event in events:
                self._ack(event)
            self.flushes += 1
            self.flushed_records += len(events)
        finally:
            self._sealed = {}
            self._flushing = None
        if self._due:
            self._start_flush()

    async def _write_tables_once_known(self) -> list[Any]:
        """Write the batch's table changes; wait for metadata faust has not seen yet.

        faust checks, at a table's first write from a source topic, that the topic and the
        table's changelog have as many partitions — from its consumer's metadata snapshot.
        Right after a stage created its changelog the snapshot can still hold an older count
        and the check raises PartitionsMismatch: not a record's fault, and not yet a worker's.
        The write is retried (a change rewritten is the same change) while the metadata is
        refreshed, for ``metadata_wait_s``; a mismatch that stays is real and stops the worker.
        """
        deadline = time.monotonic() + self.metadata_wait_s
        while True:
            try:
                return self._write_tables()
            except PartitionsMismatch as exc:
                if time.monotonic() >= deadline:
                    raise
                log.warning("table write waits for topic metadata: %s", exc)
                if self._refresh_metadata is not None:
                    await self._refresh_metadata()
                await asyncio.sleep(0.5)

    def _write_tables(self) -> list[Any]:
        self._changelog = []
        for (_, _, key), write in self._sealed.items():
            token = _current_event.set(None if write.event is None else weakref.ref(write.event))
            try:
                if write.value is _DELETED:
                    with contextlib.suppress(KeyError):  # added and removed in the batch
                        del write.table[key]
                else:
                    write.table[key] = write.value
            finally:
                _current_event.reset(token)
        return self._changelog if self.await_changelog else []


async def _delivered(futures: list[Any]) -> None:
    """Wait for every delivery; raise the first failure (after all have settled)."""
    if not futures:
        return
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
