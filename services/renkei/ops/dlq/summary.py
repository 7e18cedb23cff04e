"""The value-free counts ``renkei dlq list`` prints: records per DLQ topic, stage and reason.

Only topic names, stage names, reason classes, counts and times: never a key, a value or a
detail text (details name fields, but a summary has no need of them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from renkei.ops.dlq.entries import DlqEntry
from renkei.ops.dlq.memory import ReplayMemory


@dataclass
class SummaryRow:
    """Counts of one (DLQ topic, stage, reason class)."""

    topic: str
    stage: str
    reason: str
    records: int = 0
    replayed: int = 0
    """Records an earlier replay already sent."""
    returned: int = 0
    """Records that came back after a replay (they carry ``renkei.replay.of``)."""
    first_time: str | None = None
    last_time: str | None = None

    @property
    def pending(self) -> int:
        return self.records - self.replayed

    def add(self, entry: DlqEntry, replayed: bool) -> None:
        self.records += 1
        self.replayed += replayed
        self.returned += entry.replay_of is not None
        when = entry.time
        if when is not None:
            self.first_time = min(self.first_time or when, when)
            self.last_time = max(self.last_time or when, when)

    def as_json(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "stage": self.stage,
            "reason": self.reason,
            "records": self.records,
            "replayed": self.replayed,
            "pending": self.pending,
            "returned_after_replay": self.returned,
            "first": self.first_time,
            "last": self.last_time,
        }


def summarize(topic: str, entries: Iterable[DlqEntry], memory: ReplayMemory) -> list[SummaryRow]:
    """One row per (stage, reason) of ``topic``'s records, sorted by stage and reason."""
    rows: dict[tuple[str, str], SummaryRow] = {}
    for entry in entries:
        key = (entry.stage, entry.reason)
        row = rows.get(key)
        if row is None:
            row = rows[key] = SummaryRow(topic, entry.stage, entry.reason)
        row.add(entry, memory.replayed(entry))
    return [rows[key] for key in sorted(rows)]


COLUMNS = ("TOPIC", "STAGE", "REASON", "RECORDS", "PENDING", "REPLAYED", "RETURNED", "LAST")


def render_table(rows: list[SummaryRow], empty_topics: list[str]) -> list[str]:
    """Aligned text lines: one per row, then one per DLQ topic without records."""
    cells = [
        [
            r.topic,
            r.stage,
            r.reason,
            str(r.records),
            str(r.pending),
            str(r.replayed),
            str(r.returned),
            r.last_time or "-",
        ]
        for r in rows
    ]
    cells += [[topic, "-", "-", "0", "0", "0", "0", "-"] for topic in empty_topics]
    widths = [max(len(c[i]) for c in [list(COLUMNS), *cells]) for i in range(len(COLUMNS))]
    numeric = {3, 4, 5, 6}

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(widths[i]) if i in numeric else v.ljust(widths[i]) for i, v in enumerate(values)
        ]
        return "  ".join(parts).rstrip()

    return [line(list(COLUMNS)), *(line(c) for c in cells)]
