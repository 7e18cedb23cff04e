"""The error a standardization step raises for a value it cannot resolve."""

from __future__ import annotations

from renkei.errors import InvalidRecord


class StandardizationError(InvalidRecord):
    """A value cannot be standardized. ``field`` is a dotted path (or a short name when the
    caller adds the path), ``reason`` says why — never the value itself (it may be personal).
    A stage routes it to the DLQ with reason class ``standardization``."""

    dlq_reason = "standardization"

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__([(field, reason)])

    def at(self, path: str) -> StandardizationError:
        """The same error located at ``path`` (used when a record-level step adds the path)."""
        return StandardizationError(path, self.reason)


class MyNumberRefused(StandardizationError):
    """A field holds a 個人番号 (My Number). The record is refused like any bad record, and the
    copy kept in the DLQ has the number masked (runtime/dlq_mask.py)."""

    carries_my_number = True

    def at(self, path: str) -> MyNumberRefused:
        return MyNumberRefused(path, self.reason)
