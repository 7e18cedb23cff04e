"""The faust agent around a StageProcessor: loop, process into the batch, ack when delivered.

faust acks an event when the agent moves past it — also when the agent raises, which would
commit a record that was never processed. The adapter therefore reads a manual-ack stream
(``stream.noack()``) and hands each event to the stage's commit-interval batch
(runtime/batch.py), which acks it only once the broker acknowledged every record produced for
its batch (outputs, DLQ records, table changelog writes). A commit then never covers a record
whose output could still be lost, and a record the worker failed on stays uncommitted for the
next run.

Acks are given in offset order per partition: an event whose outputs are delivered waits for
the earlier events of its partition. faust commits the highest acked offset of the first run
of consecutive acked offsets without checking that the run starts right after the committed
offset (never when nothing was committed yet), so an out-of-order ack — an event with no
outputs acked while an earlier one still waits for its delivery — let it commit past a record
whose outputs were not delivered (fault suite, scenario b).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from faust.types import EventT, StreamT

from renkei.runtime.batch import CommitBatch
from renkei.runtime.lanes import LaneController
from renkei.runtime.records import SourceRecord
from renkei.runtime.stage import StageProcessor

log = logging.getLogger(__name__)

Fail = Callable[[BaseException], Awaitable[None]]


class _Pending:
    """An event waiting for its deliveries, in its partition's queue."""

    __slots__ = ("delivered", "event")

    def __init__(self, event: EventT[Any]):
        self.event = event
        self.delivered = False


class DeliveryAcker:
    """Acks consumed events once the delivery futures of what they produced resolve, in
    offset order per partition (see the module docstring)."""

    def __init__(self, on_message_out: Callable[[Any, int, Any], None], fail: Fail):
        self._on_message_out = on_message_out
        self._fail = fail
        self.failed: BaseException | None = None
        self._stopping: asyncio.Future[None] | None = None
        self._queues: dict[Any, deque[_Pending]] = {}

    def ack_when_delivered(self, event: EventT[Any], futures: list[Any]) -> None:
        pending = _Pending(event)
        self._queues.setdefault(event.message.tp, deque()).append(pending)
        if not futures:
            self._ack(pending)
        elif len(futures) == 1:
            futures[0].add_done_callback(partial(self._one_done, pending))
        else:
            callback = partial(self._many_done, pending, [len(futures)])
            for future in futures:
                future.add_done_callback(callback)

    def _one_done(self, pending: _Pending, future: asyncio.Future[Any]) -> None:
        if self._delivered(future):
            self._ack(pending)

    def _many_done(
        self, pending: _Pending, remaining: list[int], future: asyncio.Future[Any]
    ) -> None:
        if self._delivered(future):
            remaining[0] -= 1
            if remaining[0] == 0:
                self._ack(pending)

    def _delivered(self, future: asyncio.Future[Any]) -> bool:
        if future.cancelled():
            error: BaseException | None = asyncio.CancelledError("delivery cancelled")
        else:
            error = future.exception()
        if error is None:
            return True
        if self.failed is None:  # first failure: stop the worker; the event stays unacked
            self.failed = error
            self._stopping = asyncio.ensure_future(self._fail(error))
        return False

    def _ack(self, pending: _Pending) -> None:
        """Mark ``pending`` delivered; ack it and every delivered event after it once no
        earlier event of the partition is still waiting."""
        pending.delivered = True
        queue = self._queues[pending.event.message.tp]
        while queue and queue[0].delivered:
            event = queue.popleft().event
            if event.ack():
                message = event.message
                self._on_message_out(message.tp, message.offset, message)


def source_record(event: EventT[Any], contract_topic: str) -> SourceRecord:
    """The consumed message of ``event`` as a step sees it."""
    message: Any = event.message
    return SourceRecord(
        topic=message.topic,
        contract_topic=contract_topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=tuple(message.headers or ()),
        timestamp_ms=int(message.timestamp * 1000) if message.timestamp else None,
    )


def batch_agent(
    processor: StageProcessor,
    contract_topic: str,
    batch: CommitBatch,
    fail: Fail,
    *,
    lanes: LaneController | None = None,
    bulk: bool = False,
) -> Callable[[StreamT[Any]], Awaitable[None]]:
    """The agent function for one input topic on the commit-interval loop (runtime/batch.py;
    register with concurrency=1). Its records are acked by the batch, after delivery. With
    ``lanes``, every processed offset is reported to them and, for a ``bulk`` input, each
    record first waits for the bulk lane's turn (runtime/lanes.py)."""

    async def consume(stream: StreamT[Any]) -> None:
        # manual acks (see the module docstring); StreamT's stubs lack noack()
        async for event in stream.noack().events():  # type: ignore[attr-defined]
            if not await batch.admitted():
                return  # a flush failed: stopping; leave this record unacked
            if bulk and lanes is not None:
                await lanes.bulk_turn(event.message.tp)
            try:
                encoded, futures = await processor.process_deferred(
                    source_record(event, contract_topic)
                )
            except Exception as exc:
                await fail(exc)
                return
            if lanes is not None:
                message = event.message
                lanes.processed(message.tp, message.offset)
            await batch.add(event, contract_topic, encoded, futures)

    consume.__name__ = consume.__qualname__ = f"consume_{contract_topic}"
    return consume
