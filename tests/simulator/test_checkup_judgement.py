"""特定健診 judgement at the DOMAIN.md thresholds: メタボ判定, 保健指導レベル, risk flags."""

from __future__ import annotations

from dataclasses import replace

import pytest

from renkei.simulator.checkup_judgement import (
    Measurements,
    guidance_level,
    judge,
    metabolic_syndrome,
    risk_flags,
)

# A healthy 50-year-old man, fasting, every item measured and below every threshold.
HEALTHY = Measurements(
    sex="1",
    age=50,
    bmi=22.0,
    waist_cm=80.0,
    systolic_bp=120,
    diastolic_bp=75,
    triglycerides=100,
    hdl=60,
    ldl=100,
    fasting_glucose=90,
    hba1c=5.3,
    ast=20,
    alt=20,
    gamma_gt=30,
    egfr=80.0,
    smoking=False,
)


def test_healthy_person_has_no_findings() -> None:
    result = judge(HEALTHY)
    assert (result.metabolic_syndrome, result.guidance_level, result.risk_flags) == (
        "none",
        "none",
        (),
    )


@pytest.mark.parametrize(
    ("sex", "waist", "over"),
    [
        ("1", 84.9, False),
        ("1", 85.0, True),
        ("2", 89.9, False),
        ("2", 90.0, True),
    ],
)
def test_waist_threshold_differs_by_sex(sex: str, waist: float, over: bool) -> None:
    flags = risk_flags(replace(HEALTHY, sex=sex, waist_cm=waist))
    assert ("waist_guidance" in flags) is over


def test_metabolic_needs_waist_plus_two_items_for_meets_and_one_for_borderline() -> None:
    wide = replace(HEALTHY, waist_cm=90.0)
    assert metabolic_syndrome(wide) == "none"
    one = replace(wide, systolic_bp=130)
    assert metabolic_syndrome(one) == "borderline"
    two = replace(one, fasting_glucose=110)
    assert metabolic_syndrome(two) == "meets"
    assert metabolic_syndrome(replace(one, hdl=39)) == "meets"  # HDL < 40
    assert metabolic_syndrome(replace(one, hdl=40)) == "borderline"


def test_metabolic_glucose_item_uses_fasting_110_and_hba1c_6_only_without_glucose() -> None:
    wide_bp = replace(HEALTHY, waist_cm=90.0, diastolic_bp=85)
    assert metabolic_syndrome(replace(wide_bp, fasting_glucose=109)) == "borderline"
    assert metabolic_syndrome(replace(wide_bp, fasting_glucose=110)) == "meets"
    # HbA1c 6.0 counts only when fasting glucose was not measured
    assert metabolic_syndrome(replace(wide_bp, fasting_glucose=105, hba1c=6.2)) == "borderline"
    assert metabolic_syndrome(replace(wide_bp, fasting_glucose=None, hba1c=6.0)) == "meets"


def test_medication_counts_as_meeting_the_item() -> None:
    wide = replace(HEALTHY, waist_cm=95.0)
    assert metabolic_syndrome(replace(wide, medication_bp=True)) == "borderline"
    assert metabolic_syndrome(replace(wide, medication_bp=True, medication_lipid=True)) == "meets"


def test_metabolic_is_undeterminable_without_waist_or_with_a_deciding_gap() -> None:
    assert metabolic_syndrome(replace(HEALTHY, waist_cm=None)) == "undeterminable"
    gap = replace(HEALTHY, waist_cm=90.0, systolic_bp=135, triglycerides=None)
    assert metabolic_syndrome(gap) == "undeterminable"


def test_guidance_waist_path_two_risks_intensive_one_motivational() -> None:
    wide = replace(HEALTHY, waist_cm=86.0)
    assert guidance_level(wide) == "none"
    one = replace(wide, fasting_glucose=100)
    assert guidance_level(one) == "motivational"
    assert guidance_level(replace(one, diastolic_bp=85)) == "intensive"


def test_guidance_smoking_counts_only_alongside_another_risk() -> None:
    wide = replace(HEALTHY, waist_cm=86.0, smoking=True)
    assert guidance_level(wide) == "none"
    assert guidance_level(replace(wide, hba1c=5.6)) == "intensive"


def test_guidance_bmi_path_needs_three_risks_for_intensive() -> None:
    obese = replace(HEALTHY, bmi=25.0)
    assert guidance_level(replace(obese, bmi=24.9)) == "none"
    two = replace(obese, fasting_glucose=100, triglycerides=150)
    assert guidance_level(two) == "motivational"
    assert guidance_level(replace(two, systolic_bp=130)) == "intensive"


def test_casual_triglycerides_use_175() -> None:
    casual = replace(HEALTHY, waist_cm=86.0, fasting_glucose=None, casual_glucose=90)
    assert guidance_level(replace(casual, triglycerides=170)) == "none"
    assert guidance_level(replace(casual, triglycerides=175)) == "motivational"
    assert "lipid_guidance" not in risk_flags(replace(casual, triglycerides=170))


def test_ages_65_to_74_get_at_most_motivational_and_medication_excludes() -> None:
    intensive = replace(HEALTHY, waist_cm=90.0, systolic_bp=140, fasting_glucose=120)
    assert guidance_level(intensive) == "intensive"
    assert guidance_level(replace(intensive, age=65)) == "motivational"
    assert guidance_level(replace(intensive, medication_glucose=True)) == "none"


@pytest.mark.parametrize(
    ("systolic", "diastolic", "flag"),
    [
        (129, 84, None),
        (130, 70, "bp_guidance"),
        (120, 85, "bp_guidance"),
        (140, 80, "bp_referral"),
        (120, 90, "bp_referral"),
        (160, 80, "bp_urgent"),
        (120, 100, "bp_urgent"),
    ],
)
def test_blood_pressure_flags(systolic: int, diastolic: int, flag: str | None) -> None:
    flags = [
        f
        for f in risk_flags(replace(HEALTHY, systolic_bp=systolic, diastolic_bp=diastolic))
        if f.startswith("bp_")
    ]
    assert flags == ([flag] if flag else [])


@pytest.mark.parametrize(
    ("changes", "flag"),
    [
        ({"triglycerides": 149}, None),
        ({"triglycerides": 150}, "lipid_guidance"),
        ({"triglycerides": 300}, "lipid_referral"),
        ({"hdl": 39}, "lipid_guidance"),
        ({"hdl": 34}, "lipid_referral"),
        ({"ldl": 119}, None),
        ({"ldl": 120}, "lipid_guidance"),
        ({"ldl": 140}, "lipid_referral"),
        ({"fasting_glucose": 99}, None),
        ({"fasting_glucose": 100}, "glucose_guidance"),
        ({"fasting_glucose": 126}, "glucose_referral"),
        ({"hba1c": 5.6}, "glucose_guidance"),
        ({"hba1c": 6.5}, "glucose_referral"),
        ({"ast": 30}, None),
        ({"ast": 31}, "liver_guidance"),
        ({"alt": 51}, "liver_referral"),
        ({"gamma_gt": 51}, "liver_guidance"),
        ({"gamma_gt": 101}, "liver_referral"),
        ({"egfr": 60.0}, None),
        ({"egfr": 59.9}, "renal_guidance"),
        ({"egfr": 44.9}, "renal_referral"),
        ({"bmi": 25.0}, "bmi_guidance"),
    ],
)
def test_item_thresholds(changes: dict[str, float], flag: str | None) -> None:
    flags = risk_flags(replace(HEALTHY, **changes))  # type: ignore[arg-type]
    assert flags == ((flag,) if flag else ())


def test_one_flag_per_item_at_its_most_severe_level() -> None:
    flags = risk_flags(replace(HEALTHY, triglycerides=320, hdl=38, ldl=125))
    assert flags == ("lipid_referral",)
