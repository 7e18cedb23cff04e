"""住民記録 (resident registry) events in Renkei JSON form, with occasional clerical errors.

Values follow the ``registry.resident.events`` outline: ``Person``, ``Address`` and
``Household`` records inside a ``detail`` chosen by ``event_type``. About one person-bearing
event in sixty carries a clerical error (a wrong kana, birth date or 番地); a ``corrected``
event (誤記修正) superseding it follows weeks later, as in a real registry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from renkei.simulator.addresses import Address
from renkei.simulator.context import SimulationContext
from renkei.simulator.envelope import REGISTRY
from renkei.simulator.names import to_halfwidth_kana
from renkei.simulator.population import Household, Resident
from renkei.simulator.wareki import format_date

_TYPO_RATE = 1 / 60
_KANA_SLIPS = {
    "ツ": "ッ",
    "ッ": "ツ",
    "シ": "ツ",
    "ソ": "ン",
    "ウ": "ー",
    "ヨ": "ョ",
    "ユ": "ュ",
    "キ": "ギ",
    "コ": "ゴ",
    "タ": "ダ",
    "ハ": "バ",
    "ト": "ド",
    "サ": "ザ",
}


def person_json(person: Resident) -> dict[str, Any]:
    """The ``Person`` record as the registry sends it (kana and birth date as recorded)."""
    family_kana, given_kana = person.family_name.kana, person.given_name.kana
    if person.halfwidth_kana:
        family_kana, given_kana = to_halfwidth_kana(family_kana), to_halfwidth_kana(given_kana)
    return {
        "family_name": person.family_name.text,
        "given_name": person.given_name.text,
        "family_name_kana": family_kana,
        "given_name_kana": given_kana,
        "birth_date": format_date(person.birth_date, person.date_style),
        "sex": person.sex,
        "resident_type": "foreign" if person.is_foreign else "japanese",
        "nationality": person.nationality,
        "foreign_resident_status": person.foreign_status,
    }


def address_json(address: Address, ctx: SimulationContext) -> dict[str, Any]:
    """The ``Address`` record."""
    geography = ctx.world.geography
    return {
        "postal_code": address.town.postal_code,
        "address_text": address.text(geography.prefecture, geography.name),
        "building": address.building,
    }


def household_json(household: Household, person: Resident) -> dict[str, Any]:
    """The ``Household`` record of ``person``: 世帯番号, 続柄 and whether they are the head."""
    return {
        "household_number": household.number,
        "relationship": person.relationship,
        "is_head": household.head is person,
    }


def protection_json(person: Resident, household: Household, today: dt.date) -> dict[str, Any]:
    """The 支援措置 status the registry states with an address it records for ``person``:
    protected when the person is, or anyone in the household at that address is
    (docs/privacy.md)."""
    covered = [m for m in household.members if m.protected_until and m.protected_until >= today]
    if person.protected_until and person not in covered:
        covered.append(person)
    if not covered:
        return {"protected": False, "measure": None, "valid_until": None}
    until = max(m.protected_until for m in covered if m.protected_until)
    return {"protected": True, "measure": None, "valid_until": until.isoformat()}


def emit_registry(
    ctx: SimulationContext,
    person: Resident,
    event_type: str,
    reason: str,
    effective: dt.date,
    recorded: dt.datetime,
    detail: dict[str, Any],
) -> str:
    """Emit one registry event for ``person`` and remember it as their latest."""
    body = {
        "resident_key": person.key,
        "event_type": event_type,
        "reason": reason,
        "detail": detail,
    }
    event_id = ctx.emit(REGISTRY, person.key, effective, recorded, body)
    person.last_registry_event = (event_id, effective)
    return event_id


def emit_with_person(
    ctx: SimulationContext,
    person: Resident,
    event_type: str,
    reason: str,
    effective: dt.date,
    recorded: dt.datetime,
    extra: dict[str, Any],
) -> str:
    """Emit moved_in / born (person, address, household + ``extra``), sometimes with a slip."""
    household = person.household
    assert household is not None, "a person-bearing event needs the person's household"
    detail = {
        "person": person_json(person),
        "address": address_json(household.address, ctx),
        "household": household_json(household, person),
        **extra,
        "protection": protection_json(person, household, effective),
    }
    slip = _clerical_error(ctx, person, detail) if ctx.rng.random() < _TYPO_RATE else None
    event_id = emit_registry(ctx, person, event_type, reason, effective, recorded, detail)
    if slip is not None:
        _schedule_correction(ctx, person, event_id, effective, slip, household.address)
    return event_id


def emit_moved_within(
    ctx: SimulationContext,
    person: Resident,
    reason: str,
    effective: dt.date,
    recorded: dt.datetime,
) -> str:
    household = person.household
    assert household is not None
    detail = {
        "address": address_json(household.address, ctx),
        "household": household_json(household, person),
        "protection": protection_json(person, household, effective),
    }
    return emit_registry(ctx, person, "moved_within", reason, effective, recorded, detail)


def emit_household_changed(
    ctx: SimulationContext,
    person: Resident,
    change_kind: str,
    effective: dt.date,
    recorded: dt.datetime,
) -> str:
    household = person.household
    assert household is not None
    detail = {"household": household_json(household, person), "change_kind": change_kind}
    return emit_registry(ctx, person, "household_changed", change_kind, effective, recorded, detail)


def _clerical_error(ctx: SimulationContext, person: Resident, detail: dict[str, Any]) -> str:
    """Corrupt one field of ``detail`` in place; returns its dotted path."""
    roll = ctx.rng.random()
    if roll < 0.45:
        kana = detail["person"]["given_name_kana"]
        slipped = "".join(_KANA_SLIPS.get(ch, ch) for ch in kana)
        detail["person"]["given_name_kana"] = slipped if slipped != kana else kana + "ー"
        return "detail.person.given_name_kana"
    if roll < 0.7:
        wrong = person.birth_date + dt.timedelta(days=ctx.rng.choice((-10, -1, 1, 10)))
        detail["person"]["birth_date"] = format_date(wrong, person.date_style)
        return "detail.person.birth_date"
    address = detail["address"]
    text = address["address_text"]
    digits = [i for i, ch in enumerate(text) if ch in "123456789"]
    if digits:
        i = digits[-1]
        address["address_text"] = f"{text[:i]}{int(text[i]) % 9 + 1}{text[i + 1 :]}"
    else:
        address["address_text"] = text + "1"
    return "detail.address.address_text"


def _schedule_correction(
    ctx: SimulationContext,
    person: Resident,
    wrong_event: str,
    effective: dt.date,
    field: str,
    address: Address,
) -> None:
    when = ctx.now + dt.timedelta(days=ctx.rng.uniform(3, 60))

    def correct(later: SimulationContext) -> None:
        if not person.active:
            return
        section = field.split(".")[1]
        detail = {
            "supersedes_event_id": wrong_event,
            "corrected_fields": [field],
            "person": person_json(person) if section == "person" else None,
            "address": address_json(address, later) if section == "address" else None,
            "household": None,
            "protection": None,
        }
        if section == "address" and person.household is not None:
            detail["protection"] = protection_json(person, person.household, effective)
        recorded = max(later.now, dt.datetime.combine(effective, dt.time(9)))
        emit_registry(later, person, "corrected", "誤記修正", effective, recorded, detail)

    ctx.schedule(when, correct)
