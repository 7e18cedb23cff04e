"""Counts of view records per consumer agreement and time window, for the audit log.

The views stage counts every record it produces to a view, per (agreement, view topic), and
writes one ``view.delivered`` audit record per window that had any: counts and names of
agreements and topics only, never keys or values.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from renkei.audit import AuditLog
from renkei.errors import AuditError

log = logging.getLogger(__name__)


def _iso(epoch: float) -> str:
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


class DeliveryWindow:
    """Counts per (agreement id, view topic) since the window opened."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self.opened = clock()
        self.counts: Counter[tuple[str, str]] = Counter()

    def add(self, agreements: tuple[str, ...], view_topic: str, records: int = 1) -> None:
        for agreement in agreements:
            self.counts[(agreement, view_topic)] += records

    def close(self) -> dict[str, Any] | None:
        """The audit details of the window now ending (None when nothing was delivered);
        a new window opens."""
        now = self._clock()
        counts, opened = self.counts, self.opened
        self.counts, self.opened = Counter(), now
        if not counts:
            return None
        return {
            "window_start": _iso(opened),
            "window_end": _iso(now),
            "deliveries": [
                {"agreement": agreement, "view": view, "records": records}
                for (agreement, view), records in sorted(counts.items())
            ],
        }


async def audit_window(window: DeliveryWindow, audit: AuditLog, actor: str) -> None:
    """Close the window and write its ``view.delivered`` record. An audit failure is logged,
    never raised: the views must keep flowing (the file keeps what it managed to write)."""
    details = window.close()
    if details is None:
        return
    try:
        await audit.record("view.delivered", actor=actor, details=details)
    except AuditError as exc:
        log.error("view.delivered audit record not fully written: %s", exc)
