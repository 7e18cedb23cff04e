"""The per-resident records (microdata) a snapshot table is counted from.

One :class:`Person` per residing resident of the cut. A person under a 支援措置 (抑止) has no
町域 here: a table that leaves the platform counts them only in their municipality, through the
never-shown "町域不詳" row (``table.UNALLOCATED``), never in a 町域 cell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from renkei.shared.values import municipality_of

JUDGED = ("meets", "borderline", "none")
"""メタボ判定 values that count as judged (判定不能 is not)."""


@dataclass(frozen=True, slots=True)
class Person:
    """What a snapshot counts of one resident: no name, no address, no key in any output.

    ``record_key`` is the resident's key, used only inside the job (the table digest the
    cell keys derive from); it never reaches a record.
    """

    record_key: str
    municipality: str
    town: str | None
    """Region code of the resident's 町域, None when withheld (支援措置) or unknown."""
    age: int | None
    head: bool = False
    child_household: bool = False
    candidate: bool = False
    checkup_fy: int | None = None
    metabolic: str | None = None


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Age in full years on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def person_from_facts(facts: dict[str, Any], on: dt.date) -> Person | None:
    """The :class:`Person` of one ``internal.resident.facts`` datum (None unless residing).

    Age is taken on the snapshot's reference date ``on`` from the birth date (the facts' own
    ``age`` is the age when they were last emitted).
    """
    if facts.get("status") != "residing" or not facts.get("region_code"):
        return None
    region = str(facts["region_code"])
    municipality = municipality_of(region)
    protected = bool(facts.get("protected"))
    town = region if region != municipality and not protected else None
    born = _date(facts.get("birth_date"))
    age = age_on(born, on) if born is not None else facts.get("age")
    checkup = facts.get("checkup") or {}
    return Person(
        record_key=str(facts["resident_key"]),
        municipality=municipality,
        town=town,
        age=int(age) if age is not None and int(age) >= 0 else None,
        head=bool(facts.get("is_head")),
        child_household=bool(facts.get("has_child_under_15")),
        candidate=bool(facts.get("candidate")),
        checkup_fy=checkup.get("participated_fiscal_year"),
        metabolic=checkup.get("metabolic_syndrome"),
    )
