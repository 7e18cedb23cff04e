"""Evacuation-support lists (避難行動要支援者名簿) per alert and region: alerts × candidates.

One ``EvacuationRegion`` per 町域 region holds the region's candidates (from
``internal.resident.facts``, routed by ``routing.route_facts`` so a resident who moves away is
removed) and the alerts that target it. Heads of household are kept per (region, household)
beside it, for the household contact.

An alert of level ≥ 3 that is issued or updated makes the region's list active; the list is
re-emitted whenever it changes while the alert is active (a candidate moves in or out, becomes
or stops being a candidate, consent or address changes). ``lifted`` — or an update below level
3, or an update that no longer targets the region — emits one record with status lifted and no
persons; later changes emit nothing for that alert.

Corrections (docs/corrections.md): a list version already released cannot be unreleased. When
a resident fact that was valid before the alert was issued (effective date before the issue
date) but recorded after it — a late 届出 or a 職権訂正 — changes who is on a released list,
the list is re-issued as a new version carrying ``correction`` (the sequence it corrects, how
many persons were added and removed); the stage writes an ``evacuation.corrected`` audit record
for it (``renkei.audit.releases``). After the lifting, such a fact about one resident re-issues
the lifted list (no persons) with the ``correction`` of the last active version.

Mode (災害対策基本法 49条の11): ``disaster`` when the level is 4 or 5, or when the operator
turned disaster mode on (``disaster_override``) → every candidate; ``normal`` (level 3) →
only candidates who consented (②).

Protected persons (支援措置: the applicant, the persons named with her and everyone at a
protected address — ``protected`` in the facts, decided by the resident stage) are listed, since
their safety comes first, but never on a 町域 list, where one withheld address in a small area
points at her: they are routed to the **municipality-level** region (the 6-digit code) and
listed on the alert's municipality list (``<alert id>:<municipality code>``) when the 町域 they
live in (kept inside the stage only, ``town_region``) is alerted, with no address, 町域,
household number or head-of-household name. Every alert that reaches a municipality gets that
list, empty or not, so its presence says nothing. Responders reach these persons through the
office that holds the address (docs/privacy.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from renkei.privacy.protection import redact_location
from renkei.shared.values import (
    as_order_key,
    aware_datetime,
    digest,
    iso_date,
    json_form,
    municipality_of,
    order_key,
)

EVACUATION_TOPIC = "derived.evacuation-support"
MIN_LEVEL = 3
DISASTER_LEVEL = 4


def evacuation_targets(facts: dict[str, Any]) -> list[str]:
    """A resident is listed in its 町域 region only (a protected one in its municipality's
    region), and only while residing."""
    if facts.get("status") != "residing" or not facts.get("region_code"):
        return []
    if facts.get("protected"):
        return [municipality_of(str(facts["region_code"]))]
    return [str(facts["region_code"])]


FACTS_READ = (
    "resident_key",
    "status",
    "region_code",
    "protected",
    "candidate",
    "candidate_reasons",
    "name",
    "kana",
    "age",
    "sex",
    "address",
    "household_number",
    "is_head",
    "consent_to_share",
)
"""Every field of a facts record the stage reads to place a resident, list it and name a head
(``evacuation_targets``, ``candidate_entry``, ``head_of_household``); the envelope is read
only when a list changes, which these fields decide."""


def facts_read(facts: dict[str, Any]) -> str | None:
    """Digest of what the stage reads of a facts record (``routing.route_facts``' ``reads``):
    a newer record with the same digest changes no candidate, no head and so no list, and is
    not routed. None — always routed — for a head of household: its head entry is shared with
    anyone else who claims to head that household, so re-applying it is not a no-op."""
    if facts.get("is_head"):
        return None
    return digest({k: facts.get(k) for k in FACTS_READ})


def scope_and_regions(alert: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(municipality scopes, 町域 regions) an alert targets."""
    if alert.get("whole_municipality"):
        area = str(alert["area_code"])
        return [area if ":" not in area else municipality_of(area)], []
    targets = list(alert.get("target_region_codes") or []) or [str(alert["area_code"])]
    scopes = [t for t in targets if ":" not in t]
    return list(dict.fromkeys(scopes)), list(dict.fromkeys(t for t in targets if ":" in t))


def candidate_entry(facts: dict[str, Any]) -> dict[str, Any]:
    """What a list needs of one candidate (JSON form). A protected candidate keeps no address
    and no household number, only the 町域 it lives in (``town_region``, never output) to
    decide which alerts concern it."""
    keys = (
        "resident_key",
        "name",
        "kana",
        "age",
        "sex",
        "address",
        "region_code",
        "protected",
        "household_number",
        "is_head",
        "consent_to_share",
    )
    entry = {k: facts.get(k) for k in keys}
    entry["support_reasons"] = list(facts.get("candidate_reasons") or [])
    if facts.get("protected"):
        entry.update(
            address=None,
            household_number=None,
            is_head=False,
            region_code=municipality_of(str(facts["region_code"])),
            town_region=facts.get("region_code"),
        )
    return entry


def alert_entry(alert: dict[str, Any], *, withdrawn: bool = False) -> dict[str, Any]:
    """What a region keeps of an alert event (JSON form); ``active`` decides the list."""
    alert = json_form(alert)
    active = (
        not withdrawn
        and alert["action"] in ("issued", "updated")
        and int(alert["level"]) >= MIN_LEVEL
    )
    keys = ("alert_id", "level", "hazard", "information_name", "issued_at", "municipality_code")
    entry = {k: alert[k] for k in keys}
    entry["scopes"], entry["targets"] = scope_and_regions(alert)
    updated_at = alert.get("lifted_at") if alert["action"] == "lifted" else None
    entry.update(
        active=active,
        updated_at=updated_at
        or (alert["issued_at"] if alert["action"] == "issued" else alert["recorded_at"]),
        order=list(order_key(alert)),
        trigger={
            k: alert[k] for k in ("event_id", "municipality_code", "effective_date", "recorded_at")
        },
    )
    return entry


@dataclass(frozen=True)
class EvacuationRegion:
    """Candidates, alerts and emitted lists of one region (JSON-serializable)."""

    region_code: str
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    """alert_id → {"revision": n, "digest": d} of the last list emitted."""

    def to_dict(self) -> dict[str, Any]:
        """Shallow: the state is never mutated in place, so sharing is safe (and cheap)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvacuationRegion:
        return cls(**data)


def apply_alert(region: EvacuationRegion, entry: dict[str, Any]) -> EvacuationRegion:
    """Region with this alert state, unless an equal or newer event of the alert is held."""
    held = region.alerts.get(entry["alert_id"])
    if held is not None and as_order_key(entry["order"]) <= as_order_key(held["order"]):
        return region
    return dataclasses.replace(region, alerts={**region.alerts, entry["alert_id"]: entry})


@dataclass(frozen=True)
class MemberChange:
    region: EvacuationRegion
    member: dict[str, Any]
    heads: dict[str, dict[str, Any] | None]
    """(region-local) household number → head entry to store, None to delete."""


def apply_member(
    region: EvacuationRegion,
    stored: dict[str, Any] | None,
    message: dict[str, Any],
    heads: Mapping[str, dict[str, Any] | None],
) -> MemberChange | None:
    """Apply one routed facts message; None when stale. ``heads`` holds the head entries of
    the households the resident was and is head of."""
    if stored is not None and int(message["rev"]) <= int(stored["rev"]):
        return None
    facts, member, resident_key = message["facts"], bool(message["member"]), message["resident_key"]
    candidates = dict(region.candidates)
    candidates.pop(resident_key, None)
    if member and facts.get("candidate"):
        candidates[resident_key] = candidate_entry(facts)
    head_of = head_of_household(facts, member)
    head_updates: dict[str, dict[str, Any] | None] = {}
    previous = (stored or {}).get("head_of")
    if (
        previous
        and previous != head_of
        and (heads.get(previous) or {}).get("resident_key") == resident_key
    ):
        head_updates[previous] = None
    if head_of:
        head_updates[head_of] = {"resident_key": resident_key, "name": facts["name"]}
    return MemberChange(
        region=dataclasses.replace(region, candidates=candidates),
        member={
            "rev": int(message["rev"]),
            "head_of": head_of,
            "candidate": resident_key in candidates,
        },
        heads=head_updates,
    )


def head_of_household(facts: dict[str, Any], member: bool) -> str | None:
    """The household a routed member heads in its region (none for a protected person: no list
    shows a head name that could lead to a protected address)."""
    if member and facts.get("is_head") and not facts.get("protected"):
        return str(facts["household_number"])
    return None


def _person(candidate: dict[str, Any], head_names: Mapping[str, str | None]) -> dict[str, Any]:
    protected = bool(candidate.get("protected"))
    address, _, withheld = redact_location(
        candidate.get("address"), str(candidate["region_code"]), protected
    )
    if address is not None:
        address = {**address, "chome": address.get("chome"), "building": address.get("building")}
    if protected:
        head = None
    elif candidate.get("is_head"):
        head = candidate["name"]
    else:
        head = head_names.get(candidate["household_number"])
    return {
        "resident_key": candidate["resident_key"],
        "name": candidate["name"],
        "kana": candidate.get("kana"),
        "age": candidate.get("age"),
        "sex": candidate["sex"],
        "address": address,
        "address_withheld": withheld,
        "support_reasons": list(candidate["support_reasons"]),
        "household_number": "" if protected else candidate["household_number"],
        "household_head_name": head,
        "consent_to_share": bool(candidate.get("consent_to_share")),
    }


def alerted(alert: dict[str, Any], region_code: str) -> bool:
    """Whether the alert targets ``region_code`` (a 町域 region, or a municipality code)."""
    scopes, targets = alert.get("scopes"), alert.get("targets")
    if scopes is None and targets is None:
        return True  # an entry stored before the targets were kept
    return region_code in (targets or []) or municipality_of(region_code) in (scopes or [])


def list_mode(alert: dict[str, Any], disaster_override: bool) -> str:
    return "disaster" if disaster_override or int(alert["level"]) >= DISASTER_LEVEL else "normal"


def _chosen(region: EvacuationRegion, alert: dict[str, Any], mode: str) -> list[dict[str, Any]]:
    """The candidates a list of this mode names (normal mode: those who consented); a
    protected person on a municipality list only when the 町域 she lives in is alerted."""
    return [
        c
        for c in region.candidates.values()
        if (mode == "disaster" or c.get("consent_to_share"))
        and alerted(alert, c.get("town_region") or region.region_code)
    ]


def build_list(
    region: EvacuationRegion,
    alert: dict[str, Any],
    head_names: Mapping[str, str | None],
    disaster_override: bool,
) -> dict[str, Any]:
    """The list record's content (no envelope): persons oldest first, empty unless active."""
    mode = list_mode(alert, disaster_override)
    persons = []
    if alert["active"]:
        chosen = _chosen(region, alert, mode)
        chosen.sort(key=lambda c: (-(c.get("age") or 0), c["resident_key"]))
        persons = [_person(c, head_names) for c in chosen]
    return {
        "list_key": f"{alert['alert_id']}:{region.region_code}",
        "alert_id": alert["alert_id"],
        "region_code": region.region_code,
        "level": int(alert["level"]),
        "hazard": alert["hazard"],
        "information_name": alert["information_name"],
        "mode": mode,
        "status": "active" if alert["active"] else "lifted",
        "issued_at": aware_datetime(alert["issued_at"]),
        "updated_at": aware_datetime(alert["updated_at"]),
        "count": len(persons),
        "persons": persons,
    }


def is_corrective(trigger: dict[str, Any] | None, alert: dict[str, Any]) -> bool:
    """Whether a resident fact corrects what a list issued for ``alert`` should have shown: a
    correction (職権訂正), or a fact valid before the issue date but recorded after the issue
    (a change on the issue date itself is an ordinary update: dates have no time of day)."""
    if trigger is None:
        return False  # the alert itself changed: a new issue or update, no correction
    if trigger.get("event_type") == "corrected":
        return True
    issued = dt.datetime.fromisoformat(str(alert["issued_at"]))
    recorded = dt.datetime.fromisoformat(str(trigger["recorded_at"]))
    return str(trigger["effective_date"]) < issued.date().isoformat() and recorded > issued


def _correction(
    held: dict[str, Any] | None, persons: list[str], corrective: bool
) -> dict[str, Any] | None:
    """The ``correction`` of a new list version: None unless it corrects a released version."""
    if not corrective or held is None or held.get("status") != "active" or "persons" not in held:
        return None
    before, now = set(held["persons"]), set(persons)
    added, removed = len(now - before), len(before - now)
    if not added and not removed:
        return None
    return {"corrects_sequence": int(held["revision"]), "added": added, "removed": removed}


def _lifted_correction(
    region: EvacuationRegion,
    alert: dict[str, Any],
    held: dict[str, Any],
    disaster_override: bool,
    trigger: dict[str, Any] | None,
) -> tuple[dict[str, Any], list[str]] | None:
    """(correction, new released persons) when a corrective fact about one resident changes
    whether the last *active* version of a list, now lifted, should have named them."""
    if held.get("status") != "lifted" or "released" not in held or trigger is None:
        return None
    resident = trigger.get("resident_key")
    if not resident or not is_corrective(trigger, alert):
        return None
    mode = list_mode(alert, disaster_override)
    was = resident in held["released"]
    would = any(c["resident_key"] == resident for c in _chosen(region, alert, mode))
    if was == would:
        return None
    released = sorted(set(held["released"]) - {resident} | ({resident} if would else set()))
    fix = {
        "corrects_sequence": int(held["released_sequence"]),
        "added": int(would),
        "removed": int(was),
    }
    return fix, released


def refresh_lists(
    region: EvacuationRegion,
    head_names: Mapping[str, str | None],
    disaster_override: bool,
    trigger: dict[str, Any] | None,
) -> tuple[EvacuationRegion, list[tuple[str, dict[str, Any]]]]:
    """(region, [(list_key, datum)]) for every alert whose list content changed.

    ``trigger`` is the JSON envelope of the resident event that changed the region (None when
    an alert did: the alert's own envelope is used). A list never emitted and not active (an
    alert lifted before the region knew of it) is not emitted. A version that corrects a
    released one carries ``correction`` (:func:`is_corrective`); so does a new *lifted* version
    when a correction changes who the last active version should have named (it names nobody:
    the alert is lifted; the correction and its audit record say what was wrong).
    """
    lists = dict(region.lists)
    outputs: list[tuple[str, dict[str, Any]]] = []
    for alert_id, alert in sorted(region.alerts.items()):
        held = lists.get(alert_id)
        if held is None and not alert["active"]:
            continue
        content = build_list(region, alert, head_names, disaster_override)
        content_digest = digest(content)
        lifted_fix = None
        if held is not None and held["digest"] == content_digest:
            lifted_fix = _lifted_correction(region, alert, held, disaster_override, trigger)
            if lifted_fix is None:
                continue
        revision = (held or {}).get("revision", 0) + 1
        source = trigger or alert["trigger"]
        persons = sorted(p["resident_key"] for p in content["persons"])
        correction: dict[str, Any] | None
        if lifted_fix is not None:
            correction, released = lifted_fix
            released_sequence = int((held or {})["released_sequence"])
        else:
            correction = _correction(held, persons, is_corrective(trigger, alert))
            active = content["status"] == "active"
            released = persons if active else list((held or {}).get("released", []))
            released_sequence = revision if active else (held or {}).get("released_sequence", 0)
        datum = {
            "event_id": source["event_id"],
            "municipality_code": alert["municipality_code"],
            "effective_date": iso_date(source["effective_date"]),
            "recorded_at": aware_datetime(source["recorded_at"]),
            "sequence": revision,
            **content,
            "correction": correction,
        }
        lists[alert_id] = {
            "revision": revision,
            "digest": content_digest,
            "status": content["status"],
            "persons": persons,
            "released": released,
            "released_sequence": released_sequence,
        }
        outputs.append((content["list_key"], datum))
    return dataclasses.replace(region, lists=lists), outputs


def households_to_look_up(region: EvacuationRegion) -> list[str]:
    """Households whose head name a list of this region needs (candidates not heads)."""
    return sorted(
        {
            c["household_number"]
            for c in region.candidates.values()
            if not c.get("is_head") and not c.get("protected")
        }
    )
