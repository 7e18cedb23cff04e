"""The coordinator fence (runtime/fence.py): when a silent member must stop."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.consumer.group_coordinator import GroupCoordinator
from aiokafka.errors import KafkaConnectionError
from aiokafka.protocol.group import HeartbeatRequest, JoinGroupRequest

from renkei.runtime import fence
from renkei.runtime.fence import CoordinatorFence, silence

UNKNOWN = JoinGroupRequest.UNKNOWN_MEMBER_ID


class _Coordinator(SimpleNamespace):
    """Stands in for aiokafka's GroupCoordinator (weak-referenceable, hashable by identity)."""

    __hash__ = object.__hash__


def _member(**attrs: Any) -> Any:
    return _Coordinator(group_id="g", member_id="m-1", **attrs)


def _waiting(*since: float) -> dict[object, float]:
    return {object(): t for t in since}


def test_silence_is_the_age_of_the_oldest_unanswered_request_of_a_joined_member() -> None:
    assert silence(_member(_renkei_pending=_waiting(100.0, 105.0)), 112.0) == 12.0
    assert silence(_member(), 112.0) == 0.0  # nothing sent yet
    assert silence(_member(_renkei_pending={}), 112.0) == 0.0  # all answered
    unjoined = SimpleNamespace(member_id=UNKNOWN, _renkei_pending=_waiting(1.0))
    assert silence(unjoined, 112.0) == 0.0


def test_fence_names_the_group_and_the_limit_only_past_it() -> None:
    quiet = _member(_renkei_pending=_waiting(100.0))
    other = _Coordinator(group_id="other", member_id="m-2", _renkei_pending=_waiting(0.0))
    fence._coordinators.add(quiet)
    fence._coordinators.add(other)
    try:
        check = CoordinatorFence("g", limit=8.0)
        assert check.check(now=107.0) is None
        reason = check.check(now=109.0)
        assert reason is not None
        assert reason.startswith("g: no answer from the group coordinator for 9 s (limit 8 s")
        assert CoordinatorFence("nobody", limit=8.0).check(now=1e9) is None
    finally:
        fence._coordinators.discard(quiet)
        fence._coordinators.discard(other)


def test_the_wrapped_coordinator_tracks_requests_in_flight_but_not_rebalance_waits() -> None:
    fence._track_contact()
    seen: list[int] = []

    class Client:
        async def send(self, node_id: int, request: Any, group: Any = None) -> str:
            seen.append(len(getattr(coordinator, "_renkei_pending", {})))
            return "ok"

    class Broken:
        async def send(self, node_id: int, request: Any, group: Any = None) -> str:
            raise KafkaConnectionError("refused")

    coordinator: Any = _Coordinator(
        group_id="g", member_id="m-1", coordinator_id=1, _client=Client()
    )
    heartbeat = HeartbeatRequest("g", 1, "m-1")
    assert asyncio.run(GroupCoordinator._send_req(coordinator, heartbeat)) == "ok"
    join = JoinGroupRequest("g", 10_000, 60_000, "m-1", "", "consumer", [])
    assert asyncio.run(GroupCoordinator._send_req(coordinator, join)) == "ok"
    assert seen == [1, 0]  # the heartbeat was tracked while in flight, the join not
    assert coordinator._renkei_pending == {} and coordinator in fence._coordinators
    coordinator._client = Broken()
    coordinator.coordinator_dead = lambda: None
    with pytest.raises(KafkaConnectionError):
        asyncio.run(GroupCoordinator._send_req(coordinator, heartbeat))
    assert coordinator._renkei_pending == {}  # a request that failed at once leaves nothing


def test_the_thread_calls_exit_with_the_reason() -> None:
    quiet = _member(_renkei_pending=_waiting(0.0))
    fence._coordinators.add(quiet)
    reasons: list[str] = []
    called = threading.Event()

    def exit(reason: str) -> None:
        reasons.append(reason)
        called.set()

    try:
        CoordinatorFence("g", limit=1.0, interval=0.05, exit=exit).start()
        assert called.wait(5)
        assert "no answer from the group coordinator" in reasons[0]
    finally:
        fence._coordinators.discard(quiet)
