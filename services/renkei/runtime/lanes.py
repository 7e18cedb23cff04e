"""Lanes: a stage's bulk inputs (``<topic>.bulk``) wait while any live input has lag.

A partition is first in, first out, so a bulk load (an initial snapshot, a yearly batch, a
replay) is published to the bulk twin of its topic and consumed by the same stage as another
input. This module gives the live inputs priority (docs/design/streaming-core.md, "Lanes"):

- **lag** of a partition is its end offset (the high watermark of the last fetch) minus the
  next offset the stage has still to *process* (not commit): records fetched into faust's
  buffers but not processed count as lag; before the worker processed a record of the
  partition, from the group's committed offset on (0 when it has none);
- **pause**: while any live partition the worker owns has lag, the bulk *gate* closes: a bulk
  record already fetched waits before it is processed, so a live record never waits behind
  the bulk records of faust's buffers, only behind the batch in flight (one bulk record
  passes the closed gate when faust reports its partition's buffer full: faust's conductor
  hands records to the agents one at a time, and a full bulk buffer would hold the live ones
  back); with ``pause_fetch`` the bulk partitions are also paused in faust's consumer
  (``Consumer.pause_partitions``) — off by default: on faust 0.15 a partition paused and
  resumed there while its records were buffered was never delivered again (measured on the
  broker; docs/design/streaming-core.md, "Lanes");
- **resume** once the live lag is zero: the gate opens (and what was paused in faust is
  resumed).

Rebalances: faust pauses every partition when a rebalance starts and resumes every stream
partition once recovery is done, whatever paused them before — so the controller forgets the
revoked partitions, never resumes during a rebalance or recovery, pauses the assigned bulk
partitions again on every check while it wants the lane paused (faust's pause is idempotent),
and on the first check without live lag resumes every bulk partition it paused that is still
assigned. The gate opens while a rebalance runs: faust waits for the records its agents hold
to be acked before it gives partitions away.

A live partition whose lag stays the same for ``stale_s`` (nothing processed, no new end
offset) counts as caught up: the offsets a transactional producer's commit markers take are
never delivered as records, and must not hold the bulk lane forever.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

STALE_S = 5.0
"""A live partition's unchanged lag is taken for commit markers after this many seconds."""


class LaneMetrics(Protocol):
    def set_lanes(self, *, live_lag: int, bulk_lag: int, bulk_paused: bool) -> None: ...

    def add_bulk_paused_seconds(self, seconds: float) -> None: ...


def partition_lag(highwater: int | None, next_offset: int | None) -> int:
    """Records of a partition not processed yet: 0 while either offset is unknown (a
    partition not fetched yet, or none of its records processed yet)."""
    if highwater is None or next_offset is None:
        return 0
    return max(int(highwater) - int(next_offset), 0)


@dataclass
class LaneLag:
    """The live and bulk lag of one check, and the live partitions that have lag."""

    live: int = 0
    bulk: int = 0
    lagging: list[Any] = field(default_factory=list)


@dataclass
class _Seen:
    highwater: int | None
    next_offset: int | None
    since: float


class LaneController:
    """Pauses and resumes the bulk lane of one stage worker (see the module docstring).

    ``consumer`` gives faust's consumer (``assignment``, ``highwater``, ``pause_partitions``,
    ``resume_partitions``); ``busy`` says whether a rebalance or table recovery runs (the
    controller then neither resumes nor holds the gate closed)."""

    def __init__(
        self,
        bulk_topics: Iterable[str],
        *,
        consumer: Callable[[], Any],
        busy: Callable[[], bool],
        metrics: LaneMetrics | None = None,
        check_s: float = 0.05,
        stale_s: float = STALE_S,
        clock: Callable[[], float] = time.monotonic,
        pause_fetch: bool = False,
        internal_topics: Iterable[str] = (),
        internal_slack: int = 0,
    ):
        self.bulk_topics = frozenset(bulk_topics)
        self.internal_topics = frozenset(internal_topics)
        self.internal_slack = internal_slack
        """Records a partition of an internal topic may hold before it counts as lag: the
        household loop of the bulk records themselves runs on those topics, so without slack
        every bulk batch would stop the lane until its own loop is through."""
        self.pause_fetch = pause_fetch
        """Also pause the bulk partitions in faust's consumer (off: on faust 0.15 a bulk
        partition paused and resumed there while records of it were buffered was never
        fetched again — measured on the broker, see docs/design/streaming-core.md)."""
        self._consumer = consumer
        self._busy = busy
        self._metrics = metrics
        self.check_s = check_s
        self.stale_s = stale_s
        self._clock = clock
        self._next: dict[Any, int] = {}
        self._seen: dict[Any, _Seen] = {}
        self._paused_tps: set[Any] = set()
        self._gate: asyncio.Event | None = None
        self.paused = False
        self._paused_at: float | None = None
        self.paused_seconds = 0.0
        self.pauses = 0

    @property
    def active(self) -> bool:
        """Whether the stage has a bulk lane at all."""
        return bool(self.bulk_topics)

    def is_bulk(self, tp: Any) -> bool:
        return tp.topic in self.bulk_topics

    def processed(self, tp: Any, offset: int) -> None:
        """A record of ``tp`` at ``offset`` was processed (its agent calls this)."""
        self._next[tp] = offset + 1

    def gate(self) -> asyncio.Event:
        if self._gate is None:
            self._gate = asyncio.Event()
            self._gate.set()
        return self._gate

    async def bulk_turn(self, tp: Any = None) -> None:
        """Return when a bulk record of ``tp`` may be processed: at once unless the lane is
        paused; else once it is resumed, a rebalance starts, or faust says the partition's
        buffer is full (``Consumer._buffered_partitions``) — its conductor then waits to hand
        it a record, and every other input's records wait behind that one (so one bulk record
        goes, not the whole lane)."""
        gate = self.gate()
        while not gate.is_set() and not self._busy():
            if tp is not None and tp in _buffer_full(self._consumer()):
                return
            try:
                await asyncio.wait_for(gate.wait(), self.check_s)
            except TimeoutError:
                continue

    def lag(self, assignment: Iterable[Any]) -> LaneLag:
        """Live and bulk lag of the worker's ``assignment`` now."""
        consumer = self._consumer()
        now = self._clock()
        lag = LaneLag()
        for tp in assignment:
            if tp.topic in self.bulk_topics:
                lag.bulk += partition_lag(_highwater(consumer, tp), self._next.get(tp))
                continue
            highwater, next_offset = _highwater(consumer, tp), self._next.get(tp)
            if next_offset is None:  # nothing processed yet: from the committed offset on
                next_offset = _committed(consumer, tp) if highwater else None
            behind = partition_lag(highwater, next_offset)
            if tp.topic in self.internal_topics:
                behind = max(behind - self.internal_slack, 0)
            seen = self._seen.get(tp)
            if seen is None or (seen.highwater, seen.next_offset) != (highwater, next_offset):
                self._seen[tp] = _Seen(highwater, next_offset, now)
            elif behind and now - seen.since >= self.stale_s:
                behind = 0  # no progress and no new records: commit markers, not records
            if behind:
                lag.live += behind
                lag.lagging.append(tp)
        return lag

    def check(self) -> LaneLag | None:
        """One check: pause or resume the bulk lane. None while a rebalance or recovery runs
        (nothing is changed then)."""
        if not self.active or self._busy():
            return None
        consumer = self._consumer()
        try:
            assignment = set(consumer.assignment())
        except Exception as exc:  # consumer not started yet
            log.debug("lanes: no assignment yet: %r", exc)
            return None
        lag = self.lag(assignment)
        bulk_tps = {tp for tp in assignment if tp.topic in self.bulk_topics}
        if lag.live > 0:
            if bulk_tps and self.pause_fetch:  # again on every check: a rebalance resumes all
                consumer.pause_partitions(bulk_tps)
                self._paused_tps |= bulk_tps
            if not self.paused:
                self._set_paused(True)
        elif self.paused:
            resume = self._paused_tps & assignment
            if resume and self.pause_fetch:
                consumer.resume_partitions(resume)
            self._paused_tps.clear()
            self._set_paused(False)
        self._account()
        if self._metrics is not None:
            self._metrics.set_lanes(live_lag=lag.live, bulk_lag=lag.bulk, bulk_paused=self.paused)
        return lag

    def on_revoked(self, revoked: Iterable[Any]) -> None:
        """Partitions were revoked: forget them. The lane keeps its state: faust may resume
        every partition once the rebalance is done, or leave a still-assigned one paused, so
        the next check pauses again (lag) or resumes what it had paused (no lag) either way."""
        gone = set(revoked)
        for tp in gone:
            self._next.pop(tp, None)
            self._seen.pop(tp, None)
        self._paused_tps -= gone
        self._account()

    def _set_paused(self, paused: bool) -> None:
        self._account()
        self.paused = paused
        gate = self.gate()
        if paused:
            self.pauses += 1
            self._paused_at = self._clock()
            gate.clear()
        else:
            self._paused_at = None
            gate.set()

    def _account(self) -> None:
        """Add the time paused since the last account to the paused seconds."""
        if self._paused_at is None:
            return
        now = self._clock()
        seconds, self._paused_at = now - self._paused_at, now
        self.paused_seconds += seconds
        if self._metrics is not None:
            self._metrics.add_bulk_paused_seconds(seconds)

    async def run(self) -> None:
        """Check every ``check_s`` until cancelled."""
        while True:
            try:
                self.check()
            except Exception as exc:  # a check must never stop the worker
                log.warning("lanes: check failed: %r", exc)
            await asyncio.sleep(self.check_s)


def _buffer_full(consumer: Any) -> Any:
    """The partitions whose stream buffer faust found full (it stops fetching them)."""
    return getattr(consumer, "_buffered_partitions", None) or ()


def _committed(consumer: Any, tp: Any) -> int:
    """faust's committed offset of ``tp`` (0 when the group never committed one: a new topic
    starts at 0; an older one with no commit is caught by the stale rule)."""
    committed = getattr(consumer, "_committed_offset", None) or {}
    offset = committed.get(tp)
    return int(offset) if offset is not None else 0


def _highwater(consumer: Any, tp: Any) -> int | None:
    try:
        value = consumer.highwater(tp)
    except Exception:  # not fetched yet / consumer restarting
        return None
    return None if value is None else int(value)
