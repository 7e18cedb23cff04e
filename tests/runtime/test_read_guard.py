"""A fetch that comes back from beyond the position after a rebalance (runtime/read_guard.py).

faust's own consumer loop (``Consumer._drain_messages``) is driven here with a fetch whose
records lie beyond the offset the worker was just sought back to, as happens when a fetch
issued before a rebalance returns after it (fault suite, scenario b). Without the guard faust
hands those records on, marks the offsets in between as a gap and drops them when they are
fetched again: its next commit covers records no stream ever saw. No broker is needed: the
fetches and the seek are stand-ins, the consumer logic is faust's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.structs import ConsumerRecord
from faust.types import TP

from renkei.runtime import read_guard
from renkei.runtime.app import create_app
from renkei.settings import Settings

TOPIC = "fault-guard.std.registry.resident.events"


def _records(offsets: list[int]) -> list[Any]:
    return [ConsumerRecord(TOPIC, 0, o, 0, 0, b"k", b"v", None, 1, 1, ()) for o in offsets]


class _Stop:
    """A fetcher that stops faust's loop after ``rounds`` fetches."""

    def __init__(self, rounds: int):
        self.left = rounds + 1

    def is_set(self) -> bool:
        self.left -= 1
        return self.left < 0


class _Fetcher:
    def __init__(self, rounds: int):
        self._stopped = _Stop(rounds)


def _drain(fetches: list[list[int]], *, read: int, acking: bool = True) -> dict[str, Any]:
    """Run faust's consumer loop over ``fetches`` (one list of offsets per fetch) after a seek
    to ``read``; what it handed on, the seeks, its gap and the offset it would commit."""

    async def run() -> dict[str, Any]:
        app = create_app(Settings(), "guard-test", web_port=47199, store="memory://")
        consumer = app.consumer
        tp = TP(TOPIC, 0)
        if acking:
            app.topics._acking_topics.add(TOPIC)
        consumer._read_offset[tp] = read  # as perform_seek leaves it after a rebalance
        consumer._committed_offset[tp] = read
        pending = list(fetches)
        seeks: list[int] = []
        handed: list[int] = []

        async def wait_next(timeout: float) -> Any:
            return {tp: _records(pending.pop(0) if pending else [])}, {tp}

        async def seek(partition: TP, offset: int) -> None:
            seeks.append(offset)

        async def callback(message: Any) -> None:
            handed.append(message.offset)

        consumer._wait_next_records = wait_next  # type: ignore[method-assign]
        consumer._seek = seek  # type: ignore[method-assign]
        consumer.highwater = lambda tp: 0  # type: ignore[method-assign]
        consumer.callback = callback
        await consumer._drain_messages(_Fetcher(len(fetches)))
        gap = sorted((i.begin, i.end) for i in consumer._gap[tp])
        for offset in handed:  # every handed record processed and acked
            consumer._acked[tp].append(offset)
            consumer._acked_index[tp].add(offset)
        return {"handed": handed, "seeks": seeks, "gap": gap, "commit": consumer._new_offset(tp)}

    return asyncio.run(run())


def test_records_fetched_from_beyond_the_position_are_read_again_in_order() -> None:
    outcome = _drain([[482, 483, 484, 485], [228, 229, 230]], read=228)
    assert outcome["seeks"] == [228]  # back to where the rebalance left the partition
    assert outcome["handed"] == [228, 229, 230]  # nothing from beyond, nothing dropped
    assert outcome["gap"] == []
    assert outcome["commit"] == 231  # covers only what was handed on


def test_records_in_order_pass_unchanged() -> None:
    outcome = _drain([[228, 229], [230, 231]], read=228)
    assert outcome == {"handed": [228, 229, 230, 231], "seeks": [], "gap": [], "commit": 232}


def test_a_hole_found_again_after_the_seek_is_real_and_left_to_faust() -> None:
    # a compacted input: offsets 229-299 are gone for good; the refetch starts at 300 again
    outcome = _drain([[300, 301], [300, 301]], read=228)
    assert outcome["seeks"] == [228]
    assert outcome["handed"] == [300, 301]
    assert outcome["gap"] == [(229, 301)]  # faust's interval: 229-300, 300 included


def test_topics_without_acks_are_not_guarded() -> None:
    # changelogs (table recovery) are compacted and not acked: faust reads them as before
    outcome = _drain([[482, 483]], read=228, acking=False)
    assert outcome["seeks"] == [] and outcome["handed"] == [482, 483]


def test_is_skip_is_fausts_own_gap_test() -> None:
    assert read_guard.is_skip(228, 230) and not read_guard.is_skip(228, 229)
    assert not read_guard.is_skip(None, 500) and not read_guard.is_skip(0, 500)
