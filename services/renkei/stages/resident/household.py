"""Household view (世帯): how many residing members, a child under 15, only people aged 75+.

Why a separate step, keyed by household. ``household_size``, ``lives_alone`` and
``has_child_under_15`` describe *other* residents than the one an event is about, and the
resident stage's tables are keyed (and partitioned) by ``resident_key``: a lookup of the other
members would hit partitions this worker may not own (faust then silently answers the default).
So inside the resident stage, each resident announces its membership — household key, age,
head or not — to an internal topic keyed by household (``<municipality code>:<世帯番号>``:
a 世帯番号 is unique within one municipality or ward). One table entry per household collects
its members and, whenever the view (size, child under 15, all 75+) changes, sends it back to
each member on an internal topic keyed by ``resident_key``; the resident applies it and emits
its outputs again if they changed. The loop ends because a view changes residents' outputs,
never their membership.

Until the first view arrives a resident counts as a household of one whose other facts come
from the care certification (``lives_alone``, as the welfare department records it).

Idempotency: membership messages carry a per-resident revision; a household ignores one that is
not newer than what it holds for that resident (removals are remembered too). A resident
ignores a view of a household it no longer belongs to.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from renkei.shared.values import digest
from renkei.stages.resident.dwelling import address_group_view, is_address_group
from renkei.stages.resident.state import RegistryView, ResidentState

CHILD_AGE = 15
ELDERLY_AGE = 75

Message = tuple[str, dict[str, Any]]
"""(Kafka key, JSON value) of an internal message."""


def household_key(view: RegistryView) -> str | None:
    """``<municipality code>:<household number>`` of a residing resident, else None."""
    if view.status != "residing" or not view.household or not view.municipality_code:
        return None
    return f"{view.municipality_code}:{view.household['household_number']}"


def membership(state: ResidentState) -> tuple[str | None, dict[str, Any] | None]:
    """The household this resident belongs to and what the household needs to know of it."""
    key = household_key(state.view)
    if key is None or state.view.household is None:
        return None, None
    return key, {"age": state.age(), "is_head": bool(state.view.household.get("is_head"))}


def announce_membership(
    state: ResidentState, trigger: dict[str, Any]
) -> tuple[ResidentState, list[Message]]:
    """Membership messages for the household step when this resident's membership changed:
    a removal from the old household and/or an upsert into the current one."""
    key, member = membership(state)
    sent = state.household_sent or {}
    if sent.get("key") == key and sent.get("member") == member:
        return state, []
    revision = int(sent.get("rev", 0)) + 1
    base = {"resident_key": state.resident_key, "rev": revision, "trigger": trigger}
    messages: list[Message] = []
    old_key = sent.get("key")
    if old_key and old_key != key:
        messages.append((old_key, {**base, "household_key": old_key, "member": None}))
    if key is not None:
        messages.append((key, {**base, "household_key": key, "member": member}))
    view = state.household_view if old_key == key else None
    new_sent = {"key": key, "member": member, "rev": revision}
    return dataclasses.replace(state, household_sent=new_sent, household_view=view), messages


def apply_household_view(state: ResidentState, view: dict[str, Any]) -> ResidentState:
    """State with this household view, unless it is of another household or already held."""
    current = (state.household_sent or {}).get("key")
    if view.get("household_key") != current:
        return state
    fields = {k: view[k] for k in ("household_key", "size", "has_child_under_15", "all_75_plus")}
    if state.household_view == fields:
        return state
    return dataclasses.replace(state, household_view=fields)


@dataclass(frozen=True)
class HouseholdState:
    """The residing members of one household (JSON-serializable)."""

    household_key: str
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    """resident_key → revision of its removal, so a redelivered older upsert is ignored."""
    view_digest: str | None = None

    def view(self) -> dict[str, Any]:
        ages = [m.get("age") for m in self.members.values()]
        known = [a for a in ages if a is not None]
        return {
            "household_key": self.household_key,
            "size": len(self.members),
            "has_child_under_15": any(a < CHILD_AGE for a in known),
            "all_75_plus": bool(ages)
            and len(known) == len(ages)
            and all(a >= ELDERLY_AGE for a in known),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "household_key": self.household_key,
            "members": self.members,
            "removed": self.removed,
            "view_digest": self.view_digest,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HouseholdState:
        return cls(
            household_key=data["household_key"],
            members=dict(data.get("members") or {}),
            removed={k: int(v) for k, v in (data.get("removed") or {}).items()},
            view_digest=data.get("view_digest"),
        )


def _last_revision(household: HouseholdState, resident_key: str) -> int:
    if resident_key in household.members:
        return int(household.members[resident_key]["rev"])
    return household.removed.get(resident_key, 0)


def apply_membership(household: HouseholdState, message: dict[str, Any]) -> HouseholdState:
    """Household with one membership message applied; the same object when it is stale."""
    resident_key = message["resident_key"]
    revision = int(message["rev"])
    if revision <= _last_revision(household, resident_key):
        return household
    members = dict(household.members)
    removed = dict(household.removed)
    if message["member"] is None:
        members.pop(resident_key, None)
        removed[resident_key] = revision
    else:
        members[resident_key] = {**message["member"], "rev": revision}
        removed.pop(resident_key, None)
    return dataclasses.replace(household, members=members, removed=removed)


def household_views(
    household: HouseholdState, trigger: dict[str, Any], joined: str | None = None
) -> tuple[HouseholdState, list[Message]]:
    """The view for every member (keyed by resident_key) when it changed since last sent.

    The same table holds address groups (``dwelling.py``): their view says whether anyone at
    the address is protected, and a member that just ``joined`` gets it even when unchanged
    (its outputs wait for it)."""
    address = is_address_group(household.household_key)
    if address:
        view = address_group_view(household.household_key, household.members)
    else:
        view = household.view()
    view_digest = digest(view)
    if view_digest == household.view_digest:
        if address and joined is not None and joined in household.members:
            return household, [(joined, {**view, "trigger": trigger})]
        return household, []
    messages = [(key, {**view, "trigger": trigger}) for key in sorted(household.members)]
    return dataclasses.replace(household, view_digest=view_digest), messages
