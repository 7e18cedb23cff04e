"""Redelivery of an input whose state change was persisted but whose outputs were lost."""

from __future__ import annotations

from typing import Any

from renkei.stages.resident import flow as resident_flow
from renkei.stages.resident import redelivery
from tests.stages import factories as f

RESIDENT = "000000000000301"


def _registry(table: dict[str, Any], event: dict[str, Any], offset: int) -> Any:
    trigger = resident_flow.trigger_of(event, event_type=str(event["event_type"]))
    return redelivery.applied(
        table,
        RESIDENT,
        ["std.registry.resident.events", 0, offset],
        lambda store: resident_flow.handle_registry_event(store, event),
        lambda stored: redelivery.replay_resident(stored, trigger),
    )


def _view(table: dict[str, Any], view: dict[str, Any], offset: int) -> Any:
    trigger = dict(view["trigger"])
    return redelivery.applied(
        table,
        RESIDENT,
        ["renkei-resident-household-views", 0, offset],
        lambda store: resident_flow.handle_household_view(store, RESIDENT, view),
        lambda stored: redelivery.replay_resident(stored, trigger),
    )


def test_the_input_that_last_changed_the_state_sends_its_outputs_again() -> None:
    table: dict[str, Any] = {}
    event = f.moved_in(RESIDENT, "2026-04-01", 1, hh=f.household("0000000301"))
    moved = _registry(table, event, 7)
    assert moved.outputs == []  # held until the address group answers (dwelling.py)
    (address_key,) = [k for k, m in moved.messages if m.get("scope") == "address"]
    answer = {"household_key": address_key, "scope": "address", "protected": False}
    answer["trigger"] = resident_flow.trigger_of(event, event_type="moved_in")
    first = _view(table, answer, 3)
    assert {topic for topic, _ in first.outputs} == {"unified.resident", "internal.resident.facts"}
    assert table[RESIDENT][redelivery.SOURCE_FIELD] == ["renkei-resident-household-views", 0, 3]

    again = _view(table, answer, 3)  # redelivered after a crash: same position
    assert [t for t, _ in again.outputs] == [t for t, _ in first.outputs]
    assert [d for _, d in again.outputs] == [d for _, d in first.outputs]
    assert {k for k, _ in again.messages} >= {k for k, _ in moved.messages}
    assert again.state is None  # nothing new stored


def test_a_replay_at_new_offsets_still_sends_nothing() -> None:
    table: dict[str, Any] = {}
    event = f.moved_in(RESIDENT, "2026-04-01", 1, hh=f.household("0000000301"))
    _registry(table, event, 7)
    replayed = _registry(table, event, 99)
    assert replayed.outputs == [] and replayed.messages == []


def test_the_household_sends_its_view_again_to_every_member() -> None:
    table: dict[str, Any] = {}
    key = "011011:0000000301"
    messages = [
        {"resident_key": r, "rev": 1, "household_key": key, "member": {"age": 40, "is_head": h}}
        for r, h in (("000000000000301", True), ("000000000000302", False))
    ]
    trigger = {"event_id": "e"}
    views = []
    for offset, message in enumerate(messages):
        message["trigger"] = trigger
        views.append(
            redelivery.applied(
                table,
                key,
                ["members", 0, offset],
                lambda store, m=message: resident_flow.handle_membership(store, m),
                lambda stored: redelivery.replay_household(stored, trigger),
            )
        )
    again = redelivery.applied(
        table,
        key,
        ["members", 0, 1],
        lambda store: resident_flow.handle_membership(store, messages[1]),
        lambda stored: redelivery.replay_household(stored, trigger),
    )
    assert [k for k, _ in again.messages] == ["000000000000301", "000000000000302"]
    assert again.messages == views[-1].messages
