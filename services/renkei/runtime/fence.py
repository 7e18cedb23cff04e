"""Stop a worker that the consumer group has most likely dropped, before it can write late.

A worker cut off from the brokers (a network partition) keeps processing what it had fetched,
but cannot deliver; its heartbeats hang, so it does not learn that the group gave its
partitions to another worker. When the network heals, the producer retries what it still
holds, and those outputs and changelog records land *after* the new owner's: stale table
state for the next owner of the partition (docs/reliability.md, scenario i, bug 6). Kafka
fences such a "zombie" only with transactions, which faust's exactly-once mode does not do
reliably (PLATFORM-NOTES).

:class:`CoordinatorFence` watches the requests this process sends to its group coordinator
(heartbeats, commits, offset fetches). A joined member whose oldest such request has gone
unanswered for ``limit`` seconds (0.8 of the session timeout: the group drops a member at the
session timeout without a heartbeat, and the new owner needs a rebalance more before it writes)
exits at once, code 1, with the reason: what it had not delivered is dropped with the process,
its inputs are uncommitted and are processed again by the new owner. The supervisor (systemd,
Kubernetes) starts it again; it rejoins once the brokers answer.

Only a *hanging* request counts (a partition: packets vanish). Requests that fail at once (a
broker process killed, its port refusing) are not: aiokafka then looks the coordinator up again
and a coordinator that moved to another broker gives every member a fresh session (scenario c
kills brokers; an earlier version that counted any silence stopped the workers there). A
JoinGroup or SyncGroup may rightly wait for a whole rebalance and is not counted either.

Limits: a partition whose connections are reset rather than silent (requests fail at once) is
not detected; and requests already handed to the kernel before the exit can still reach the
broker by TCP retransmission if the network heals within the kernel's retry time for orphaned
sockets (about a minute on Linux defaults). Only producer fencing (transactions) closes those.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from aiokafka.consumer.group_coordinator import GroupCoordinator
from aiokafka.protocol.group import JoinGroupRequest, SyncGroupRequest

log = logging.getLogger(__name__)

EXIT_CODE = 1
_WAITING_ON_REBALANCE = (JoinGroupRequest, SyncGroupRequest)
_coordinators: weakref.WeakSet[Any] = weakref.WeakSet()
_installed = False
_install_lock = threading.Lock()


def _track_contact() -> None:
    """Wrap ``GroupCoordinator._send_req`` (once per process) to note each response time."""
    global _installed
    with _install_lock:
        if _installed:
            return
        original = GroupCoordinator._send_req

        async def send_req(self: Any, request: Any) -> Any:
            _coordinators.add(self)
            if isinstance(request, _WAITING_ON_REBALANCE):
                return await original(self, request)
            pending: dict[object, float] = self.__dict__.setdefault("_renkei_pending", {})
            token = object()
            pending[token] = time.monotonic()
            try:
                return await original(self, request)
            finally:
                pending.pop(token, None)

        GroupCoordinator._send_req = send_req
        _installed = True


def silence(coordinator: Any, now: float) -> float:
    """Seconds the oldest unanswered coordinator request of a joined member has been waiting
    (0: not joined, or nothing waiting; JoinGroup/SyncGroup are not tracked)."""
    if coordinator.member_id == JoinGroupRequest.UNKNOWN_MEMBER_ID:
        return 0.0
    pending: dict[object, float] = getattr(coordinator, "_renkei_pending", {})
    started = list(pending.values())
    return max(now - min(started), 0.0) if started else 0.0


class CoordinatorFence:
    """A daemon thread checking every ``interval`` seconds; ``exit`` is called with the reason
    (the default logs it and ends the process at once, undelivered outputs with it)."""

    def __init__(
        self,
        group: str,
        limit: float,
        *,
        interval: float = 0.5,
        exit: Callable[[str], None] | None = None,
    ):
        self.group = group
        self.limit = limit
        self.interval = interval
        self._exit = exit or _exit_now
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="renkei-fence", daemon=True)

    def start(self) -> CoordinatorFence:
        _track_contact()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def check(self, now: float | None = None) -> str | None:
        """The reason to stop, if a coordinator of this process has been silent too long."""
        now = time.monotonic() if now is None else now
        for coordinator in list(_coordinators):
            if coordinator.group_id != self.group:
                continue
            quiet = silence(coordinator, now)
            if quiet > self.limit:
                return (
                    f"{self.group}: no answer from the group coordinator for {quiet:.0f} s "
                    f"(limit {self.limit:.0f} s, 0.8 of the session timeout): the group has "
                    "most likely given this worker's partitions to another; stopping now so "
                    "that outputs not yet delivered are not written after the new owner's "
                    "(restart the worker; it rejoins once the brokers answer)"
                )
        return None

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            reason = self.check()
            if reason is not None:
                self._exit(reason)
                return


def _exit_now(reason: str) -> None:
    log.critical("%s", reason)
    logging.shutdown()
    os._exit(EXIT_CODE)
