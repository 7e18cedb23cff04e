"""Stop a worker that the consumer group has most likely dropped, before it can write late.

A worker cut off from the brokers (a network partition) keeps processing what it had fetched,
but cannot deliver; its heartbeats hang, so it does not learn that the group gave its
partitions to another worker. When the network heals, the producer retries what it still
holds, and those outputs and changelog records land *after* the new owner's: stale table
state for the next owner of the partition (docs/reliability.md, scenario i, bug 6). Kafka
fences such a "zombie" only with transactions, which faust's exactly-once mode does not do
reliably (PLATFORM-NOTES).

:class:`CoordinatorFence` watches when this process last heard from its group coordinator
(any response to a coordinator request: heartbeat, commit, join, sync). A member with partitions
that has heard nothing for ``limit`` seconds (0.8 of the session timeout: the group drops it at
the session timeout, and the new owner needs a rebalance more before it writes) exits at once,
code 1, with the reason: what it had not delivered is dropped with the process, its inputs are
uncommitted and are processed again by the new owner. The supervisor (systemd, Kubernetes)
starts it again; it rejoins once the brokers answer. A JoinGroup or SyncGroup waiting for a
rebalance counts as contact (it may rightly take long).
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
            rebalance = isinstance(request, _WAITING_ON_REBALANCE)
            if rebalance:
                self._renkei_rebalancing = getattr(self, "_renkei_rebalancing", 0) + 1
            try:
                response = await original(self, request)
            finally:
                if rebalance:
                    self._renkei_rebalancing -= 1
            self._renkei_contact = time.monotonic()
            return response

        GroupCoordinator._send_req = send_req
        _installed = True


def silence(coordinator: Any, now: float) -> float:
    """Seconds a joined member has not heard from its coordinator (0: not joined, or waiting
    on a rebalance, or heard from just now)."""
    if coordinator.member_id == JoinGroupRequest.UNKNOWN_MEMBER_ID:
        return 0.0
    if getattr(coordinator, "_renkei_rebalancing", 0) > 0:
        return 0.0
    last = getattr(coordinator, "_renkei_contact", None)
    return 0.0 if last is None else max(now - last, 0.0)


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
