"""One replay of a DLQ topic: its records, as they were, back to the topic they came from.

Phases:
1. memory: the committed offsets of the topic's replay groups (``memory.py``);
2. check: the DLQ topic and its source topic exist;
3. read from where the memory (or ``--from-offset``) says to the end offsets taken at the
   start (records that fail again during the replay come back after that end: not looped);
4. per batch: decide each record (send, already replayed, other reason …), send the chosen
   ones with their original key, value and partition, DLQ headers replaced by
   ``renkei.replay.of``; once the broker acknowledged them, commit the position;
5. report counts; the caller writes the ``dlq.replay`` audit record (counts only).
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from renkei.errors import ConfigurationError
from renkei.ops.dlq.entries import DlqEntry, DlqTopic, is_dlq_topic, replay_headers
from renkei.ops.dlq.kafka import DlqReader, MemoryWriter, Republisher
from renkei.ops.dlq.memory import Decision, ReplayMemory, Selection, replay_group
from renkei.settings import Settings

PROGRESS_EVERY = 1.0
"""Seconds between progress callbacks while records are being sent."""


class UnknownDlqTopic(ConfigurationError):
    """The DLQ topic (or the topic its records came from) does not exist."""


@dataclass
class ReplayReport:
    """What a replay did (or, with ``dry_run``, would do)."""

    topic: DlqTopic
    selection: Selection
    dry_run: bool
    sent: Counter[str] = field(default_factory=Counter)
    """Records sent, by reason class."""
    skipped: Counter[Decision] = field(default_factory=Counter)
    read: int = 0
    remaining: int = 0
    """Records left to read (progress)."""
    samples: list[DlqEntry] = field(default_factory=list)
    """The first records chosen (for a dry run's listing; positions and reasons only)."""
    committed: dict[int, int] = field(default_factory=dict)
    failure: str | None = None
    """Set by the caller when the replay stopped on an error (what the audit record says)."""

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    def audit_details(self) -> dict[str, Any]:
        """Counts and names for the ``dlq.replay`` audit record: no key, value or detail."""
        return {
            "topic": self.topic.dlq,
            "target": self.topic.source,
            "records": self.total_sent,
            "by_reason": dict(sorted(self.sent.items())),
            "skipped": {str(d): n for d, n in sorted(self.skipped.items())},
            "reason_filter": self.selection.reason,
            "from_offset": self.selection.from_offset,
            "read": self.read,
            "outcome": "failed: " + self.failure if self.failure else "done",
        }


Progress = Callable[[ReplayReport], None]
MAX_SAMPLES = 50
HINTS = 8


async def check_topics(reader: DlqReader, topic: DlqTopic) -> None:
    """UnknownDlqTopic unless the DLQ topic and its source topic exist."""
    existing = await reader.topics()
    if topic.dlq not in existing:
        known = sorted(t for t in existing if is_dlq_topic(t, topic.prefix))
        shown = ", ".join(known[:HINTS]) + (
            f" and {len(known) - HINTS} more" if len(known) > HINTS else ""
        )
        hint = f"; DLQ topics: {shown} (renkei dlq list)" if known else "; there is no DLQ topic"
        raise UnknownDlqTopic(f"no DLQ topic {topic.dlq!r}{hint}")
    if topic.source not in existing:
        raise UnknownDlqTopic(
            f"{topic.dlq}: its source topic {topic.source!r} does not exist; nothing to replay to"
        )


async def replay(
    settings: Settings, report: ReplayReport, *, progress: Progress | None = None
) -> ReplayReport:
    """Replay the DLQ records ``report`` asks for (topic, selection, dry run; phases in the
    module doc), counting into ``report`` as it goes: when a replay fails halfway, the caller
    still knows what was sent (and audits it)."""
    topic, selection, dry_run = report.topic, report.selection, report.dry_run
    async with contextlib.AsyncExitStack() as stack:
        reader = await stack.enter_async_context(DlqReader(settings))
        await check_topics(reader, topic)
        memory = await reader.memory(topic.dlq)
        sender = writer = None
        if not dry_run:
            sender = await stack.enter_async_context(Republisher(settings))
            group = replay_group(topic.dlq, selection.reason)
            writer = await stack.enter_async_context(MemoryWriter(settings, group, topic.dlq))
        run = _Run(report, memory, sender, writer, progress)
        await run.target_partitions(sender)
        scan = reader.scan(topic.dlq, lambda p: selection.start(p, memory))
        async for batch in scan:
            run.ranges = {p: (reader.starts[p], end) for p, end in reader.ends.items()}
            await run.batch(batch)
        await run.finish(reader.ends)
    return report


class _Run:
    """The state of one replay between batches."""

    def __init__(
        self,
        report: ReplayReport,
        memory: ReplayMemory,
        sender: Republisher | None,
        writer: MemoryWriter | None,
        progress: Progress | None,
    ):
        self.report = report
        self.memory = memory
        self.sender = sender
        self.writer = writer
        self.progress = progress
        self.reached: dict[int, int] = {}
        self.ranges: dict[int, tuple[int, int]] = {}
        """partition → (first offset read, end offset)."""
        self.partition_count = 0
        self._last_progress = time.monotonic()

    async def target_partitions(self, sender: Republisher | None) -> None:
        if sender is not None:
            self.partition_count = await sender.partitions(self.report.topic.source)

    async def batch(self, batch: list[DlqEntry]) -> None:
        report, source = self.report, self.report.topic.source
        chosen = []
        for entry in batch:
            decision = report.selection.decide(entry, self.memory, source)
            if decision is Decision.SEND:
                chosen.append(entry)
                report.sent[entry.reason] += 1
                if len(report.samples) < MAX_SAMPLES:
                    report.samples.append(entry)
            else:
                report.skipped[decision] += 1
            self.reached[entry.partition] = entry.offset + 1
        report.read += len(batch)
        if self.sender is not None and chosen:
            await self.sender.send_all(source, [self._record(e) for e in chosen])
        await self._commit(self.reached)
        self._report_progress(force=False)

    def _record(self, entry: DlqEntry) -> tuple[bytes | None, bytes | None, int | None, Any]:
        """(key, value, partition, headers): the origin partition when the topic still has it,
        else the producer's partitioner decides by key."""
        partition = entry.origin_partition
        if partition is None or not 0 <= partition < self.partition_count:
            partition = None
        return entry.key, entry.value, partition, replay_headers(entry)

    async def _commit(self, reached: dict[int, int]) -> None:
        if self.writer is None:
            return
        selection = self.report.selection
        offsets = {}
        for partition, offset in reached.items():
            target = selection.commit_to(partition, offset, self.memory)
            if target is not None and target > self.report.committed.get(partition, -1):
                offsets[partition] = target
        await self.writer.commit(offsets)
        self.report.committed.update(offsets)

    async def finish(self, ends: dict[int, int]) -> None:
        """Everything up to the end offsets taken at the start was handled: remember it."""
        await self._commit(dict(ends))
        self.reached.update(ends)
        self._report_progress(force=True)

    def _report_progress(self, *, force: bool) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_progress >= PROGRESS_EVERY:
            self.report.remaining = sum(
                max(0, end - max(first, self.reached.get(p, first)))
                for p, (first, end) in self.ranges.items()
            )
            self._last_progress = now
            self.progress(self.report)
