"""unified.resident and internal.resident.facts: schema fit, redaction, candidacy, change-only."""

from __future__ import annotations

import pytest

from renkei.stages.resident.candidacy import candidate_reasons
from renkei.stages.resident.dwelling import announce_address, apply_address_view
from renkei.stages.resident.flow import trigger_of
from renkei.stages.resident.profile import (
    FACTS_TOPIC,
    UNIFIED_TOPIC,
    build_facts,
    build_unified_resident,
    redact_location,
    resident_outputs,
)
from renkei.stages.resident.state import ResidentState, apply_care, apply_checkup, apply_registry
from tests.stages import factories as f

KEY = "000000016180339"


def answered(state: ResidentState, protected: bool = False) -> ResidentState:
    """The state once its address group has answered (dwelling.py): outputs are held before."""
    state, _ = announce_address(state, trigger())
    view = {"household_key": state.address_sent["key"], "scope": "address", "protected": protected}
    return apply_address_view(state, view)


def resident(*events: dict, birth: str = "1942-03-18") -> ResidentState:
    state = ResidentState(resident_key=KEY)
    state = apply_registry(state, f.moved_in(KEY, "2026-04-01", 1, who=f.person(birth=birth)))
    for event in events:
        if "care_level_code" in event:
            state = apply_care(state, event)
        elif "checkup_type" in event:
            state = apply_checkup(state, event)
        else:
            state = apply_registry(state, event)
    return answered(state)


def trigger(event: dict | None = None) -> dict:
    return trigger_of(event or f.moved_in(KEY, "2026-04-01", 1), event_type="moved_in")


def test_outputs_fit_their_schemas_and_encode() -> None:
    state = resident(
        f.checkup(KEY, "2026-06-01", 1, metabolic="meets", flags=("bp_guidance",)),
        f.care(KEY, "2026-07-01", 1, disability=f.disability(physical=2)),
    )
    unified = build_unified_resident(state, trigger())
    facts = build_facts(state, trigger())
    assert unified is not None and facts is not None
    decoded = f.assert_fits(UNIFIED_TOPIC, unified)
    f.assert_fits(FACTS_TOPIC, facts)
    assert decoded["checkup"]["metabolic_syndrome"] == "meets"
    assert decoded["care"]["care_level_name"] == "要介護3"
    assert decoded["household"]["relationship"] == "世帯主"
    assert facts["name"] == "高橋　健一" and facts["kana"] == "タカハシ　ケンイチ"
    assert facts["event_type"] == "moved_in"


def test_protected_resident_is_redacted_in_unified_and_kept_in_internal_facts() -> None:
    state = resident(f.protection_set(KEY, "2026-05-01", 2))
    unified = build_unified_resident(state, trigger())
    facts = build_facts(state, trigger())
    assert unified is not None and facts is not None
    assert unified["address"] is None
    assert unified["region_code"] == f.MUNI
    assert unified["address_redacted"] is True and unified["protected"] is True
    assert f.ADDRESS_A["address_text"] not in repr(unified)
    assert facts["address"]["address_text"] == f.ADDRESS_A["address_text"]  # internal: unredacted
    assert facts["region_code"] == f.REGION_A and facts["protected"] is True
    f.assert_fits(UNIFIED_TOPIC, unified)


def test_redact_location_is_the_single_rule() -> None:
    assert redact_location(f.ADDRESS_A, f.REGION_A, False) == (f.ADDRESS_A, f.REGION_A, False)
    assert redact_location(f.ADDRESS_A, f.REGION_A, True) == (None, f.MUNI, True)


@pytest.mark.parametrize(
    ("care", "expected"),
    [
        (f.care(KEY, "2026-07-01", 1, "23"), ["care_level_3plus"]),
        (f.care(KEY, "2026-07-01", 1, "25"), ["care_level_3plus"]),
        (f.care(KEY, "2026-07-01", 1, "21"), []),
        (f.care(KEY, "2026-07-01", 1, "23", kind="ended"), []),
        (
            f.care(KEY, "2026-07-01", 1, "12", disability=f.disability(physical=1, mental=1)),
            ["physical_disability_1_2", "mental_1"],
        ),
        (f.care(KEY, "2026-07-01", 1, "12", disability=f.disability(physical=3, mental=2)), []),
        (
            f.care(KEY, "2026-07-01", 1, "12", disability=f.disability(intellectual="severe")),
            ["intellectual_a"],
        ),
        (f.care(KEY, "2026-07-01", 1, "12", disability=f.disability(intellectual="moderate")), []),
        (
            f.care(KEY, "2026-07-01", 1, "12", disability=f.disability(intractable=True)),
            ["intractable_disease"],
        ),
        (f.care(KEY, "2026-07-01", 1, "25", facility=True), []),  # 施設入所者は対象外
    ],
)
def test_candidacy_criteria(care: dict, expected: list[str]) -> None:
    assert candidate_reasons(resident(care, birth="1980-01-01")) == expected


def test_aged_75_living_alone_per_care_certification_until_the_household_view_says_more() -> None:
    alone = resident(f.care(KEY, "2026-07-01", 1, "12", lives_alone=True))
    assert candidate_reasons(alone) == ["aged_75_alone"]
    not_alone = resident(f.care(KEY, "2026-07-01", 1, "12", lives_alone=False))
    assert candidate_reasons(not_alone) == []
    young = resident(f.care(KEY, "2026-07-01", 1, "12", lives_alone=True), birth="1960-01-01")
    assert candidate_reasons(young) == []


def test_no_candidacy_after_moving_out() -> None:
    state = resident(f.care(KEY, "2026-07-01", 1, "25"), f.moved_out(KEY, "2026-08-01", 2))
    assert candidate_reasons(state) == []


def test_consent_comes_from_the_care_certification() -> None:
    state = resident(f.care(KEY, "2026-07-01", 1, "25", consent=True))
    unified = build_unified_resident(state, trigger())
    assert unified is not None
    assert unified["evacuation_support"] == {
        "candidate": True,
        "reasons": ["care_level_3plus"],
        "consent_to_share": True,
    }


def test_no_output_before_the_registry_knows_the_person() -> None:
    state = apply_care(ResidentState(resident_key=KEY), f.care(KEY, "2026-07-01", 1))
    assert resident_outputs(state, trigger()) == (state, [])


def test_outputs_only_when_content_changed_with_increasing_sequence() -> None:
    state = resident()
    state, outputs = resident_outputs(state, trigger())
    assert [t for t, _ in outputs] == [UNIFIED_TOPIC, FACTS_TOPIC]
    assert {d["sequence"] for _, d in outputs} == {1}
    same, nothing = resident_outputs(state, trigger(f.checkup(KEY, "2026-04-01", 9)))
    assert nothing == [] and same is state
    state = apply_checkup(state, f.checkup(KEY, "2026-06-01", 1))
    state, outputs = resident_outputs(state, trigger())
    assert {d["sequence"] for _, d in outputs} == {2}
