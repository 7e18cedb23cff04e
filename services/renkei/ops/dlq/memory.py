"""What earlier replays of a DLQ topic sent, and which records the next replay sends.

The memory is kept in Kafka, as committed offsets of consumer groups that never consume:

- ``renkei-replay.<dlq topic>``: every record below its offset (per partition) was replayed
  by an unfiltered replay;
- ``renkei-replay.<dlq topic>.<reason>``: every record of that reason class below its offset
  was replayed by a ``--reason`` replay.

A record counts as replayed when its offset is below either. A replay commits its own group
only after the records it sent were acknowledged by the broker, so a crash between send and
commit re-sends them next time, and the stages' idempotency (event_id / sequence) absorbs that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from renkei.ops.dlq.entries import REASONS, DlqEntry

GROUP_PREFIX = "renkei-replay."


def replay_group(dlq_topic: str, reason: str | None = None) -> str:
    """The group that remembers replays of ``dlq_topic`` (a Kafka name: the test prefix of the
    topic is the group's prefix too), of one reason class when ``reason`` is given."""
    return f"{GROUP_PREFIX}{dlq_topic}" + (f".{reason}" if reason else "")


def memory_groups(dlq_topic: str, existing: Iterable[str] = ()) -> dict[str | None, str]:
    """The groups of ``dlq_topic``'s memory by reason (None: unfiltered): the known reason
    classes, plus any other ``renkei-replay.<dlq topic>.<reason>`` group in ``existing``
    (reason classes a newer stage may have added)."""
    groups: dict[str | None, str] = {None: replay_group(dlq_topic)}
    groups |= {r: replay_group(dlq_topic, r) for r in REASONS}
    own = replay_group(dlq_topic) + "."
    for group in existing:
        reason = group.removeprefix(own)
        if group.startswith(own) and reason and "." not in reason:
            groups[reason] = group
    return groups


Offsets = Mapping[int, int]
"""partition → committed offset (the next record not yet replayed)."""


@dataclass(frozen=True)
class ReplayMemory:
    """Committed offsets of a DLQ topic's replay groups."""

    unfiltered: Offsets = field(default_factory=dict)
    by_reason: Mapping[str, Offsets] = field(default_factory=dict)

    def limit(self, partition: int, reason: str) -> int:
        """Records of ``reason`` below this offset of ``partition`` were replayed."""
        own = self.by_reason.get(reason, {}).get(partition, 0)
        return max(self.unfiltered.get(partition, 0), own)

    def replayed(self, entry: DlqEntry) -> bool:
        return entry.offset < self.limit(entry.partition, entry.reason)

    def committed(self, partition: int, reason: str | None) -> int:
        """The offset the group of ``reason`` (None: unfiltered) committed for ``partition``."""
        offsets = self.unfiltered if reason is None else self.by_reason.get(reason, {})
        return offsets.get(partition, 0)

    def start(self, partition: int, reason: str | None) -> int:
        """Where a replay has to start reading ``partition``: nothing before was left over."""
        if reason is None:
            return self.unfiltered.get(partition, 0)
        return self.limit(partition, reason)


class Decision(StrEnum):
    """What a replay does with one DLQ record."""

    SEND = "send"
    REPLAYED = "already replayed"
    OTHER_REASON = "other reason"
    BEFORE_START = "before --from-offset"
    FOREIGN = "origin is another topic"
    NOT_FROM_TOPIC = "never was in the topic"
    MASKED = "masked (個人番号)"


@dataclass(frozen=True)
class Selection:
    """Which records a replay sends: ``reason`` (None: all classes) and ``from_offset`` (None:
    from where the memory says; a number: from that offset of every partition, sending again
    what was replayed before)."""

    reason: str | None = None
    from_offset: int | None = None

    def decide(self, entry: DlqEntry, memory: ReplayMemory, source: str) -> Decision:
        """What to do with ``entry`` of the DLQ of ``source`` (its Kafka name).

        Never sent: a record whose ``renkei.dlq.topic`` names another topic than ``source``
        (the DLQ name and the record disagree: an operator must look at it), and one without
        an origin offset (rejected before it was ever published, e.g. an input line the
        publisher refused: it is not a record of the topic; fix the input and publish again),
        and one whose bytes were masked because they held a 個人番号 (``renkei.masked``): they
        are not what was sent, and the department must correct the record at its source.
        """
        if entry.origin_topic is not None and entry.origin_topic != source:
            return Decision.FOREIGN
        if entry.origin_offset is None:
            return Decision.NOT_FROM_TOPIC
        if entry.masked:
            return Decision.MASKED
        if self.reason is not None and entry.reason != self.reason:
            return Decision.OTHER_REASON
        if self.from_offset is not None:
            return Decision.SEND if entry.offset >= self.from_offset else Decision.BEFORE_START
        return Decision.REPLAYED if memory.replayed(entry) else Decision.SEND

    def start(self, partition: int, memory: ReplayMemory) -> int:
        """The first offset of ``partition`` worth reading."""
        if self.from_offset is not None:
            return self.from_offset
        return memory.start(partition, self.reason)

    def commit_to(self, partition: int, reached: int, memory: ReplayMemory) -> int | None:
        """The offset to commit for ``partition`` once records below ``reached`` were handled;
        None: leave the memory as it is.

        A ``--from-offset`` above what the memory holds leaves a gap of records never sent: the
        memory is then not advanced over them.
        """
        current = memory.committed(partition, self.reason)
        if self.from_offset is not None and self.from_offset > current:
            return None
        return reached if reached > current else None
