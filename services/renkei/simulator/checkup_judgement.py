"""特定健診 judgement from measurements: メタボ判定, 保健指導レベル and risk flags.

Thresholds are those of DOMAIN.md (MHLW tables). Blood is taken as fasting when a fasting
glucose was measured; otherwise triglycerides use the casual (随時) threshold.

- メタボ判定 (JLAC10 9N501): waist over 85 cm (men) / 90 cm (women) plus two or more of
  {fasting glucose ≥ 110, or HbA1c ≥ 6.0 when glucose was not measured; BP ≥ 130/85;
  TG ≥ 150 or HDL < 40} → meets (基準該当); exactly one → borderline (予備群該当);
  waist not measured, or a missing item that could change the result → undeterminable.
  Medication for an item counts as meeting it.
- 保健指導レベル (9N506): step 1 waist over (1), else BMI ≥ 25 (2); step 2 counts
  {glucose ≥ 100 or HbA1c ≥ 5.6; TG ≥ 150 (casual ≥ 175) or HDL < 40; BP ≥ 130/85; smoking
  only when another risk is present}; (1) 2+ → intensive, 1 → motivational; (2) 3+ →
  intensive, 1–2 → motivational; 0 → none; ages 65–74 at most motivational; anyone on
  medication is outside guidance (none).
- Risk flags: per item the highest of ``<item>_guidance`` (保健指導判定値), ``<item>_referral``
  (受診勧奨判定値) and ``bp_urgent`` (≥ 160/100, see a doctor at once); items are bmi, waist,
  bp, lipid, glucose, liver and renal (eGFR).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Measurements:
    """What a checkup measured; None when an item was not measured."""

    sex: str
    age: int
    bmi: float | None = None
    waist_cm: float | None = None
    systolic_bp: int | None = None
    diastolic_bp: int | None = None
    triglycerides: int | None = None
    hdl: int | None = None
    ldl: int | None = None
    fasting_glucose: int | None = None
    casual_glucose: int | None = None
    hba1c: float | None = None
    ast: int | None = None
    alt: int | None = None
    gamma_gt: int | None = None
    egfr: float | None = None
    smoking: bool | None = None
    medication_bp: bool = False
    medication_glucose: bool = False
    medication_lipid: bool = False

    @property
    def fasting(self) -> bool:
        return self.fasting_glucose is not None

    @property
    def on_medication(self) -> bool:
        return self.medication_bp or self.medication_glucose or self.medication_lipid


@dataclass(frozen=True, slots=True)
class Judgement:
    """The judged outcome, with the enum symbols of ``health.checkup.results``."""

    metabolic_syndrome: str
    guidance_level: str
    risk_flags: tuple[str, ...]


def _any(*checks: bool | None) -> bool | None:
    """True if any check is True; False if all were measured and False; else None."""
    if any(c is True for c in checks):
        return True
    return None if any(c is None for c in checks) else False


def _any_measured(*checks: bool | None) -> bool | None:
    """For alternative measurements (glucose or HbA1c): None only when none was measured."""
    if all(c is None for c in checks):
        return None
    return any(c is True for c in checks)


def _ge(value: float | None, threshold: float) -> bool | None:
    return None if value is None else value >= threshold


def _le(value: float | None, threshold: float) -> bool | None:
    return None if value is None else value <= threshold


def waist_over(m: Measurements) -> bool | None:
    """腹囲 at or over 85 cm (men) / 90 cm (women)."""
    return _ge(m.waist_cm, 85 if m.sex == "1" else 90)


def bp_at_least(m: Measurements, systolic: int, diastolic: int) -> bool | None:
    return _any(_ge(m.systolic_bp, systolic), _ge(m.diastolic_bp, diastolic))


def _metabolic_items(m: Measurements) -> list[bool | None]:
    if m.fasting_glucose is not None:
        glucose: bool | None = m.fasting_glucose >= 110
    else:
        glucose = _ge(m.hba1c, 6.0)
    return [
        True if m.medication_glucose else glucose,
        True if m.medication_bp else bp_at_least(m, 130, 85),
        True if m.medication_lipid else _any(_ge(m.triglycerides, 150), _le(m.hdl, 39)),
    ]


def metabolic_syndrome(m: Measurements) -> str:
    """メタボ判定: meets / borderline / none / undeterminable."""
    over = waist_over(m)
    if over is None:
        return "undeterminable"
    if not over:
        return "none"
    items = _metabolic_items(m)
    met, unknown = items.count(True), items.count(None)
    if met >= 2:
        return "meets"
    if unknown:
        return "undeterminable"
    return "borderline" if met == 1 else "none"


def _guidance_risks(m: Measurements) -> list[bool | None]:
    measured = m.fasting_glucose if m.fasting_glucose is not None else m.casual_glucose
    glucose = _any_measured(_ge(measured, 100), _ge(m.hba1c, 5.6))
    triglycerides = _ge(m.triglycerides, 150 if m.fasting else 175)
    return [glucose, _any(triglycerides, _le(m.hdl, 39)), bp_at_least(m, 130, 85)]


def guidance_level(m: Measurements) -> str:
    """保健指導レベル: intensive / motivational / none / undeterminable."""
    if m.on_medication:
        return "none"
    over, obese = waist_over(m), _ge(m.bmi, 25)
    if over is None and obese is None:
        return "undeterminable"
    if not over and not obese:
        return "none"
    risks = _guidance_risks(m)
    if all(r is None for r in risks):
        return "undeterminable"
    count = risks.count(True)
    if count and m.smoking:
        count += 1
    if over:
        level = "intensive" if count >= 2 else "motivational" if count == 1 else "none"
    else:
        level = "intensive" if count >= 3 else "motivational" if count >= 1 else "none"
    if level == "intensive" and 65 <= m.age <= 74:
        return "motivational"
    return level


def _bp_flag(m: Measurements) -> str | None:
    if bp_at_least(m, 160, 100):
        return "bp_urgent"
    if bp_at_least(m, 140, 90):
        return "bp_referral"
    return "bp_guidance" if bp_at_least(m, 130, 85) else None


def _graded(item: str, referral: bool | None, guidance: bool | None) -> str | None:
    if referral:
        return f"{item}_referral"
    return f"{item}_guidance" if guidance else None


def risk_flags(m: Measurements) -> tuple[str, ...]:
    """One flag per item at its highest reached threshold, in a fixed order."""
    glucose = m.fasting_glucose if m.fasting_glucose is not None else m.casual_glucose
    flags = [
        "bmi_guidance" if _ge(m.bmi, 25) else None,
        "waist_guidance" if waist_over(m) else None,
        _bp_flag(m),
        _graded(
            "lipid",
            _any(_ge(m.triglycerides, 300), _le(m.hdl, 34), _ge(m.ldl, 140)),
            _any(_ge(m.triglycerides, 150 if m.fasting else 175), _le(m.hdl, 39), _ge(m.ldl, 120)),
        ),
        _graded(
            "glucose",
            _any(_ge(glucose, 126), _ge(m.hba1c, 6.5)),
            _any(_ge(glucose, 100), _ge(m.hba1c, 5.6)),
        ),
        _graded(
            "liver",
            _any(_ge(m.ast, 51), _ge(m.alt, 51), _ge(m.gamma_gt, 101)),
            _any(_ge(m.ast, 31), _ge(m.alt, 31), _ge(m.gamma_gt, 51)),
        ),
        _graded(
            "renal",
            None if m.egfr is None else m.egfr < 45,
            None if m.egfr is None else m.egfr < 60,
        ),
    ]
    return tuple(flag for flag in flags if flag)


def judge(m: Measurements) -> Judgement:
    """All three judgements of one checkup."""
    return Judgement(metabolic_syndrome(m), guidance_level(m), risk_flags(m))
