"""Dead-letter routing: the ONE place a bad record becomes a ``dlq.<source topic>`` record.

A record that cannot be decoded, standardized or processed is not dropped and does not stop the
stream: :class:`DeadLetterRouter` writes its original key and value bytes, unchanged, with its
original headers plus ``renkei.dlq.*`` headers saying why, to ``dlq.<source topic>`` (same
partition). Reasons name field paths and rules, never values: a DLQ header must not leak the
personal data the record carries.

:class:`DlqBreaker` (after arroyo's ``DlqLimit``) stops the worker instead when most recent
records fail: a bad deploy or a wrong schema must not bury a whole stream in the DLQ.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import traceback
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from renkei.contracts.dlq import MAX_DETAIL_CHARS, DlqReason, dlq_headers
from renkei.errors import InvalidRecord, RenkeiError
from renkei.ops.metrics import StageMetrics
from renkei.runtime.records import SourceRecord

log = logging.getLogger(__name__)


Send = Callable[
    [str, bytes | None, bytes | None, int | None, list[tuple[str, bytes]]], Awaitable[Any]
]
"""``send(topic, key, value, partition, headers)``; returns the broker delivery future."""


class DlqLimitExceeded(RenkeiError):
    """Too many recent records failed: the stage stops instead of routing them to the DLQ."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a record goes to the DLQ: a reason class and a value-free detail."""

    reason: DlqReason
    detail: str

    @classmethod
    def of(cls, exc: BaseException, reason: DlqReason) -> Rejection:
        return cls(reason, describe(exc))


def describe(exc: BaseException) -> str:
    """A value-free description of ``exc`` for the ``renkei.dlq.detail`` header and logs.

    InvalidRecord carries (field path, reason) pairs that are value-free by contract, and
    Renkei's own errors name fields and rules. A foreign exception's message may quote the
    record (``KeyError('山田')``), so only its type and where it was raised are kept.
    """
    if isinstance(exc, InvalidRecord):
        text = "; ".join(f"{field}: {why}" for field, why in exc.reasons)
    elif isinstance(exc, RenkeiError):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}{_origin(exc)}"
    return text[:MAX_DETAIL_CHARS]


def _origin(exc: BaseException) -> str:
    """`` at <file>:<line> in <function>`` of the innermost frame (code, not data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f" at {Path(last.filename).name}:{last.lineno} in {last.name}"


_FASTAVRO_FIELD = re.compile(r"(?:on field|no value and no default for) ([\w.]+)\s*$")


def encode_failure_field(exc: BaseException) -> str | None:
    """The field fastavro names in an encode error (its message also quotes the value)."""
    cause = exc.__cause__ or exc
    match = _FASTAVRO_FIELD.search(str(cause))
    return match.group(1) if match else None


class DlqBreaker:
    """Trips when more than ``max_failure_ratio`` of at least ``min_records`` recent records
    failed. "Recent" is the last ``window_records`` records, none older than ``window_seconds``.
    """

    def __init__(
        self,
        *,
        window_records: int = 1000,
        window_seconds: float = 60.0,
        min_records: int = 100,
        max_failure_ratio: float = 0.9,
        clock: Callable[[], float] = time.monotonic,
    ):
        if min_records > window_records:
            raise ValueError("min_records cannot exceed window_records")
        self.window_records = window_records
        self.window_seconds = window_seconds
        self.min_records = min_records
        self.max_failure_ratio = max_failure_ratio
        self._clock = clock
        self._window: deque[tuple[float, bool]] = deque()
        self._failures = 0

    def record_success(self) -> None:
        self._observe(False)

    def record_failure(self) -> None:
        """Count a failure; raises DlqLimitExceeded when the window is over the limit."""
        self._observe(True)
        count = len(self._window)
        if count >= self.min_records and self._failures > self.max_failure_ratio * count:
            raise DlqLimitExceeded(
                f"{self._failures} of the last {count} records failed "
                f"({self._failures / count:.0%}; limit {self.max_failure_ratio:.0%} of at least "
                f"{self.min_records} within {self.window_seconds:g}s): stopping instead of "
                "routing the stream to the DLQ. Check the last DLQ reasons, the deploy and the "
                "schemas; the worker resumes from the last committed offset when restarted."
            )

    @property
    def counts(self) -> tuple[int, int]:
        """(failed, total) in the current window."""
        self._expire(self._clock())
        return self._failures, len(self._window)

    def _observe(self, failed: bool) -> None:
        now = self._clock()
        window = self._window
        window.append((now, failed))
        self._failures += failed
        if len(window) > self.window_records:
            self._failures -= window.popleft()[1]
        if now - window[0][0] > self.window_seconds:
            self._expire(now)

    def _expire(self, now: float) -> None:
        window = self._window
        while window and now - window[0][0] > self.window_seconds:
            self._failures -= window.popleft()[1]


class DeadLetterRouter:
    """Writes rejected records to their DLQ topic, guarded by a :class:`DlqBreaker`."""

    def __init__(
        self,
        *,
        stage: str,
        send: Send,
        breaker: DlqBreaker,
        dlq_topic: Callable[[str], str],
        dlq_partitions: Callable[[str], int | None] = lambda topic: None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        summary_every: float = 10.0,
        metrics: StageMetrics | None = None,
    ):
        self.stage = stage
        self.metrics = metrics or StageMetrics(stage)
        self._send = send
        self.breaker = breaker
        self._dlq_topic = dlq_topic
        self._dlq_partitions = dlq_partitions
        self._clock = clock
        self._summary_every = summary_every
        self._since_summary: Counter[tuple[str, str]] = Counter()
        self._last_summary = time.monotonic()
        self.routed = 0

    def record_success(self) -> None:
        self.breaker.record_success()

    async def route(self, record: SourceRecord, rejection: Rejection) -> Any:
        """Send ``record`` unchanged to ``dlq.<its contract topic>``; returns the delivery future.

        Raises DlqLimitExceeded (without routing) when the breaker trips.
        """
        try:
            self.breaker.record_failure()
        except DlqLimitExceeded:
            self.metrics.set_breaker_open(True)
            log.critical(
                "%s: DLQ breaker tripped at %s[%d]@%d; last reason %s: %s",
                self.stage,
                record.topic,
                record.partition,
                record.offset,
                rejection.reason,
                rejection.detail,
            )
            raise
        topic = self._dlq_topic(record.contract_topic)
        partitions = self._dlq_partitions(record.contract_topic)
        partition = record.partition if partitions and record.partition < partitions else None
        headers = dlq_headers(
            record.headers,
            reason=rejection.reason,
            detail=rejection.detail,
            stage=self.stage,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            now=self._clock(),
        )
        future = await self._send(topic, record.key, record.value, partition, headers)
        self.routed += 1
        self.metrics.record_dlq(record.contract_topic, rejection.reason)
        self._note(record, rejection, topic)
        return future

    def _note(self, record: SourceRecord, rejection: Rejection, topic: str) -> None:
        """Debug line per record; a warning summary at most every ``summary_every`` seconds."""
        log.debug(
            "%s[%d]@%d -> %s (%s: %s)",
            record.topic,
            record.partition,
            record.offset,
            topic,
            rejection.reason,
            rejection.detail,
        )
        self._since_summary[(topic, rejection.reason)] += 1
        now = time.monotonic()
        if now - self._last_summary >= self._summary_every or self.routed == 1:
            failed, total = self.breaker.counts
            summary = ", ".join(
                f"{t} {r}: {n}" for (t, r), n in sorted(self._since_summary.items())
            )
            log.warning(
                "%s: routed to DLQ since last report: %s (window: %d of %d failed)",
                self.stage,
                summary,
                failed,
                total,
            )
            self._since_summary.clear()
            self._last_summary = now
