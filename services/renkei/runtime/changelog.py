"""Table changelog writes that an input's ack waits for.

faust writes a table change to its changelog through a buffer (``send_soon``) and forgets the
delivery future. The stage acks an input once its outputs are delivered, so faust could commit
an input whose table change was still in the buffer; when the partition then moved to another
worker (rebalance, crash), that worker rebuilt the table from a changelog without the change
and went on from the committed offset: the change was lost (fault suite, scenario b: checkups
and household facts missing from some profiles). :class:`ChangelogWrites` keeps the futures
of the writes a step makes and hands them to the acker with the output futures.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.types import EventT, TableT

from renkei.runtime.records import SourceRecord
from renkei.runtime.stage import StageProcessor

Position = tuple[str, int, int]


class TrackedTable(faust.Table[str, Any]):
    """A faust Table whose changelog writes are reported to a :class:`ChangelogWrites`."""

    tracker: ChangelogWrites

    def _send_changelog(
        self,
        event: EventT[Any] | None,
        key: Any,
        value: Any,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> None:
        if event is None:
            raise RuntimeError("Cannot modify table outside of agent/stream.")
        message = event.message
        future = self.send_changelog(
            message.partition, key, value, key_serializer, value_serializer
        )
        self.tracker.written((message.topic, message.partition, message.offset), future)


class ChangelogWrites:
    """The changelog writes of each input not yet handed to the acker, by the input's
    position (faust tells the table which event a write belongs to)."""

    def __init__(self) -> None:
        self._by_record: dict[Position, list[Any]] = {}

    def table(self, app: faust.App, name: str, partitions: int) -> TableT[str, Any]:
        """A JSON-valued table of ``app`` whose writes are tracked."""
        table = TrackedTable(
            app,
            name=name,
            default=None,
            key_type=str,
            partitions=partitions,
            beacon=app.tables.beacon,
        )
        table.tracker = self
        app.tables.add(table)
        return table

    def written(self, position: Position, future: Any) -> None:
        self._by_record.setdefault(position, []).append(future)

    def processor(self, processor: StageProcessor) -> _TrackedProcessor:
        return _TrackedProcessor(processor, self._by_record)


class _TrackedProcessor:
    """A StageProcessor whose delivery futures include the step's changelog writes."""

    def __init__(self, processor: StageProcessor, by_record: dict[Position, list[Any]]):
        self._processor = processor
        self._by_record = by_record

    async def process(self, record: SourceRecord) -> list[Any]:
        try:
            futures = await self._processor.process(record)
        finally:
            writes = self._by_record.pop((record.topic, record.partition, record.offset), [])
        return futures + writes
