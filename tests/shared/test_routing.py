"""Routing facts to regions, with the regions a resident's migrations were counted in."""

from __future__ import annotations

from typing import Any

from renkei.shared.routing import route_facts
from renkei.stages.region.migration import migration_history
from renkei.stages.region.state import region_targets

A, B, MUNI = "011011:0640941", "011011:0640952", "011011"


def _facts(seq: int, region: str | None, moves: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "resident_key": "000000000000007",
        "sequence": seq,
        "status": "residing" if region else "moved_out",
        "region_code": region,
        "migrations": [{"direction": d, "day": day, "region_code": r} for d, day, r in moves],
    }


def _route(entry: dict[str, Any] | None, facts: dict[str, Any]) -> tuple[Any, list[Any]]:
    new, messages = route_facts(entry, facts, region_targets, migration_history)
    return new, [(target, m["member"]) for target, m in messages]


def test_a_changed_move_reaches_the_region_it_was_counted_in_after_a_move_within() -> None:
    moved_in = [("in", "2026-04-15", A)]
    entry, sent = _route(None, _facts(1, A, moved_in))
    assert sent == [(A, True), (MUNI, True)]
    entry, sent = _route(entry, _facts(2, B, moved_in))  # 転居 to B
    assert sent == [(A, False), (B, True), (MUNI, True)]
    entry, sent = _route(entry, _facts(3, B, moved_in))  # a checkup: A is not bothered
    assert sent == [(B, True), (MUNI, True)]
    entry, sent = _route(entry, _facts(4, B, [("in", "2026-04-07", A)]))  # re-dated 転入
    assert sent == [(A, False), (B, True), (MUNI, True)]
    _, again = _route(entry, _facts(4, B, [("in", "2026-04-07", A)]))  # redelivered
    assert again == sent


def test_routing_without_history_is_unchanged() -> None:
    entry, messages = route_facts(None, _facts(1, A, []), region_targets)
    assert [t for t, _ in messages] == [A, MUNI]
    assert entry is not None and "history" not in entry
