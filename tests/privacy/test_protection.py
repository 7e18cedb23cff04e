"""privacy/protection.py: the one redaction rule and the one suppression rule, on built records
(what the views stage runs on every source record)."""

from __future__ import annotations

from renkei.privacy.protection import (
    K_THRESHOLD,
    enforce_suppression,
    protect_output,
    shown_count,
    suppress_small_cells,
)
from tests.stages import factories as f
from tests.stages.pipeline import Platform

REG = "std.registry.resident.events"
CARE = "std.welfare.care.certifications"
KEY = "000000000000451"


def test_the_threshold_is_ten_and_inclusive() -> None:
    assert K_THRESHOLD == 10
    assert shown_count(10) and not shown_count(9) and not shown_count(None)


def test_enforce_suppression_nulls_small_cells_a_producer_let_through() -> None:
    record = {
        "population": 9,
        "households": 12,
        "age_bands": [{"band": "0-4", "count": 3}, {"band": "5-9", "count": 11}],
        "checkup_participation_rate": 0.5,
        "suppressed": ["checkup_participation_rate"],
        "k_threshold": 10,
    }
    out = enforce_suppression(record)
    assert out["population"] is None and out["households"] == 12
    assert out["age_bands"] == [{"band": "0-4", "count": None}, {"band": "5-9", "count": 11}]
    assert out["checkup_participation_rate"] is None
    assert set(out["suppressed"]) == {
        "population",
        "age_bands.0-4",
        "checkup_participation_rate",
    }


def test_enforce_suppression_leaves_a_suppressed_record_unchanged() -> None:
    figures = {"population": 25, "households": 4, "age_bands": {"0-4": 12, "5-9": 2}}
    figures.update(
        net_migration_child_rearing_households=(0, 0),
        checkup_participation_rate=(1, 20),
        metabolic_syndrome_rate=(0, 0),
    )
    record = suppress_small_cells(figures)
    assert enforce_suppression(record) == record


def test_protect_output_redacts_a_protected_resident_record() -> None:
    platform = Platform()
    platform.feed(REG, f.moved_in(KEY, "2026-04-01", 1))
    record = platform.latest("unified.resident")[KEY]
    assert protect_output("unified.resident", record) is record  # not protected: unchanged
    leaked = {**record, "protected": True}  # a producer that forgot to redact
    out = protect_output("unified.resident", leaked)
    assert out["address"] is None and out["region_code"] == f.MUNI
    assert out["address_redacted"] is True


def test_protect_output_drops_withheld_addresses_from_lists() -> None:
    person = {"resident_key": KEY, "address": f.ADDRESS_A, "address_withheld": True}
    other = {"resident_key": "x", "address": f.ADDRESS_B, "address_withheld": False}
    out = protect_output("derived.evacuation-support", {"persons": [person, other]})
    assert out["persons"][0]["address"] is None
    assert out["persons"][1]["address"] == f.ADDRESS_B


def test_the_views_stage_rule_also_drops_household_number_and_head_name() -> None:
    """Defence in depth: a producer that slipped cannot leak them through a view."""
    listed = protect_output(
        "derived.evacuation-support",
        {
            "persons": [
                {
                    "address": {"address_text": "x"},
                    "address_withheld": True,
                    "household_number": "0001023454",
                    "household_head_name": "高橋　健一",
                }
            ]
        },
    )
    (person,) = listed["persons"]
    assert person["address"] is None and person["household_number"] == ""
    assert person["household_head_name"] is None
    resident = protect_output(
        "unified.resident",
        {
            "protected": True,
            "address": {"address_text": "x"},
            "region_code": "011011:0640941",
            "household": {"household_number": "0001023454"},
        },
    )
    assert resident["region_code"] == "011011" and resident["household"]["household_number"] == ""
