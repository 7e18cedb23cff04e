"""The resident stage's steps, one per input kind, as pure functions over the table values.

Each step takes the stored state (a JSON dict or None) and one input, and returns what the
faust adapter must store and send: the new state dict (None: unchanged, nothing to store), the
contract outputs (``unified.resident``, ``internal.resident.facts``) and the internal
messages (membership → household step, household views → residents).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from renkei.shared.values import json_form
from renkei.stages.resident.dwelling import (
    ADDRESS_SCOPE,
    NAMED_SCOPE,
    announce_address,
    announce_named,
    apply_address_view,
    apply_named,
)
from renkei.stages.resident.household import (
    HouseholdState,
    Message,
    announce_membership,
    apply_household_view,
    apply_membership,
    household_views,
)
from renkei.stages.resident.profile import resident_outputs
from renkei.stages.resident.reorganisation import CodesInForce, rekey, rekey_trigger
from renkei.stages.resident.state import ResidentState, apply_care, apply_checkup, apply_registry

Apply = Callable[[ResidentState, dict[str, Any]], ResidentState]


@dataclass(frozen=True)
class StepResult:
    """What one input changes: state to store (None: nothing), records to send."""

    state: dict[str, Any] | None = None
    outputs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(contract topic, Avro datum) keyed by the resident_key."""
    messages: list[Message] = field(default_factory=list)
    """(key, JSON value) for the internal topic of the step that follows."""


def trigger_of(event: dict[str, Any], *, event_type: str | None = None) -> dict[str, Any]:
    """The JSON envelope of the input that causes an output (carried into derived records)."""
    data = json_form(
        {k: event[k] for k in ("event_id", "municipality_code", "effective_date", "recorded_at")}
    )
    data["event_type"] = event_type
    return dict(data)


def _load(stored: dict[str, Any] | None, resident_key: str) -> ResidentState:
    return ResidentState.from_dict(stored) if stored else ResidentState(resident_key=resident_key)


def _finish(before: ResidentState, after: ResidentState, trigger: dict[str, Any]) -> StepResult:
    """Announce memberships (household, address group, named persons) and build outputs
    after ``after`` was derived from ``before``."""
    after, messages = announce_membership(after, trigger)
    after, to_address = announce_address(after, trigger)
    after, to_named = announce_named(after, trigger)
    messages = messages + to_address + to_named
    after, outputs = resident_outputs(after, trigger)
    if after is before:
        return StepResult()
    return StepResult(state=after.to_dict(), outputs=outputs, messages=messages)


def _step(
    stored: dict[str, Any] | None,
    resident_key: str,
    apply: Apply,
    event: dict[str, Any],
    trigger: dict[str, Any],
) -> StepResult:
    before = _load(stored, resident_key)
    after = apply(before, event)
    if after is before:
        return StepResult()  # already applied, or older than what is held: nothing changes
    return _finish(before, after, trigger)


def on_registry_event(stored: dict[str, Any] | None, event: dict[str, Any]) -> StepResult:
    """A ``std.registry.resident.events`` datum for this resident."""
    trigger = trigger_of(event, event_type=str(event["event_type"]))
    return _step(stored, event["resident_key"], apply_registry, event, trigger)


def on_checkup(stored: dict[str, Any] | None, event: dict[str, Any]) -> StepResult:
    """A ``std.health.checkup.results`` datum for this resident."""
    return _step(stored, event["resident_key"], apply_checkup, event, trigger_of(event))


def on_care_certification(stored: dict[str, Any] | None, event: dict[str, Any]) -> StepResult:
    """A ``std.welfare.care.certifications`` datum for this resident."""
    return _step(stored, event["resident_key"], apply_care, event, trigger_of(event))


def on_household_view(
    stored: dict[str, Any] | None, resident_key: str, view: dict[str, Any]
) -> StepResult:
    """A message of the household-views topic for this resident: a household view, an
    address group's view, or a naming by a protected applicant (``dwelling.py``)."""
    scope = view.get("scope")
    if scope == NAMED_SCOPE:  # may come before the resident's own first event: kept then
        before = _load(stored, resident_key)
        after = apply_named(before, view)
        if after is before:
            return StepResult()
        if not stored:
            return StepResult(state=after.to_dict())
        return _finish(before, after, dict(view["trigger"]))
    if not stored:
        return StepResult()
    before = ResidentState.from_dict(stored)
    if scope == ADDRESS_SCOPE:
        after = apply_address_view(before, view)
    else:
        after = apply_household_view(before, view)
    if after is before:
        return StepResult()
    return _finish(before, after, dict(view["trigger"]))


def on_reorganisation(
    stored: dict[str, Any] | None, resident_key: str, codes: CodesInForce, recorded_at: str
) -> StepResult:
    """A municipal change in effect (``reorganisation.py``): the resident re-keyed to today's
    region code, its outputs re-emitted; nothing when its region is still in force."""
    if not stored:
        return StepResult()
    before = ResidentState.from_dict(stored)
    after = rekey(before, codes)
    if after is before or after.rekeyed is None:
        return StepResult()
    trigger = rekey_trigger(resident_key, str(after.rekeyed["to"]), codes, recorded_at)
    return _finish(before, after, trigger)


def on_membership(stored: dict[str, Any] | None, message: dict[str, Any]) -> StepResult:
    """A membership message for one household (the household step's table value)."""
    key = message["household_key"]
    before = HouseholdState.from_dict(stored) if stored else HouseholdState(household_key=key)
    after = apply_membership(before, message)
    if after is before:
        return StepResult()
    joined = str(message["resident_key"]) if message.get("member") is not None else None
    after, views = household_views(after, dict(message["trigger"]), joined)
    return StepResult(state=after.to_dict(), messages=views)


Store = MutableMapping[str, Any]
"""A table: a faust Table in the stage, a dict in tests."""


def _saved(store: Store, key: str, result: StepResult) -> StepResult:
    if result.state is not None:
        store[key] = result.state
    return result


def handle_registry_event(residents: Store, event: dict[str, Any]) -> StepResult:
    """Apply a std registry event to the resident table; what to send."""
    key = str(event["resident_key"])
    return _saved(residents, key, on_registry_event(residents.get(key), event))


def handle_checkup(residents: Store, event: dict[str, Any]) -> StepResult:
    """Apply a std checkup result to the resident table; what to send."""
    key = str(event["resident_key"])
    return _saved(residents, key, on_checkup(residents.get(key), event))


def handle_care_certification(residents: Store, event: dict[str, Any]) -> StepResult:
    """Apply a std care certification to the resident table; what to send."""
    key = str(event["resident_key"])
    return _saved(residents, key, on_care_certification(residents.get(key), event))


def handle_household_view(residents: Store, resident_key: str, view: dict[str, Any]) -> StepResult:
    """Apply a household view to the resident table; what to send."""
    result = on_household_view(residents.get(resident_key), resident_key, view)
    return _saved(residents, resident_key, result)


def handle_reorganisation(
    residents: Store, resident_key: str, codes: CodesInForce, recorded_at: str
) -> StepResult:
    """Re-key one resident of the table to today's region code; what to send."""
    result = on_reorganisation(residents.get(resident_key), resident_key, codes, recorded_at)
    return _saved(residents, resident_key, result)


def handle_membership(households: Store, message: dict[str, Any]) -> StepResult:
    """Apply a membership message to the household table; the views to send."""
    key = str(message["household_key"])
    return _saved(households, key, on_membership(households.get(key), message))
