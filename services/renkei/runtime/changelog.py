"""Table changelog writes that a batch's ack waits for.

faust writes a table change to its changelog through a buffer (``send_soon``) and forgets the
delivery future. The stage acks an input once its outputs are delivered, so faust could commit
an input whose table change was still in the buffer; when the partition then moved to another
worker (rebalance, crash), that worker rebuilt the table from a changelog without the change
and went on from the committed offset: the change was lost (fault suite, scenario b: checkups
and household facts missing from some profiles). :class:`TrackedTable` reports the future of
every changelog write to the stage's :class:`~renkei.runtime.batch.CommitBatch`, which waits
for them before it acks.

faust 0.15's ``Table.on_key_set`` calls ``send_changelog`` (not the older ``_send_changelog``
with the event), so that is the method tracked.
"""

from __future__ import annotations

from typing import Any, Protocol

import faust
from faust.types import TableT
from faust.types.tuples import FutureMessage


class ChangelogTracker(Protocol):
    def changelog_written(self, future: Any) -> None: ...


class TrackedTable(faust.Table[str, Any]):
    """A faust Table whose changelog writes are reported to its ``tracker``."""

    tracker: ChangelogTracker

    def send_changelog(
        self,
        partition: int | None,
        key: Any,
        value: Any,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> FutureMessage:
        future = super().send_changelog(partition, key, value, key_serializer, value_serializer)
        self.tracker.changelog_written(future)
        return future


def tracked_table(
    app: faust.App,
    name: str,
    partitions: int,
    tracker: ChangelogTracker,
    store_options: dict[str, Any] | None = None,
) -> TableT[str, Any]:
    """A JSON-valued table of ``app`` whose changelog writes ``tracker`` hears of;
    ``store_options`` go to its store (RocksDB: memory bounds, see :func:`rocksdb_options`)."""
    table = TrackedTable(
        app,
        name=name,
        default=None,
        key_type=str,
        partitions=partitions,
        beacon=app.tables.beacon,
        options=store_options,
    )
    table.tracker = tracker
    app.tables.add(table)
    return table


def rocksdb_options(write_buffer_mb: int, block_cache_mb: int) -> dict[str, Any]:
    """Options of one table partition's RocksDB store that bound its memory: faust opens one
    database per partition with 64 MiB × 3 write buffers, a 2 GiB block cache and a 500 MiB
    compressed cache each (docs/performance.md, "Worker memory")."""
    mib = 1024 * 1024
    return {
        "write_buffer_size": write_buffer_mb * mib,
        "max_write_buffer_number": 2,
        "block_cache_size": block_cache_mb * mib,
        "block_cache_compressed_size": block_cache_mb * mib,
    }
