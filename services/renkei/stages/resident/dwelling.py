"""Who a 支援措置 (DV etc. support measure) covers: everyone at the protected address, whatever
their 世帯, plus the persons named with the applicant (併せて支援を求める者).

Why groups by address. The registry flags the applicant (and usually the named persons); the
others who live at the same address — a mother in her own household after 世帯分離, a new
partner — are not flagged, yet their records carry the very address the measure hides. So the
resident stage, keyed by resident_key, cannot decide alone: like the household step
(``household.py``), each resident announces its membership of an **address group** on the
household-members topic, keyed ``addr:<municipality code>:<digest of the address>``, with
whether it is itself protected; the group answers on the household-views topic with whether
anyone at the address is protected, to every member when that changes and always to a member
that just joined.

Before the first output. A resident's outputs are *held* until the answer for its current
address has come back (``output_protection`` returns None), so a person moving into a protected
address never has a record with that address, not even for the seconds until the answer
arrives; and the address is *withheld* (as for a protected person) while the registry has
stated no protection status for it (``RegistryView.protection_stated``: the ``protection``
field of the event that introduced it, or a protection_set / protection_lifted).

Named persons. A protection_set may name other residents (``named_resident_keys``); the
applicant sends each of them, on the household-views topic keyed by their resident_key, whether
its protection is in force; a named person is protected while any applicant naming it is.

The address digest is an internal key (never in an output): the standardized 町域 region, 丁目,
rest and building, NFKC with spaces removed and 番/号/の/dashes unified, so two spellings of one
address from the standardize stage meet in one group.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from typing import Any

from renkei.stages.resident.state import RegistryView, ResidentState

ADDRESS_SCOPE = "address"
NAMED_SCOPE = "named"
ADDRESS_PREFIX = "addr:"

Message = tuple[str, dict[str, Any]]

_DASHES = re.compile(r"[\-‐‑‒–—―−ーｰ－﹣]|番地|番|の")
_SPACES = re.compile(r"\s+")


def _canonical(part: Any) -> str:
    text = unicodedata.normalize("NFKC", str(part or ""))
    text = _SPACES.sub("", text).replace("号", "")
    return _DASHES.sub("-", text).strip("-")


def address_key(view: RegistryView) -> str | None:
    """``addr:<municipality>:<digest>`` of the address the resident's record shows, else None."""
    address = view.address
    if not address:
        return None
    parts = [
        address.get("region_code"),
        address.get("town"),
        address.get("chome"),
        address.get("rest"),
        address.get("building"),
    ]
    text = "|".join(_canonical(p) for p in parts)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
    municipality = address.get("municipality_code") or view.municipality_code or ""
    return f"{ADDRESS_PREFIX}{municipality}:{digest}"


def is_address_group(group_key: str) -> bool:
    return group_key.startswith(ADDRESS_PREFIX)


def own_protection(state: ResidentState) -> bool:
    """Protected as the applicant or as a person named by a protection in force."""
    return state.view.protected or any(bool(n.get("protected")) for n in state.named_by.values())


def output_protection(state: ResidentState) -> tuple[bool, bool] | None:
    """(covered, withheld) for the outputs, or None to hold them: the address group has not
    answered for the current address yet. ``covered``: under a 支援措置 (own, named, or at a
    protected address); ``withheld``: the address stays out of every output (covered, or no
    status stated for the address)."""
    key = address_key(state.view)
    own = own_protection(state)
    if key is None:
        return own, own or not state.view.protection_stated
    view = state.address_view
    if view is None or view.get("household_key") != key:
        return None
    covered = own or bool(view.get("protected"))
    return covered, covered or not state.view.protection_stated


def announce_address(
    state: ResidentState, trigger: dict[str, Any]
) -> tuple[ResidentState, list[Message]]:
    """Membership messages for the address group when the address or own protection changed:
    a removal from the old group and/or an upsert into the current one."""
    key = address_key(state.view)
    member = None if key is None else {"protected": own_protection(state)}
    sent = state.address_sent or {}
    if sent.get("key") == key and sent.get("member") == member:
        return state, []
    revision = int(sent.get("rev", 0)) + 1
    base = {
        "resident_key": state.resident_key,
        "rev": revision,
        "trigger": trigger,
        "scope": ADDRESS_SCOPE,
    }
    messages: list[Message] = []
    old_key = sent.get("key")
    if old_key and old_key != key:
        messages.append((old_key, {**base, "household_key": old_key, "member": None}))
    if key is not None:
        messages.append((key, {**base, "household_key": key, "member": member}))
    view = state.address_view if old_key == key else None
    new_sent = {"key": key, "member": member, "rev": revision}
    return dataclasses.replace(state, address_sent=new_sent, address_view=view), messages


def address_group_view(group_key: str, members: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What an address group tells its members: is anyone at the address protected."""
    protected = any(bool(m.get("protected")) for m in members.values())
    return {"household_key": group_key, "scope": ADDRESS_SCOPE, "protected": protected}


def apply_address_view(state: ResidentState, view: dict[str, Any]) -> ResidentState:
    """State with this address view, unless it is of another address or already held."""
    current = (state.address_sent or {}).get("key")
    if view.get("household_key") != current:
        return state
    fields = {"household_key": current, "protected": bool(view.get("protected"))}
    if state.address_view == fields:
        return state
    return dataclasses.replace(state, address_view=fields)


def announce_named(
    state: ResidentState, trigger: dict[str, Any]
) -> tuple[ResidentState, list[Message]]:
    """Messages to the persons this resident's protection names (and to those it no longer
    names) when the names or the protection changed."""
    names = sorted(set(state.view.named_resident_keys) - {state.resident_key})
    protected = state.view.protected
    sent = state.named_sent or {"keys": [], "protected": False, "rev": 0}
    if sent["keys"] == names and (sent["protected"] == protected or not names):
        return state, []
    revision = int(sent["rev"]) + 1
    messages: list[Message] = []
    for key in sorted(set(names) | set(sent["keys"])):
        value = {
            "scope": NAMED_SCOPE,
            "applicant": state.resident_key,
            "protected": protected and key in names,
            "rev": revision,
            "trigger": trigger,
        }
        messages.append((key, value))
    new_sent = {"keys": names, "protected": protected, "rev": revision}
    return dataclasses.replace(state, named_sent=new_sent), messages


def apply_named(state: ResidentState, message: dict[str, Any]) -> ResidentState:
    """State with an applicant's naming applied; the same object when stale."""
    applicant = str(message["applicant"])
    held = state.named_by.get(applicant)
    revision = int(message["rev"])
    if held is not None and revision <= int(held["rev"]):
        return state
    named_by = {
        **state.named_by,
        applicant: {"protected": bool(message["protected"]), "rev": revision},
    }
    return dataclasses.replace(state, named_by=named_by)
