"""Outputs of a redelivered input whose state change outlived its outputs.

A stage writes a table value (local RocksDB and changelog) and sends the outputs of the same
input; the input is committed only once the outputs are delivered. A worker killed in between
can leave the new state persisted while the outputs were never delivered: the input comes
again, the step finds its effect already applied, emits nothing, and the outputs are lost for
good (fault suite, scenario a). So every stored value names the input that last changed it
(``_source``: topic, partition, offset); when exactly that input comes again and changes
nothing, the step sends again what the state implies. Replaying the same events at new offsets
is not a redelivery and still emits nothing; a duplicate output is absorbed downstream (latest
value per key, revisions).

Limitation: only the last change of a key is re-sent. Outputs of an earlier change of the same
key that were lost with it (e.g. the removal from a household left by a move) are not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from renkei.stages.resident.dwelling import ADDRESS_SCOPE, NAMED_SCOPE
from renkei.stages.resident.flow import StepResult, Store
from renkei.stages.resident.household import HouseholdState, household_views
from renkei.stages.resident.profile import resident_outputs
from renkei.stages.resident.state import ResidentState

SOURCE_FIELD = "_source"

Position = list[Any]


class MarkedStore(MutableMapping[str, Any]):
    """A table whose writes record the position of the input being processed."""

    def __init__(self, table: Store, position: Position):
        self._table = table
        self._position = position

    def __getitem__(self, key: str) -> Any:
        return self._table[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._table[key] = {**value, SOURCE_FIELD: self._position}

    def __delitem__(self, key: str) -> None:
        del self._table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def get(self, key: str, default: Any = None) -> Any:
        return self._table.get(key, default)


def applied(
    table: Store,
    key: str,
    position: Position,
    handle: Callable[[Store], StepResult],
    replay: Callable[[dict[str, Any]], StepResult],
) -> StepResult:
    """``handle`` the input at ``position`` against ``table``; when it changes nothing and is
    the input that last changed ``key``, what ``replay`` re-sends instead."""
    stored = table.get(key)
    result = handle(MarkedStore(table, position))
    if result.state is None and stored and stored.get(SOURCE_FIELD) == position:
        return replay(stored)
    return result


def replay_resident(stored: dict[str, Any], trigger: dict[str, Any]) -> StepResult:
    """Both contract outputs of the resident (with the sequence they had when first sent), and
    its membership message as last sent."""
    state = ResidentState.from_dict(stored)
    before = dataclasses.replace(state, emitted={}, revision=max(state.revision - 1, 0))
    _, outputs = resident_outputs(before, trigger)
    messages = []
    for sent, extra in (
        (state.household_sent or {}, {}),
        (state.address_sent or {}, {"scope": ADDRESS_SCOPE}),
    ):
        if sent.get("key"):
            message = {
                "resident_key": state.resident_key,
                "rev": sent.get("rev", 1),
                "trigger": trigger,
                "household_key": sent["key"],
                "member": sent.get("member"),
                **extra,
            }
            messages.append((str(sent["key"]), message))
    named = state.named_sent or {}
    for key in named.get("keys", []):
        value = {
            "scope": NAMED_SCOPE,
            "applicant": state.resident_key,
            "protected": bool(named.get("protected")),
            "rev": named.get("rev", 1),
            "trigger": trigger,
        }
        messages.append((key, value))
    return StepResult(outputs=outputs, messages=messages)


def replay_household(stored: dict[str, Any], trigger: dict[str, Any]) -> StepResult:
    """The current view, to every member of the household."""
    household = HouseholdState.from_dict(stored)
    _, views = household_views(dataclasses.replace(household, view_digest=None), trigger)
    return StepResult(messages=views)
