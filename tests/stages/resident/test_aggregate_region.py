"""A resident counts in today's region: the successor code after a ward reorganisation."""

from __future__ import annotations

from renkei.stages.resident.profile import aggregate_region_code


def test_today_region_code_wins_when_standardization_gave_one() -> None:
    old_ward = {"region_code": "221317:4300946", "current_region_code": "221384:4300946"}
    assert aggregate_region_code(old_ward) == "221384:4300946"


def test_an_address_standardized_without_reference_data_keeps_its_code() -> None:
    assert aggregate_region_code({"region_code": "011011:0640941"}) == "011011:0640941"
    unknown = {"region_code": "011011:0640941", "current_region_code": None}
    assert aggregate_region_code(unknown) == "011011:0640941"
