"""Grouping row changes by database transaction, so one transaction's events go out together.

Debezium writes a transaction's changes to the table's topic in commit order and, with
``provide.transaction.metadata=true``, an END marker to ``<prefix>.transaction`` saying how many
events of each table the transaction had. The two topics are read side by side, so a marker
may arrive before or after its changes: a transaction is complete when its END marker is here
and so are all of its changes of the captured table. Complete transactions are released in
the order their first change was read (commit order); snapshot rows, which belong to no
transaction, are released one by one in their turn.

The positions to commit are those before the oldest change and marker still held: a crash
loses nothing, and a transaction is re-read whole. A transaction whose END marker does not come
(Debezium re-sent changes after a restart of its own but not the marker) is released once later
transactions are waiting behind it for ``patience`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from renkei.input_formats.debezium import ChangeEvent, TransactionMarker


@dataclass
class PendingTransaction:
    """Changes read so far of one transaction (or one snapshot row)."""

    transaction_id: str | None
    changes: list[tuple[int, ChangeEvent]] = field(default_factory=list)
    """(offset in the table's topic, change)"""
    expected: int | None = None
    marker_offset: int | None = None
    first_seen: float = field(default_factory=time.monotonic)

    @property
    def complete(self) -> bool:
        if self.transaction_id is None:
            return True
        return self.expected is not None and len(self.changes) >= self.expected

    @property
    def events(self) -> list[ChangeEvent]:
        return [change for _, change in self.changes]


class TransactionGrouper:
    """Collects changes and END markers of one table; releases whole transactions in order."""

    def __init__(self, table: str, patience: float = 30.0):
        self.table = table
        self.patience = patience
        self.released_incomplete = 0
        """Transactions released without their END marker (after ``patience``)."""
        self._order: list[PendingTransaction] = []
        self._by_id: dict[str, PendingTransaction] = {}
        self._expected: dict[str, tuple[int, int]] = {}
        """END markers read before any change of theirs: id → (count, marker offset)."""

    def add_change(self, offset: int, change: ChangeEvent) -> None:
        """A change read at ``offset`` of the table's topic."""
        if change.transaction_id is None:
            self._order.append(PendingTransaction(None, [(offset, change)]))
            return
        pending = self._by_id.get(change.transaction_id)
        if pending is None:
            pending = PendingTransaction(change.transaction_id)
            self._by_id[change.transaction_id] = pending
            self._order.append(pending)
            early = self._expected.pop(change.transaction_id, None)
            if early is not None:
                pending.expected, pending.marker_offset = early
        pending.changes.append((offset, change))

    def add_marker(self, offset: int, marker: TransactionMarker) -> None:
        """A marker read at ``offset`` of the transaction topic (BEGIN markers are ignored;
        an END without changes of this table concerns other tables)."""
        if marker.status != "END":
            return
        count = marker.counts.get(self.table, 0)
        if count == 0:
            return
        pending = self._by_id.get(marker.transaction_id)
        if pending is None:
            self._expected[marker.transaction_id] = (count, offset)
        else:
            pending.expected, pending.marker_offset = count, offset

    def ready(self, now: float | None = None) -> Iterator[PendingTransaction]:
        """Complete transactions at the head of the commit order, removed as they are yielded."""
        now = time.monotonic() if now is None else now
        while self._order:
            head = self._order[0]
            if not head.complete:
                stuck = len(self._order) > 1 and now - head.first_seen > self.patience
                if not stuck:
                    return
                self.released_incomplete += 1
            done = self._order.pop(0)
            if done.transaction_id is not None:
                self._by_id.pop(done.transaction_id, None)
            yield done

    def held_from(self) -> tuple[int | None, int | None]:
        """(oldest table-topic offset, oldest marker offset) still held; None when nothing is.

        Commit below these: what is held must be read again after a restart."""
        change_offsets = [p.changes[0][0] for p in self._order if p.changes]
        markers = [p.marker_offset for p in self._order if p.marker_offset is not None]
        markers += [offset for _, offset in self._expected.values()]
        return (min(change_offsets, default=None), min(markers, default=None))

    @property
    def held(self) -> int:
        """Changes held, waiting for the rest of their transaction."""
        return sum(len(p.changes) for p in self._order)
