"""The bulk-lane policy (runtime/lanes.py) against a fake faust consumer: pause while a live
partition has lag, resume at zero, re-pause after faust's rebalance resumed everything, never
resume during a rebalance, count the paused time."""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple

import pytest

from renkei.runtime.lanes import LaneController, partition_lag


class TP(NamedTuple):
    topic: str
    partition: int


LIVE0, LIVE1 = TP("std.registry.resident.events", 0), TP("std.registry.resident.events", 1)
BULK0, BULK1 = (
    TP("std.registry.resident.events.bulk", 0),
    TP("std.registry.resident.events.bulk", 1),
)
INTERNAL = TP("renkei-resident-household-members", 0)


class FakeConsumer:
    """faust's consumer as the controller uses it: assignment, fetched end offsets, and the
    set of partitions faust would not fetch (paused)."""

    def __init__(self, assignment: set[TP]):
        self.assigned = set(assignment)
        self.highwaters: dict[TP, int] = {}
        self.paused: set[TP] = set()
        self._committed_offset: dict[TP, int] = {}
        self._buffered_partitions: set[TP] = set()

    def assignment(self) -> set[TP]:
        return set(self.assigned)

    def highwater(self, tp: TP) -> int | None:
        return self.highwaters.get(tp)

    def pause_partitions(self, tps: Any) -> None:
        self.paused |= set(tps)

    def resume_partitions(self, tps: Any) -> None:
        self.paused -= set(tps)


class Metrics:
    def __init__(self) -> None:
        self.lanes: dict[str, Any] = {}
        self.paused_seconds = 0.0

    def set_lanes(self, *, live_lag: int, bulk_lag: int, bulk_paused: bool) -> None:
        self.lanes = {"live": live_lag, "bulk": bulk_lag, "paused": bulk_paused}

    def add_bulk_paused_seconds(self, seconds: float) -> None:
        self.paused_seconds += seconds


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def controller(
    consumer: FakeConsumer, busy: list[bool] | None = None, clock: Clock | None = None
) -> tuple[LaneController, Metrics]:
    metrics = Metrics()
    state = busy if busy is not None else [False]
    lanes = LaneController(
        {BULK0.topic},
        consumer=lambda: consumer,
        busy=lambda: state[0],
        metrics=metrics,
        clock=clock or Clock(),
        pause_fetch=True,
    )
    return lanes, metrics


def test_partition_lag_is_zero_until_both_offsets_are_known() -> None:
    assert partition_lag(None, 5) == 0
    assert partition_lag(10, None) == 0
    assert partition_lag(10, 4) == 6
    assert partition_lag(10, 12) == 0


def test_bulk_is_paused_while_a_live_partition_has_lag_and_resumed_at_zero() -> None:
    consumer = FakeConsumer({LIVE0, LIVE1, BULK0, BULK1})
    lanes, metrics = controller(consumer)
    consumer.highwaters = {LIVE0: 10, LIVE1: 3, BULK0: 50_000, BULK1: 40_000}
    lanes.processed(LIVE0, 9)
    lanes.processed(LIVE1, 2)
    lanes.processed(BULK0, 99)
    lanes.processed(BULK1, 99)
    lag = lanes.check()
    assert lag is not None and lag.live == 0
    assert not lanes.paused and consumer.paused == set()
    assert metrics.lanes == {"live": 0, "bulk": 49_900 + 39_900, "paused": False}

    consumer.highwaters[LIVE1] = 5  # two live records arrive on partition 1
    lag = lanes.check()
    assert lag is not None and lag.live == 2 and lag.lagging == [LIVE1]
    assert lanes.paused and consumer.paused == {BULK0, BULK1}
    assert not lanes.gate().is_set()
    assert metrics.lanes["paused"] is True

    lanes.processed(LIVE1, 3)
    lanes.check()
    assert lanes.paused, "one live record still to process"
    lanes.processed(LIVE1, 4)
    lanes.check()
    assert not lanes.paused and consumer.paused == set()
    assert lanes.gate().is_set()
    assert lanes.pauses == 1


def test_internal_topics_count_as_live() -> None:
    """The household loop's messages are part of a live change: the bulk lane waits for them."""
    consumer = FakeConsumer({INTERNAL, BULK0})
    lanes, _ = controller(consumer)
    consumer.highwaters = {INTERNAL: 3}
    lanes.processed(INTERNAL, 0)
    lanes.check()
    assert lanes.paused and consumer.paused == {BULK0}


def test_a_rebalance_resumes_everything_and_the_next_check_pauses_again() -> None:
    consumer = FakeConsumer({LIVE0, BULK0})
    busy = [False]
    lanes, _ = controller(consumer, busy)
    consumer.highwaters = {LIVE0: 10}
    lanes.processed(LIVE0, 4)
    lanes.check()
    assert consumer.paused == {BULK0}

    # faust: rebalance starts, partition 1 comes along; recovery resumes every stream partition
    busy[0] = True
    lanes.on_revoked(set())
    consumer.assigned |= {LIVE1, BULK1}
    consumer.paused.clear()
    assert lanes.check() is None, "no decision while a rebalance or recovery runs"
    assert consumer.paused == set()

    busy[0] = False
    lanes.check()
    assert lanes.paused and consumer.paused == {BULK0, BULK1}


def test_a_rebalance_that_leaves_a_partition_paused_is_resumed_by_the_lanes() -> None:
    """faust sends on_partitions_revoked without resuming what stays assigned: the lanes
    still resume what they paused once the live lag is zero."""
    consumer = FakeConsumer({LIVE0, BULK0})
    lanes, _ = controller(consumer)
    consumer.highwaters = {LIVE0: 10}
    lanes.processed(LIVE0, 4)
    lanes.check()
    assert consumer.paused == {BULK0}
    lanes.on_revoked(set())  # nothing revoked, nothing resumed by faust
    lanes.processed(LIVE0, 9)
    lanes.check()
    assert not lanes.paused and consumer.paused == set() and lanes.gate().is_set()


def test_never_resumes_what_it_did_not_pause() -> None:
    """faust pauses partitions itself (a full buffer, recovery): a resume touches only the
    bulk partitions the lanes paused, and only those still assigned."""
    consumer = FakeConsumer({LIVE0, BULK0, BULK1})
    lanes, _ = controller(consumer)
    consumer.highwaters = {LIVE0: 2}
    lanes.processed(LIVE0, 0)
    lanes.check()
    assert consumer.paused == {BULK0, BULK1}
    consumer.paused.add(LIVE0)  # faust's own pause (e.g. a full stream buffer)
    consumer.assigned.discard(BULK1)
    lanes.processed(LIVE0, 1)
    lanes.check()
    assert consumer.paused == {LIVE0, BULK1}


def test_revoked_partitions_are_forgotten() -> None:
    consumer = FakeConsumer({LIVE0, BULK0})
    lanes, _ = controller(consumer)
    consumer.highwaters = {LIVE0: 5}
    lanes.processed(LIVE0, 4)
    lanes.on_revoked({LIVE0})
    consumer.assigned = {BULK0}
    lag = lanes.check()
    assert lag is not None and lag.live == 0
    # assigned again later: until a record is processed, lag counts from the committed offset
    consumer.assigned = {LIVE0, BULK0}
    consumer._committed_offset[LIVE0] = 5
    lag = lanes.check()
    assert lag is not None and lag.live == 0


def test_a_live_partition_nothing_was_processed_of_counts_from_its_committed_offset() -> None:
    """A new internal topic fills while the worker is busy with bulk records: its records
    count before the first of them is processed (no commit yet: from offset 0)."""
    consumer = FakeConsumer({INTERNAL, LIVE0, BULK0})
    lanes, _ = controller(consumer)
    consumer.highwaters = {INTERNAL: 40, LIVE0: 7}
    consumer._committed_offset[LIVE0] = 7
    lag = lanes.check()
    assert lag is not None and lag.live == 40 and lag.lagging == [INTERNAL]
    assert lanes.paused


async def test_a_full_bulk_buffer_lets_one_record_through_the_closed_gate() -> None:
    consumer = FakeConsumer({LIVE0, BULK0})
    lanes, _ = controller(consumer)
    lanes.check_s = 0.01
    consumer.highwaters = {LIVE0: 2}
    lanes.processed(LIVE0, 0)
    lanes.check()
    waiting = asyncio.ensure_future(lanes.bulk_turn(BULK0))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    consumer._buffered_partitions = {BULK0}  # faust: the stream buffer of BULK0 is full
    await asyncio.wait_for(waiting, 1)
    assert lanes.paused  # the lane stays paused: only that record went


def test_a_stuck_live_lag_counts_as_caught_up_after_stale_s() -> None:
    """Offsets taken by a transactional producer's commit markers never arrive as records."""
    consumer = FakeConsumer({LIVE0, BULK0})
    clock = Clock()
    lanes, _ = controller(consumer, clock=clock)
    consumer.highwaters = {LIVE0: 11}
    lanes.processed(LIVE0, 9)  # offset 10 is a commit marker
    lanes.check()
    assert lanes.paused
    clock.now += lanes.stale_s - 0.1
    lanes.check()
    assert lanes.paused
    clock.now += 0.2
    lanes.check()
    assert not lanes.paused
    consumer.highwaters[LIVE0] = 13  # a real record arrives: lag counts again
    lanes.check()
    assert lanes.paused


def test_paused_seconds_are_counted() -> None:
    consumer = FakeConsumer({LIVE0, BULK0})
    clock = Clock()
    lanes, metrics = controller(consumer, clock=clock)
    consumer.highwaters = {LIVE0: 3}
    lanes.processed(LIVE0, 0)
    lanes.check()
    clock.now += 1.5
    lanes.check()
    clock.now += 1.0
    lanes.processed(LIVE0, 2)
    lanes.check()
    clock.now += 10
    lanes.check()
    assert lanes.paused_seconds == pytest.approx(2.5)
    assert metrics.paused_seconds == pytest.approx(2.5)


def test_a_stage_without_bulk_inputs_never_pauses() -> None:
    consumer = FakeConsumer({LIVE0})
    lanes = LaneController((), consumer=lambda: consumer, busy=lambda: False)
    consumer.highwaters = {LIVE0: 9}
    lanes.processed(LIVE0, 0)
    assert not lanes.active and lanes.check() is None


async def test_bulk_turn_waits_for_the_resume_or_a_rebalance() -> None:
    consumer = FakeConsumer({LIVE0, BULK0})
    busy = [False]
    lanes, _ = controller(consumer, busy)
    lanes.check_s = 0.01
    await asyncio.wait_for(lanes.bulk_turn(), 1)  # open: returns at once
    consumer.highwaters = {LIVE0: 2}
    lanes.processed(LIVE0, 0)
    lanes.check()
    waiting = asyncio.ensure_future(lanes.bulk_turn())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    lanes.processed(LIVE0, 1)
    lanes.check()
    await asyncio.wait_for(waiting, 1)

    lanes.processed(LIVE0, 0)  # lag again
    consumer.highwaters[LIVE0] = 5
    lanes.check()
    waiting = asyncio.ensure_future(lanes.bulk_turn())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    busy[0] = True  # a rebalance starts: faust waits for held records to be acked
    await asyncio.wait_for(waiting, 1)


def test_an_internal_topic_counts_as_lag_beyond_its_slack() -> None:
    """The household loop of the bulk records runs on the internal topics: up to one batch
    of it per partition does not stop the bulk lane; more does."""
    consumer = FakeConsumer({INTERNAL, BULK0})
    lanes = LaneController(
        {BULK0.topic},
        consumer=lambda: consumer,
        busy=lambda: False,
        internal_topics={INTERNAL.topic},
        internal_slack=500,
    )
    consumer.highwaters = {INTERNAL: 400}
    lanes.processed(INTERNAL, 0)
    lanes.check()
    assert not lanes.paused
    consumer.highwaters[INTERNAL] = 700
    lag = lanes.check()
    assert lanes.paused and lag is not None and lag.live == 199
