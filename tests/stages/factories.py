"""Builders of std.* datums (fastavro form: dates, aware datetimes, UUIDs) for linkage tests,
and a check that an output datum fits its catalogue schema."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import fastavro

from renkei.schemas.catalogue import TopicSpec, load_catalogue
from renkei.schemas.models import RecordValidator

REPO = Path(__file__).resolve().parents[2]
JST = dt.timezone(dt.timedelta(hours=9))
MUNI = "011011"
REGION_A = "011011:0640941"
REGION_B = "011011:0640952"
OTHER_MUNI = "131016"


@cache
def spec(topic: str) -> TopicSpec:
    return load_catalogue(REPO / "schemas" / "avro").get(topic)


@cache
def _validator(topic: str) -> RecordValidator:
    return RecordValidator(spec(topic).schema)


def assert_fits(topic: str, datum: dict[str, Any]) -> dict[str, Any]:
    """The datum validates with the topic's RecordValidator and round-trips through fastavro."""
    _validator(topic).validate(datum)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, spec(topic).parsed_schema, datum)
    buffer.seek(0)
    decoded: dict[str, Any] = fastavro.schemaless_reader(buffer, spec(topic).parsed_schema, None)
    return decoded


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=JST)


def address(
    postal: str = "0640941",
    town: str = "旭ケ丘",
    chome: int | None = 5,
    rest: str = "6番51号",
    muni: str = MUNI,
) -> dict[str, Any]:
    return {
        "address_text": f"北海道札幌市中央区{town}{chome or ''}丁目{rest}",
        "prefecture": "北海道",
        "city": "札幌市中央区",
        "town": town,
        "chome": chome,
        "rest": rest,
        "building": None,
        "postal_code": postal,
        "municipality_code": muni,
        "region_code": f"{muni}:{postal}",
    }


ADDRESS_A = address()
ADDRESS_B = address(postal="0640952", town="宮の森二条", chome=7, rest="3番15号")


def person(
    family: str = "高橋", given: str = "健一", birth: str = "1980-04-01", sex: str = "male"
) -> dict[str, Any]:
    return {
        "family_name": family,
        "given_name": given,
        "family_name_kana": "タカハシ",
        "given_name_kana": "ケンイチ",
        "birth_date": dt.date.fromisoformat(birth),
        "sex": sex,
        "resident_type": "japanese",
        "nationality": None,
        "foreign_resident_status": None,
    }


def household(number: str = "0001023454", head: bool = True) -> dict[str, Any]:
    display = "世帯主" if head else "子"
    return {
        "household_number": number,
        "relationship": {
            "display": display,
            "base": display,
            "chain": [display],
            "unregistered": False,
        },
        "is_head": head,
    }


def _std_meta(topic: str) -> dict[str, Any]:
    return {
        "source_topic": topic,
        "source_partition": 0,
        "source_offset": 0,
        "corrected_fields": [],
        "standardized_at": at("2026-10-10"),
    }


NOT_PROTECTED: dict[str, Any] = {"protected": False, "measure": None, "valid_until": None}
"""The 支援措置 status a registry states on an address-introducing event of an unprotected
person (``protection``; None = not stated)."""


def protected_status(measure: str = "DV", until: str = "2027-10-04") -> dict[str, Any]:
    return {"protected": True, "measure": measure, "valid_until": dt.date.fromisoformat(until)}


def registry(
    key: str,
    event_type: str,
    detail: dict[str, Any],
    eff: str,
    seq: int,
    recorded: dt.datetime | None = None,
    event_id: uuid.UUID | None = None,
    muni: str = MUNI,
) -> dict[str, Any]:
    return {
        "event_id": event_id or _uuid(),
        "source_system": "jumin-kiroku",
        "municipality_code": muni,
        "effective_date": dt.date.fromisoformat(eff),
        "recorded_at": recorded or at(eff),
        "sequence": seq,
        "resident_key": key,
        "event_type": event_type,
        "reason": event_type,
        "detail": detail,
        "std_meta": _std_meta("registry.resident.events"),
    }


def moved_in(
    key: str,
    eff: str,
    seq: int,
    *,
    who: dict[str, Any] | None = None,
    where: dict[str, Any] | None = None,
    hh: dict[str, Any] | None = None,
    protection: dict[str, Any] | None = NOT_PROTECTED,
    **kw: Any,
) -> dict[str, Any]:
    detail = {
        "person": who or person(),
        "address": where or ADDRESS_A,
        "household": hh or household(),
        "previous_municipality_code": OTHER_MUNI,
        "previous_address_text": None,
        "from_abroad": False,
        "protection": protection,
    }
    return registry(key, "moved_in", detail, eff, seq, **kw)


def born(
    key: str,
    eff: str,
    seq: int,
    *,
    who: dict[str, Any],
    hh: dict[str, Any],
    where: dict[str, Any] | None = None,
    protection: dict[str, Any] | None = NOT_PROTECTED,
    **kw: Any,
) -> dict[str, Any]:
    detail = {
        "person": who,
        "address": where or ADDRESS_A,
        "household": hh,
        "birth_place": None,
        "protection": protection,
    }
    return registry(key, "born", detail, eff, seq, **kw)


def moved_within(
    key: str,
    eff: str,
    seq: int,
    *,
    where: dict[str, Any],
    hh: dict[str, Any] | None = None,
    protection: dict[str, Any] | None = NOT_PROTECTED,
    **kw: Any,
) -> dict[str, Any]:
    detail = {"address": where, "household": hh or household(), "protection": protection}
    return registry(key, "moved_within", detail, eff, seq, **kw)


def moved_out(key: str, eff: str, seq: int, **kw: Any) -> dict[str, Any]:
    detail = {
        "next_municipality_code": OTHER_MUNI,
        "next_address_text": None,
        "to_abroad": False,
        "planned_date": None,
    }
    return registry(key, "moved_out", detail, eff, seq, **kw)


def died(key: str, eff: str, seq: int, **kw: Any) -> dict[str, Any]:
    detail = {"date_of_death": dt.date.fromisoformat(eff), "place_of_death": None}
    return registry(key, "died", detail, eff, seq, **kw)


def corrected(key: str, eff: str, seq: int, supersedes: uuid.UUID, **parts: Any) -> dict[str, Any]:
    detail = {
        "supersedes_event_id": supersedes,
        "corrected_fields": sorted(parts),
        "person": parts.get("person"),
        "address": parts.get("address"),
        "household": parts.get("household"),
        "protection": NOT_PROTECTED if parts.get("address") is not None else None,
    }
    return registry(key, "corrected", detail, eff, seq)


def protection_set(
    key: str, eff: str, seq: int, until: str = "2027-10-04", named: tuple[str, ...] = ()
) -> dict[str, Any]:
    detail = {
        "measure": "DV",
        "valid_until": dt.date.fromisoformat(until),
        "named_resident_keys": list(named),
    }
    return registry(key, "protection_set", detail, eff, seq)


def protection_lifted(key: str, eff: str, seq: int) -> dict[str, Any]:
    return registry(key, "protection_lifted", {"lifted_reason": None}, eff, seq)


def checkup(
    key: str,
    eff: str,
    seq: int,
    fy: int = 2026,
    metabolic: str = "none",
    flags: tuple[str, ...] = (),
) -> dict[str, Any]:
    measures = dict.fromkeys(
        (
            "height_cm",
            "weight_kg",
            "bmi",
            "waist_cm",
            "systolic_bp",
            "diastolic_bp",
            "triglycerides_mg_dl",
            "hdl_mg_dl",
            "ldl_mg_dl",
            "fasting_glucose_mg_dl",
            "casual_glucose_mg_dl",
            "hba1c_ngsp",
            "ast",
            "alt",
            "gamma_gt",
            "egfr",
            "smoking",
            "examining_institution",
        )
    )
    return {
        "event_id": _uuid(),
        "source_system": "kenshin",
        "municipality_code": MUNI,
        "effective_date": dt.date.fromisoformat(eff),
        "recorded_at": at(eff),
        "sequence": seq,
        "resident_key": key,
        "checkup_type": "specific",
        "checkup_date": dt.date.fromisoformat(eff),
        "fiscal_year": fy,
        "age_at_checkup": 46,
        "sex": "1",
        **measures,
        "medication_bp": False,
        "medication_glucose": False,
        "medication_lipid": False,
        "metabolic_syndrome": metabolic,
        "guidance_level": "none",
        "risk_flags": list(flags),
        "std_meta": _std_meta("health.checkup.results"),
    }


LEVELS = {"12": ("要支援1", 2), "21": ("要介護1", 4), "23": ("要介護3", 6), "25": ("要介護5", 8)}


def care(
    key: str,
    eff: str,
    seq: int,
    code: str = "23",
    *,
    kind: str = "renewal",
    disability: dict[str, Any] | None = None,
    lives_alone: bool | None = None,
    facility: bool = False,
    consent: bool = False,
) -> dict[str, Any]:
    name, rank = LEVELS[code]
    return {
        "event_id": _uuid(),
        "source_system": "kaigo",
        "municipality_code": MUNI,
        "effective_date": dt.date.fromisoformat(eff),
        "recorded_at": at(eff),
        "sequence": seq,
        "resident_key": key,
        "certification_kind": kind,
        "care_level_code": code,
        "care_level_name": name,
        "care_level_rank": rank,
        "valid_from": dt.date.fromisoformat(eff),
        "valid_to": dt.date(2027, 10, 31),
        "insured_number": "0100234567",
        "disability": disability,
        "lives_alone": lives_alone,
        "in_care_facility": facility,
        "consent_to_share": consent,
        "consent_recorded_on": None,
        "std_meta": _std_meta("welfare.care.certifications"),
    }


def disability(
    physical: int | None = None,
    intellectual: str | None = None,
    mental: int | None = None,
    intractable: bool = False,
) -> dict[str, Any]:
    return {
        "physical_grade": physical,
        "intellectual_grade_original": None,
        "intellectual_class": intellectual,
        "mental_grade": mental,
        "intractable_disease": intractable,
    }


def alert(
    alert_id: str,
    action: str,
    level: int,
    eff: str,
    seq: int,
    *,
    regions: tuple[str, ...] = (),
    whole: bool = False,
    area: str | None = None,
    hour: int = 10,
) -> dict[str, Any]:
    return {
        "event_id": _uuid(),
        "source_system": "bousai",
        "municipality_code": MUNI,
        "effective_date": dt.date.fromisoformat(eff),
        "recorded_at": at(eff, hour),
        "sequence": seq,
        "alert_id": alert_id,
        "area_code": area or (MUNI if whole or not regions else regions[0]),
        "action": action,
        "level": level,
        "information_name": {3: "高齢者等避難", 4: "避難指示", 5: "緊急安全確保"}.get(
            level, "注意報"
        ),
        "hazard": "flood",
        "issued_at": at(eff, 9),
        "lifted_at": at(eff, hour) if action == "lifted" else None,
        "whole_municipality": whole,
        "target_region_codes": list(regions),
        "message": None,
        "issued_by": "区長",
        "std_meta": _std_meta("disaster.area.alerts"),
    }


def indicators(
    region: str, eff: str, seq: int, period_end: str, items: dict[str, float]
) -> dict[str, Any]:
    return {
        "event_id": _uuid(),
        "source_system": "sangyo",
        "municipality_code": MUNI,
        "effective_date": dt.date.fromisoformat(eff),
        "recorded_at": at(eff),
        "sequence": seq,
        "region_code": region,
        "period_start": dt.date(2026, 1, 1),
        "period_end": dt.date.fromisoformat(period_end),
        "period_kind": "monthly",
        "indicators": [
            {"name": n, "value": v, "unit": "件", "source": None} for n, v in items.items()
        ],
        "std_meta": _std_meta("economy.region.indicators"),
    }
