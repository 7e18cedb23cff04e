"""Audit of what the page released to staff: ``view.served`` records (CONTRACTS.md C).

The views stage already writes ``view.delivered`` for what it produces to the view topics; this
is the next step, what the staff view handed to browsers. Every ``/api/state`` answer that
carried evacuation-support lists is counted (the page itself, ``/``, is static and holds no
data). Once per window a ``view.served`` record says how many such answers went out, to how
many distinct clients, how many listed persons they held in total and at most, and which
alerts and how many lists they covered, and who received them (``users``: the signed-in staff
user once the login is in place, the client address until then). Counts, agreement, purpose,
view topics, alert ids and staff identities only: never a resident's name, address or key.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from renkei.audit import AuditLog
from renkei.errors import AuditError

KIND = "view.served"
MAX_USERS_NAMED = 32
"""At most this many users/clients are named in one record (the count is always exact)."""
log = logging.getLogger("staff_view")


def _iso(epoch: float) -> str:
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class ServedWindow:
    """Counts of list data served since the window opened."""

    agreement: str
    purpose: str
    views: tuple[str, ...]
    clock: Callable[[], float] = time.time
    opened: float = 0.0
    responses: int = 0
    persons_total: int = 0
    persons_max: int = 0
    clients: set[str] = field(default_factory=set)
    alerts: set[str] = field(default_factory=set)
    lists: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.opened = self.clock()

    def add(self, document: dict[str, Any], client: str) -> None:
        """One ``/api/state`` answer to ``client`` (kept in memory only, as a count in the
        record); answers without any listed person are not a release and are not counted."""
        persons = int(document["totals"]["listed_persons"])
        if persons == 0:
            return
        self.responses += 1
        self.persons_total += persons
        self.persons_max = max(self.persons_max, persons)
        self.clients.add(client)
        for alert in document["alerts"]:
            self.alerts.add(str(alert["alert_id"]))
            self.lists.update(str(item["list_key"]) for item in alert["lists"])

    def close(self) -> dict[str, Any] | None:
        """The details of the window now ending (None if it served no list); a new one opens."""
        now = self.clock()
        details = None
        if self.responses:
            details = {
                "agreement": self.agreement,
                "purpose": self.purpose,
                "views": list(self.views),
                "window_start": _iso(self.opened),
                "window_end": _iso(now),
                "responses": self.responses,
                "clients": len(self.clients),
                "users": sorted(self.clients)[:MAX_USERS_NAMED],
                "persons_total": self.persons_total,
                "persons_max": self.persons_max,
                "alerts": sorted(self.alerts),
                "lists": len(self.lists),
            }
        self.opened, self.responses, self.persons_total, self.persons_max = now, 0, 0, 0
        self.clients, self.alerts, self.lists = set(), set(), set()
        return details


async def audit_served(window: ServedWindow, audit: AuditLog, actor: str) -> dict[str, Any] | None:
    """Close the window and write its ``view.served`` record (returned). An audit failure is
    logged, never raised: during a disaster the lists must stay on screen, so the page keeps
    serving (the local file keeps what it could write; an unwritable file loses the window)."""
    details = window.close()
    if details is None:
        return None
    try:
        await audit.record(KIND, actor=actor, details=details)
    except (AuditError, OSError) as exc:
        log.error("view.served audit record not fully written: %s", exc)
    return details
