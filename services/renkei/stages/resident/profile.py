"""Outputs of the resident stage: ``unified.resident`` (redacted) and ``internal.resident.facts``.

- **Redaction (抑止 / 支援措置)** happens in ONE function, ``protection.redact_location``, used
  by every output that could carry a location (``unified.resident`` here, the evacuation lists in
  ``stages/evacuation/lists.py``): address null, region coarsened to the 6-digit municipality
  code, household number emptied, and a flag saying it was withheld. *Who* is covered is decided
  in ``dwelling.py``: the applicant, the persons named with her, and everyone at a protected
  address, whatever the 世帯; an address with no stated status is withheld too, and no output
  goes out before the address group has answered (held). ``internal.resident.facts`` keeps the
  address by design (platform internal, never granted) and says ``protected`` when it is
  withheld, so the evacuation stage lists that person without address, 町域, household number
  or head name; region figures only count.
- **Evacuation-support candidacy** (避難行動要支援者): ``stages/resident/candidacy.py``. Consent
  (49条の11②) comes from the care certification; false when never recorded.
- **Households**: ``household_size``, ``lives_alone``, ``has_child_under_15`` come from the
  household view computed by the household step (see ``stages/resident/household.py`` for why a
  resident-keyed stage needs that step); until it arrives: a household of one, lives_alone as
  the care certification says, a child only if the resident is one.
- Outputs are emitted only when their content changed (a digest without the envelope is kept
  in the state); their ``sequence`` is the resident's output revision, strictly increasing.
  No output exists before the registry has given the resident a person and an address
  (moved_in / born): both output schemas require them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from renkei.privacy.protection import redact_location
from renkei.shared.values import ENVELOPE, aware_datetime, digest, iso_date
from renkei.stages.resident.candidacy import candidate_reasons, care_in_force, household_facts
from renkei.stages.resident.dwelling import output_protection, own_protection
from renkei.stages.resident.reorganisation import counted_region_code
from renkei.stages.resident.state import ResidentState

UNIFIED_TOPIC = "unified.resident"
NOT_CONTENT = ("event_type", "recorded_through")
"""Fields that are not content: an input that changes only them emits nothing (the record
time shown is that of the input that last changed the content)."""
FACTS_TOPIC = "internal.resident.facts"


def _joined(*parts: str | None) -> str | None:
    present = [p for p in parts if p]
    return "　".join(present) if present else None


def _envelope(state: ResidentState, trigger: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": trigger["event_id"],
        "municipality_code": state.view.municipality_code or trigger["municipality_code"],
        "effective_date": state.as_of(),
        "recorded_at": aware_datetime(trigger["recorded_at"]),
        "sequence": state.revision + 1,
    }


def aggregate_region_code(
    address: dict[str, Any] | None, rekeyed: dict[str, Any] | None = None
) -> Any:
    """The region a resident counts in: today's region code (``current_region_code``, after
    later mergers or ward reorganisations) when standardization gave one, else the code of
    the address's date; the re-keyed code when a change took effect since
    (``reorganisation.py``, docs/reference-data.md)."""
    return counted_region_code(address, rekeyed)


def _address(address: dict[str, Any] | None) -> dict[str, Any] | None:
    if address is None:
        return None
    keys = (
        "address_text",
        "prefecture",
        "city",
        "town",
        "chome",
        "rest",
        "building",
        "postal_code",
        "municipality_code",
        "region_code",
    )
    return {k: address.get(k) for k in keys}


def _checkup_summary(checkup: dict[str, Any] | None) -> dict[str, Any] | None:
    if checkup is None:
        return None
    return {
        "checkup_date": iso_date(checkup["checkup_date"]),
        "fiscal_year": int(checkup["fiscal_year"]),
        "metabolic_syndrome": checkup["metabolic_syndrome"],
        "guidance_level": checkup["guidance_level"],
        "risk_flags": list(checkup.get("risk_flags") or []),
    }


def _care_summary(care: dict[str, Any] | None) -> dict[str, Any] | None:
    if care is None or not care_in_force(care):
        return None
    disability = care.get("disability")
    return {
        "care_level_code": care["care_level_code"],
        "care_level_name": care["care_level_name"],
        "care_level_rank": int(care["care_level_rank"]),
        "valid_from": iso_date(care["valid_from"]),
        "valid_to": iso_date(care["valid_to"]),
        "in_care_facility": bool(care["in_care_facility"]),
        "disability": None
        if not disability
        else {
            "physical_grade": disability.get("physical_grade"),
            "intellectual_class": disability.get("intellectual_class"),
            "mental_grade": disability.get("mental_grade"),
            "intractable_disease": bool(disability.get("intractable_disease")),
        },
    }


def _record_time(state: ResidentState) -> Any:
    recorded = state.record_time()
    return aware_datetime(recorded) if recorded else None


def _ready(state: ResidentState) -> bool:
    view = state.view
    return bool(view.status and view.person and view.address and view.household)


def protection_for_output(state: ResidentState) -> tuple[bool, bool]:
    """(covered, withheld) — withheld while the address group has not answered (the stage
    holds the outputs then, ``resident_outputs``; a direct caller gets the safe form)."""
    return output_protection(state) or (own_protection(state), True)


def build_unified_resident(state: ResidentState, trigger: dict[str, Any]) -> dict[str, Any] | None:
    """The ``unified.resident`` datum (Avro form), redacted; None before the resident is known."""
    if not _ready(state):
        return None
    view = state.view
    person, household = view.person or {}, view.household or {}
    covered, withheld = protection_for_output(state)
    address, region_code, redacted = redact_location(
        _address(view.address), aggregate_region_code(view.address, state.rekeyed), withheld
    )
    facts = household_facts(state)
    reasons = candidate_reasons(state)
    relationship = household.get("relationship") or {}
    return {
        **_envelope(state, trigger),
        "resident_key": state.resident_key,
        "status": view.status,
        "family_name": person["family_name"],
        "given_name": person["given_name"],
        "family_name_kana": person.get("family_name_kana"),
        "given_name_kana": person.get("given_name_kana"),
        "birth_date": iso_date(person["birth_date"]),
        "age": state.age(),
        "sex": person["sex"],
        "resident_type": person["resident_type"],
        "address": address,
        "region_code": region_code,
        "address_redacted": redacted,
        "protected": covered,
        "household": {
            "household_number": "" if withheld else household["household_number"],
            "relationship": relationship.get("display") or relationship.get("base") or "",
            "is_head": bool(household.get("is_head")),
            "household_size": facts["household_size"],
            "lives_alone": facts["lives_alone"],
            "has_child_under_15": facts["has_child_under_15"],
        },
        "checkup": _checkup_summary(state.checkup),
        "care": _care_summary(state.care),
        "evacuation_support": {
            "candidate": bool(reasons),
            "reasons": reasons,
            "consent_to_share": bool((state.care or {}).get("consent_to_share")),
        },
        "valid_from": iso_date(view.last_effective_date),
        "recorded_through": _record_time(state),
    }


def _checkup_facts(checkup: dict[str, Any] | None) -> dict[str, Any] | None:
    if checkup is None:
        return None
    return {
        "participated_fiscal_year": int(checkup["fiscal_year"]),
        "metabolic_syndrome": checkup["metabolic_syndrome"],
        "guidance_level": checkup["guidance_level"],
        "risk_flags": list(checkup.get("risk_flags") or []),
    }


def build_facts(state: ResidentState, trigger: dict[str, Any]) -> dict[str, Any] | None:
    """The ``internal.resident.facts`` datum (Avro form), UNREDACTED; None before known."""
    if not _ready(state):
        return None
    view = state.view
    person, household = view.person or {}, view.household or {}
    facts = household_facts(state)
    reasons = candidate_reasons(state)
    _, withheld = protection_for_output(state)
    return {
        **_envelope(state, trigger),
        "resident_key": state.resident_key,
        "status": view.status,
        "event_type": trigger.get("event_type"),
        "region_code": aggregate_region_code(view.address, state.rekeyed),
        "protected": withheld,
        "name": _joined(person["family_name"], person["given_name"]) or "",
        "kana": _joined(person.get("family_name_kana"), person.get("given_name_kana")),
        "birth_date": iso_date(person["birth_date"]),
        "age": state.age(),
        "sex": person["sex"],
        "address": _address(view.address),
        "household_number": household["household_number"],
        "household_size": facts["household_size"],
        "lives_alone": facts["lives_alone"],
        "has_child_under_15": facts["has_child_under_15"],
        "is_head": bool(household.get("is_head")),
        "candidate": bool(reasons),
        "candidate_reasons": reasons,
        "consent_to_share": bool((state.care or {}).get("consent_to_share")),
        "checkup": _checkup_facts(state.checkup),
        "moved_in_on": iso_date(view.moved_in_on),
        "migrations": [
            {"direction": direction, "day": iso_date(day), "region_code": region}
            for direction, day, region in view.migrations
        ],
        "as_of": state.as_of(),
    }


def _content_digest(datum: dict[str, Any], ignore: tuple[str, ...]) -> str:
    return digest({k: v for k, v in datum.items() if k not in ignore})


def resident_outputs(
    state: ResidentState, trigger: dict[str, Any]
) -> tuple[ResidentState, list[tuple[str, dict[str, Any]]]]:
    """(new state, [(topic, datum)]) — only the outputs whose content changed.

    ``trigger`` is the JSON envelope of the input that caused this (event_id, municipality_code,
    effective_date, recorded_at, and event_type for a registry event). The envelope and the
    trigger's event_type are not content: a redelivered or replayed input emits nothing.
    Nothing is emitted while the address group has not answered for the current address
    (``dwelling.output_protection``): the first output already knows the protection.
    """
    if _ready(state) and output_protection(state) is None:
        return state, []
    built = {
        UNIFIED_TOPIC: build_unified_resident(state, trigger),
        FACTS_TOPIC: build_facts(state, trigger),
    }
    changed: dict[str, str] = {}
    outputs: list[tuple[str, dict[str, Any]]] = []
    for topic, datum in built.items():
        if datum is None:
            continue
        content = _content_digest(datum, (*ENVELOPE, *NOT_CONTENT))
        if state.emitted.get(topic) != content:
            changed[topic] = content
            outputs.append((topic, datum))
    if not outputs:
        return state, []
    new_state = dataclasses.replace(
        state, revision=state.revision + 1, emitted={**state.emitted, **changed}
    )
    return new_state, outputs
