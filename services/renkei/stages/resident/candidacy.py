"""Evacuation-support candidacy (避難行動要支援者) and the household facts it depends on.

Criteria (DOMAIN.md; residents living at home only): only status residing, not in a care
facility; ``aged_75_alone`` — a household of only people aged 75+ (living alone included), from
the household view, or the care certification's ``lives_alone`` until the view is known;
``care_level_3plus`` — 要介護3–5 in force (not after a certification ``ended``); disability:
``physical_disability_1_2`` (身体障害者手帳 1–2級), ``intellectual_a`` (療育手帳 A:
normalized class severe), ``mental_1`` (精神 1級), ``intractable_disease`` (指定難病).
Disability flags and consent of an ended certification still count: they are not part of the
care level.
"""

from __future__ import annotations

from typing import Any

from renkei.stages.resident.household import CHILD_AGE, ELDERLY_AGE
from renkei.stages.resident.state import ResidentState

CARE_RANK_LEVEL_3 = 6  # normalize/codes.py ranks: 0 非該当 … 6 要介護3 … 8 要介護5
CARE_CODES_LEVEL_3_PLUS = frozenset({"23", "24", "25"})
REASON_ORDER = (
    "aged_75_alone",
    "care_level_3plus",
    "physical_disability_1_2",
    "intellectual_a",
    "mental_1",
    "intractable_disease",
)


def household_facts(state: ResidentState) -> dict[str, Any]:
    """household_size, lives_alone, has_child_under_15 and all_75_plus of the resident."""
    view = state.household_view
    if view is not None:
        size = int(view["size"])
        return {
            "household_size": size,
            "lives_alone": size == 1,
            "has_child_under_15": bool(view["has_child_under_15"]),
            "all_75_plus": bool(view["all_75_plus"]),
        }
    age = state.age()
    alone = bool((state.care or {}).get("lives_alone"))
    return {
        "household_size": 1,
        "lives_alone": alone,
        "has_child_under_15": age is not None and age < CHILD_AGE,
        "all_75_plus": alone and age is not None and age >= ELDERLY_AGE,
    }


def care_in_force(care: dict[str, Any] | None) -> bool:
    return care is not None and care.get("certification_kind") != "ended"


def _care_level_3_plus(care: dict[str, Any]) -> bool:
    rank = care.get("care_level_rank")
    return (rank is not None and int(rank) >= CARE_RANK_LEVEL_3) or (
        care.get("care_level_code") in CARE_CODES_LEVEL_3_PLUS
    )


def _disability_reasons(disability: dict[str, Any] | None) -> set[str]:
    if not disability:
        return set()
    reasons = set()
    if disability.get("physical_grade") in (1, 2):
        reasons.add("physical_disability_1_2")
    if disability.get("intellectual_class") == "severe":
        reasons.add("intellectual_a")
    if disability.get("mental_grade") == 1:
        reasons.add("mental_1")
    if disability.get("intractable_disease"):
        reasons.add("intractable_disease")
    return reasons


def candidate_reasons(state: ResidentState) -> list[str]:
    """Why the resident needs evacuation support (empty: not a candidate)."""
    care = state.care
    if state.view.status != "residing" or (care and care.get("in_care_facility")):
        return []
    age = state.age()
    reasons = _disability_reasons((care or {}).get("disability"))
    if age is not None and age >= ELDERLY_AGE and household_facts(state)["all_75_plus"]:
        reasons.add("aged_75_alone")
    if care is not None and care_in_force(care) and _care_level_3_plus(care):
        reasons.add("care_level_3plus")
    return [r for r in REASON_ORDER if r in reasons]
