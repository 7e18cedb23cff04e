"""Never let faust count input records it skipped as processed (fault suite, scenario b).

faust's consumer remembers, per partition, the offset it last handed to the streams
(``_read_offset``). When the next record it fetches is further ahead than the next offset, it
takes the hole for records that do not exist (compacted away, transaction markers) and marks
the offsets in between as a *gap*: they count as acked, so the next commit covers them. It also
drops every later record below the new read offset as already read.

Around a rebalance that reasoning fails. A fetch issued before the rebalance can come back after
it, carrying records beyond the position the worker has just been sought back to (the committed
offset): ``getmany`` stamps them with the new generation, so the streams do not skip them. The
consumer then sees a jump from the committed offset to those records, marks everything in
between as a gap, and drops the same records when they are fetched again: a few hundred input
records of a stage were committed without ever being processed. In scenario b (a second resident
worker joins mid-load) this lost the household and address answers of about 240 residents:
200 had no output at all (their outputs wait for the address answer), 36 kept a wrong
household size.

:func:`install` wraps ``Consumer.getmany`` (once per process): a record of an acking topic (a
stage input) that lies beyond the next offset is not handed on; the partition is sought back
to faust's read offset instead (the last record handed on, or the position of the last seek: at
most one record is read twice), and the rest of that fetch for the partition is dropped, so the
skipped records are fetched again and processed in order. When the fetch after such a seek
still starts beyond the next offset, the hole is real (a compacted input) and faust's own
handling applies. Each seek is logged as a warning naming the partition and the offsets.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from faust.transport.consumer import Consumer

log = logging.getLogger(__name__)

_installed = False
_install_lock = threading.Lock()


def is_skip(read: int | None, offset: int) -> bool:
    """Whether a record at ``offset`` would make faust mark a gap (its own test: more than one
    past the read offset, with a read offset known)."""
    return bool(read) and read is not None and offset - read > 1


async def guarded(consumer: Any, fetched: AsyncIterator[tuple[Any, Any]]) -> AsyncIterator[Any]:
    """``fetched`` (faust's ``getmany``: (partition, message) pairs) without the records of an
    input partition that lie beyond the next offset; the partition is sought back instead (see
    the module docstring). ``consumer`` is faust's Consumer (``_read_offset``, ``seek``,
    ``app.topics.acks_enabled_for``)."""
    sought: dict[Any, int] = consumer.__dict__.setdefault("_renkei_sought", {})
    dropped: set[Any] = set()
    async for tp, message in fetched:
        if tp in dropped:
            continue  # the rest of a fetch that came back from beyond the position
        read = consumer._read_offset[tp]
        offset = message.offset
        if is_skip(read, offset) and consumer.app.topics.acks_enabled_for(message.topic):
            # faust's read offset is the last record handed on, or right after a seek the
            # position sought to: going back to it reads at most one record twice
            expected = int(read)
            if sought.get(tp) != expected:  # else: a real hole, found again after a seek
                log.warning(
                    "%s[%d]: fetched offset %d while offset %d is next: seeking back to it so "
                    "that the records in between are processed, not skipped",
                    tp.topic,
                    tp.partition,
                    offset,
                    expected,
                )
                sought[tp] = expected
                dropped.add(tp)
                await consumer.seek(tp, expected)
                continue
        sought.pop(tp, None)
        yield tp, message


def install() -> None:
    """Wrap ``faust.transport.consumer.Consumer.getmany`` once per process."""
    global _installed
    with _install_lock:
        if _installed:
            return
        original = Consumer.getmany

        def getmany(self: Any, timeout: float) -> AsyncIterator[Any]:
            return guarded(self, original(self, timeout))

        Consumer.getmany = getmany  # type: ignore[method-assign]
        _installed = True
