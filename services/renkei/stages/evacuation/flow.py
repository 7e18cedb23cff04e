"""The evacuation stage's steps over its table values.

Inputs reach the region-keyed step through one internal topic (key: region or municipality):
- routed facts (``routing.route_facts`` with ``evacuation_targets``);
- alerts, fanned out by :func:`route_alert` from ``std.disaster.area.alerts`` (keyed by area):
  one message per targeted 町域 region; a whole-municipality alert (or a target that is a
  6-digit municipality/ward code) is *broadcast* to every partition of the internal topic,
  because the regions of a municipality are spread over all of them. Each partition keeps an
  index entry per (municipality, partition) — the regions it holds and the municipality-wide
  alerts — so it applies the alert to every region it knows, and a region it first sees later
  still gets the alert (every region of that municipality the stage knows).

Tables: routing (resident_key), alert routing (alert_id, in the partition of the alert's area
key), and the region-keyed values: :class:`EvacuationRegion` under the region code, member
entries under :func:`member_key`, heads under :func:`head_key`, index under :func:`index_key`.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from renkei.shared.routing import Message, route_facts
from renkei.shared.values import as_order_key, json_form, municipality_of, order_key
from renkei.stages.evacuation.lists import (
    EvacuationRegion,
    MemberChange,
    alert_entry,
    apply_alert,
    apply_member,
    evacuation_targets,
    facts_read,
    head_of_household,
    households_to_look_up,
    refresh_lists,
    scope_and_regions,
)

LookupHead = Callable[[str], dict[str, Any] | None]
"""household number → head entry stored for this region (None when unknown)."""


def member_key(region_code: str, resident_key: str) -> str:
    return f"{region_code}|member|{resident_key}"


def head_key(region_code: str, household_number: str) -> str:
    return f"{region_code}|head|{household_number}"


def index_key(municipality_code: str, partition: int) -> str:
    return f"index|{municipality_code}|{partition}"


def _with_municipalities(scopes: list[str], regions: list[str]) -> list[str]:
    """The 町域 regions plus the municipality-level region of each (where protected persons
    are listed), unless that municipality is a broadcast scope already."""
    municipalities = [municipality_of(r) for r in regions if municipality_of(r) not in scopes]
    return list(dict.fromkeys([*regions, *municipalities]))


AlertSend = tuple[str, int | None, dict[str, Any]]
"""(key, explicit partition or None, JSON value) on the internal topic."""


def route_alert(
    entry: dict[str, Any] | None, alert: dict[str, Any], partitions: int
) -> tuple[dict[str, Any] | None, list[AlertSend]]:
    """Fan one alert event out to its regions; withdrawn targets of an update get a lift."""
    alert = json_form(alert)
    order = list(order_key(alert))
    if entry is not None and as_order_key(order) < as_order_key(entry["order"]):
        return None, []
    scopes, regions = scope_and_regions(alert)
    regions = _with_municipalities(scopes, regions)
    old_scopes = [s for s in (entry or {}).get("scopes", []) if s not in scopes]
    old_regions = [r for r in (entry or {}).get("regions", []) if r not in regions]
    sends: list[AlertSend] = []
    for region, withdrawn in [(r, False) for r in regions] + [(r, True) for r in old_regions]:
        value = {"kind": "alert", "region_code": region, "alert": alert, "withdrawn": withdrawn}
        sends.append((region, None, value))
    for scope, withdrawn in [(s, False) for s in scopes] + [(s, True) for s in old_scopes]:
        value = {
            "kind": "municipality_alert",
            "municipality_code": scope,
            "alert": alert,
            "withdrawn": withdrawn,
        }
        sends += [(scope, p, value) for p in range(partitions)]
    new_entry = {"order": order, "scopes": scopes, "regions": regions}
    return new_entry, sends


@dataclass(frozen=True)
class EvacuationResult:
    """Table values to store (None: delete the key) and list records to send (key list_key)."""

    store: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    outputs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    index: dict[str, Any] | None = None
    """New value of this partition's municipality index entry (None: unchanged)."""


def _load(stored: dict[str, Any] | None, region_code: str) -> EvacuationRegion:
    return (
        EvacuationRegion.from_dict(stored) if stored else EvacuationRegion(region_code=region_code)
    )


def _head_names(region: EvacuationRegion, lookup: LookupHead) -> dict[str, str | None]:
    names: dict[str, str | None] = {}
    for household in households_to_look_up(region):
        head = lookup(household)
        names[household] = head.get("name") if head else None
    return names


def _lists_unaffected(
    before: EvacuationRegion,
    change: MemberChange,
    heads: dict[str, dict[str, Any] | None],
    message: dict[str, Any],
) -> bool:
    """Whether a member change leaves the region's candidates as they were and changes no
    head entry a list shows (then no list can change)."""
    resident_key = message["resident_key"]
    if before.candidates.get(resident_key) != change.region.candidates.get(resident_key):
        return False
    changed = {hh for hh, head in change.heads.items() if heads.get(hh) != head}
    return not changed or not changed.intersection(households_to_look_up(before))


def _refreshed(
    region: EvacuationRegion,
    lookup: LookupHead,
    override: bool,
    trigger: dict[str, Any] | None,
    store: dict[str, dict[str, Any] | None],
    index: dict[str, Any] | None = None,
) -> EvacuationResult:
    # Head names are read (one table lookup per candidate household) only for active alerts:
    # a lifted alert's list is empty and names no one.
    active = any(alert["active"] for alert in region.alerts.values())
    names = _head_names(region, lookup) if active else {}
    region, outputs = refresh_lists(region, names, override, trigger)
    store = {**store, region.region_code: region.to_dict()}
    return EvacuationResult(store=store, outputs=outputs, index=index)


def on_alert_for_region(
    stored: dict[str, Any] | None,
    region_code: str,
    entry: dict[str, Any],
    lookup: LookupHead,
    override: bool,
) -> EvacuationResult:
    """Apply one alert state (``alert_entry``) to a region and emit changed lists."""
    before = _load(stored, region_code)
    after = apply_alert(before, entry)
    if after is before:
        return EvacuationResult()
    return _refreshed(after, lookup, override, None, {})


def on_alert_message(
    stored: dict[str, Any] | None, message: dict[str, Any], lookup: LookupHead, override: bool
) -> EvacuationResult:
    """An ``alert`` message addressed to one 町域 region."""
    entry = alert_entry(message["alert"], withdrawn=bool(message["withdrawn"]))
    return on_alert_for_region(stored, message["region_code"], entry, lookup, override)


def on_municipality_alert(
    index: dict[str, Any] | None, message: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any], list[str]]:
    """(new index or None, alert entry, regions of this partition to apply it to)."""
    entry = alert_entry(message["alert"], withdrawn=bool(message["withdrawn"]))
    index = index or {"regions": [], "alerts": {}}
    held = index["alerts"].get(entry["alert_id"])
    if held is not None and as_order_key(entry["order"]) <= as_order_key(held["order"]):
        return None, entry, []
    new_index = {
        "regions": index["regions"],
        "alerts": {**index["alerts"], entry["alert_id"]: entry},
    }
    return new_index, entry, list(index["regions"])


def on_member_message(
    stored: dict[str, Any] | None,
    member: dict[str, Any] | None,
    index: dict[str, Any] | None,
    message: dict[str, Any],
    lookup: LookupHead,
    override: bool,
) -> EvacuationResult:
    """A routed facts message for region ``message['target']``.

    ``index`` is this partition's index entry of the region's municipality: a region seen for
    the first time is added to it and receives the municipality-wide alerts it holds."""
    region_code = message["target"]
    before = _load(stored, region_code)
    households = {(member or {}).get("head_of"), message["facts"].get("household_number")}
    heads = {hh: lookup(hh) for hh in households if hh}
    change = apply_member(before, member, message, heads)
    if change is None:
        return EvacuationResult()
    region = change.region
    store: dict[str, dict[str, Any] | None] = {
        member_key(region_code, message["resident_key"]): change.member,
        **{head_key(region_code, hh): head for hh, head in change.heads.items()},
    }
    index = index or {"regions": [], "alerts": {}}
    if region_code in index["regions"] and _lists_unaffected(before, change, heads, message):
        # Most residents are no candidate: their facts change neither the candidates nor a
        # head name a list shows, so the region value (every candidate of the region) is
        # neither rewritten nor its lists rebuilt: the same outcome without O(candidates) work.
        return EvacuationResult(store=store)
    new_index = None
    if region_code not in index["regions"]:
        new_index = {"regions": [*index["regions"], region_code], "alerts": index["alerts"]}
        for alert in index["alerts"].values():
            region = apply_alert(region, alert)

    def lookup_pending(household: str) -> dict[str, Any] | None:
        if household in change.heads:
            return change.heads[household]
        return lookup(household)

    trigger = {
        k: message["facts"].get(k)
        for k in ("event_id", "municipality_code", "effective_date", "recorded_at", "event_type")
    }
    trigger["resident_key"] = message["resident_key"]
    return _refreshed(region, lookup_pending, override, trigger, store, new_index)


Store = MutableMapping[str, Any]
"""A table: a faust Table in the stage, a dict in tests."""


def handle_facts(routing: Store, facts: dict[str, Any]) -> list[Message]:
    """Route one ``internal.resident.facts`` datum: [(region, message)] to send — none for
    a record that changes nothing the stage reads (``lists.facts_read``)."""
    key = str(facts["resident_key"])
    entry, messages = route_facts(routing.get(key), facts, evacuation_targets, reads=facts_read)
    if entry is not None:
        routing[key] = entry
    return [(target, {**value, "kind": "member"}) for target, value in messages]


def handle_alert(alerts: Store, alert: dict[str, Any], partitions: int) -> list[AlertSend]:
    """Fan one ``std.disaster.area.alerts`` datum out: [(key, partition, message)] to send."""
    key = str(alert["alert_id"])
    entry, sends = route_alert(alerts.get(key), alert, partitions)
    if entry is not None:
        alerts[key] = entry
    return sends


def _save(regions: Store, result: EvacuationResult) -> list[tuple[str, dict[str, Any]]]:
    for key, value in result.store.items():
        if value is None:
            regions.pop(key, None)
        else:
            regions[key] = value
    return result.outputs


def handle_region_message(
    regions: Store, message: dict[str, Any], partition: int, override: bool
) -> list[tuple[str, dict[str, Any]]]:
    """Apply one message of the internal topic (read from ``partition``) to the region table;
    the ``derived.evacuation-support`` records to send, keyed by list key."""
    kind = message["kind"]
    if kind == "municipality_alert":
        return _municipality_alert(regions, message, partition, override)
    region_code = str(message["target"] if kind == "member" else message["region_code"])

    def lookup(household: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = regions.get(head_key(region_code, household))
        return value

    if kind == "alert":
        return _save(regions, on_alert_message(regions.get(region_code), message, lookup, override))
    index_at = index_key(municipality_of(region_code), partition)
    member_at = member_key(region_code, message["resident_key"])
    stored_member, index = regions.get(member_at), regions.get(index_at)
    unchanged = quiet_member(stored_member, index, message, lookup)
    if unchanged is not None:
        regions[member_at] = unchanged
        return []
    result = on_member_message(
        regions.get(region_code), stored_member, index, message, lookup, override
    )
    if result.index is not None:
        regions[index_at] = result.index
    return _save(regions, result)


def quiet_member(
    stored: dict[str, Any] | None,
    index: dict[str, Any] | None,
    message: dict[str, Any],
    lookup: LookupHead,
) -> dict[str, Any] | None:
    """The new member entry when a routed fact provably changes no list, without reading the
    region value (every candidate of the region): the resident was and stays no candidate
    (the member entry says so), is head of the same household or none, and the head entry
    is already this resident's. None: take the full path (:func:`on_member_message`)."""
    if stored is None or stored.get("candidate") is not False:
        return None  # unknown (no entry, or written before the flag existed)
    if message["target"] not in (index or {}).get("regions", ()):
        return None
    if int(message["rev"]) <= int(stored["rev"]):
        return None  # stale: the full path ignores it
    facts, member = message["facts"], bool(message["member"])
    if member and facts.get("candidate"):
        return None
    head_of = head_of_household(facts, member)
    if head_of != stored.get("head_of"):
        return None
    head = {"resident_key": message["resident_key"], "name": facts.get("name")}
    if head_of is not None and lookup(head_of) != head:
        return None
    return {"rev": int(message["rev"]), "head_of": head_of, "candidate": False}


def _municipality_alert(
    regions: Store, message: dict[str, Any], partition: int, override: bool
) -> list[tuple[str, dict[str, Any]]]:
    index_at = index_key(str(message["municipality_code"]), partition)
    index, entry, region_codes = on_municipality_alert(regions.get(index_at), message)
    if index is None:
        return []
    regions[index_at] = index
    outputs: list[tuple[str, dict[str, Any]]] = []
    for region_code in region_codes:

        def lookup(household: str, region_code: str = region_code) -> dict[str, Any] | None:
            value: dict[str, Any] | None = regions.get(head_key(region_code, household))
            return value

        result = on_alert_for_region(regions.get(region_code), region_code, entry, lookup, override)
        outputs += _save(regions, result)
    return outputs
