"""健康診査 results (health.checkup.results): plausible measurements and their judgement.

Each resident gets a lasting ``HealthProfile`` (height, usual BMI, tendencies) the first time
they are examined, so repeated checkups of one person look alike. Types: 特定健診 (specific,
40–74), 後期高齢者健診 (late_elderly, 75+; no waist, outside 特定保健指導) and 一般健診
(general, under 40). Results reach the system two to six weeks after the checkup.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from typing import Any

from renkei.simulator.checkup_judgement import Measurements, judge
from renkei.simulator.context import SimulationContext
from renkei.simulator.envelope import CHECKUP, office_time
from renkei.simulator.population import Resident

_TRIES = 60
_INSTITUTIONS = (
    "{town}内科クリニック",
    "{city}医師会健診センター",
    "{city}保健センター",
    "総合健診センター{town}",
    "{town}ファミリークリニック",
    "市立病院 健診科",
)


@dataclass(slots=True)
class HealthProfile:
    """What stays the same about a person's health between checkups."""

    height_cm: float
    usual_bmi: float
    smoker: bool
    bp_offset: float
    glucose_offset: float
    diabetic: bool
    hdl_offset: float
    ldl_offset: float
    kidney_offset: float


def fiscal_year(day: dt.date) -> int:
    """年度: April to March."""
    return day.year if day.month >= 4 else day.year - 1


def checkup_type(age: int) -> str | None:
    """The checkup a resident of ``age`` attends, or None for children."""
    if 40 <= age <= 74:
        return "specific"
    if age >= 75:
        return "late_elderly"
    return "general" if age >= 18 else None


def _profile(rng: random.Random, person: Resident, age: int) -> HealthProfile:
    male = person.sex == "1"
    shrink = 0.12 * max(0, age - 30)
    return HealthProfile(
        height_cm=rng.gauss(171 if male else 158, 5.8 if male else 5.3) - shrink,
        usual_bmi=min(40.0, max(15.5, rng.gauss(23.8 if male else 22.3, 3.3))),
        smoker=rng.random() < (0.27 if male else 0.08),
        bp_offset=rng.gauss(0, 12),
        glucose_offset=rng.gauss(0, 7),
        diabetic=rng.random() < 0.002 * max(0, age - 30),
        hdl_offset=rng.gauss(0, 12),
        ldl_offset=rng.gauss(0, 28),
        kidney_offset=rng.gauss(0, 11),
    )


def _lognormal(rng: random.Random, median: float, sigma: float) -> int:
    return round(median * math.exp(rng.gauss(0, sigma)))


def _treated(
    rng: random.Random, value: float, threshold: float, share: float, effect: float
) -> tuple[float, bool]:
    """A value above ``threshold`` is treated for ``share`` of people, lowering it by ``effect``."""
    on_medication = value >= threshold and rng.random() < share
    return (value - effect if on_medication else value), on_medication


def _waist(rng: random.Random, male: bool, bmi: float, kind: str) -> float | None:
    if kind == "late_elderly" or rng.random() < 0.01:
        return None  # not part of 後期高齢者健診; occasionally not measured
    return round((2.4 * bmi + 30 if male else 2.5 * bmi + 25) + rng.gauss(0, 4.5), 1)


def measure(rng: random.Random, person: Resident, age: int, kind: str) -> Measurements:
    """Draw one checkup's measurements for ``person``."""
    if person.health is None:
        person.health = _profile(rng, person, age)
    h, male = person.health, person.sex == "1"
    bmi = round(h.usual_bmi + rng.gauss(0, 0.6), 1)
    raw_systolic = 95 + 0.55 * age + 1.2 * (bmi - 22) + h.bp_offset + rng.gauss(0, 6)
    raw_glucose = 90 + 0.2 * (age - 40) + (bmi - 22) + h.glucose_offset + rng.gauss(0, 5)
    raw_ldl = 115 + 0.4 * (age - 40) + (10 if not male and age >= 50 else 0) + h.ldl_offset
    systolic, on_bp = _treated(rng, raw_systolic, 135, 0.65, 12)
    glucose, on_glucose = _treated(rng, raw_glucose + (45 if h.diabetic else 0), 126, 0.6, 20)
    ldl, on_lipid = _treated(rng, raw_ldl, 140, 0.4, 40)
    fasting = rng.random() < 0.8
    tg_median = (90 + (20 if male else 0)) * (1 + 0.05 * (bmi - 22)) * (1.0 if fasting else 1.2)
    hba1c = round(0.028 * glucose + 2.95 + rng.gauss(0, 0.15), 1)
    return Measurements(
        sex=person.sex,
        age=age,
        bmi=bmi,
        waist_cm=_waist(rng, male, bmi, kind),
        systolic_bp=round(systolic),
        diastolic_bp=round(0.55 * systolic + 8 + rng.gauss(0, 6)),
        triglycerides=_lognormal(rng, tg_median, 0.5),
        hdl=round(min(120, max(20, (55 if male else 66) - 1.2 * (bmi - 22) + h.hdl_offset))),
        ldl=round(min(260, max(40, ldl + rng.gauss(0, 8)))),
        fasting_glucose=round(glucose) if fasting else None,
        casual_glucose=None if fasting else round(glucose + 15 + rng.gauss(0, 12)),
        hba1c=hba1c if rng.random() < 0.85 else None,
        ast=_lognormal(rng, 20 * (1 + 0.03 * (bmi - 22)), 0.3),
        alt=_lognormal(rng, (22 if male else 15) * (1 + 0.06 * (bmi - 22)), 0.45),
        gamma_gt=_lognormal(rng, 30 if male else 18, 0.6),
        egfr=round(min(130.0, max(10.0, 110 - 0.65 * age + h.kidney_offset)), 1),
        smoking=None if rng.random() < 0.02 else h.smoker,
        medication_bp=on_bp,
        medication_glucose=on_glucose,
        medication_lipid=on_lipid,
    )


def checkup_body(ctx: SimulationContext, person: Resident, day: dt.date) -> dict[str, Any]:
    """The CheckupResult fields after the envelope, for a checkup of ``person`` on ``day``."""
    age = person.age_on(day)
    kind = checkup_type(age) or "general"
    m = measure(ctx.rng, person, age, kind)
    judgement = judge(m)
    guidance = "none" if kind == "late_elderly" else judgement.guidance_level
    height = round(person.health.height_cm if person.health else 160.0, 1)
    town = person.household.address.town.name if person.household else ctx.city
    institution = ctx.rng.choice(_INSTITUTIONS).format(town=town, city=ctx.city)
    person.last_checkup_year = fiscal_year(day)
    return {
        "resident_key": person.key,
        "checkup_type": kind,
        "checkup_date": day.isoformat(),
        "fiscal_year": fiscal_year(day),
        "age_at_checkup": age,
        "sex": person.sex,
        "height_cm": height,
        "weight_kg": round((m.bmi or 22.0) * (height / 100) ** 2, 1),
        "bmi": m.bmi,
        "waist_cm": m.waist_cm,
        "systolic_bp": m.systolic_bp,
        "diastolic_bp": m.diastolic_bp,
        "triglycerides_mg_dl": m.triglycerides,
        "hdl_mg_dl": m.hdl,
        "ldl_mg_dl": m.ldl,
        "fasting_glucose_mg_dl": m.fasting_glucose,
        "casual_glucose_mg_dl": m.casual_glucose,
        "hba1c_ngsp": m.hba1c,
        "ast": m.ast,
        "alt": m.alt,
        "gamma_gt": m.gamma_gt,
        "egfr": m.egfr,
        "smoking": m.smoking,
        "medication_bp": m.medication_bp,
        "medication_glucose": m.medication_glucose,
        "medication_lipid": m.medication_lipid,
        "metabolic_syndrome": judgement.metabolic_syndrome,
        "guidance_level": guidance,
        "risk_flags": list(judgement.risk_flags),
        "examining_institution": institution,
    }


def _attendee(ctx: SimulationContext) -> Resident | None:
    """A resident due for this year's checkup: most often 40–74, less often older or younger."""
    year = fiscal_year(ctx.today)
    for _ in range(_TRIES):
        person = ctx.world.residents.choice(ctx.rng)
        kind = checkup_type(person.age_on(ctx.today))
        chance = {"specific": 1.0, "late_elderly": 0.6, "general": 0.12}.get(kind or "", 0.0)
        if person.last_checkup_year != year and ctx.rng.random() < chance:
            return person
    return None


def checkup(ctx: SimulationContext) -> None:
    """A resident attends a checkup today; the result is recorded two to six weeks later."""
    person = _attendee(ctx)
    if person is None:
        return
    body = checkup_body(ctx, person, ctx.today)
    recorded = ctx.office_time(ctx.today + dt.timedelta(days=ctx.rng.randint(14, 45)))
    ctx.emit(CHECKUP, person.key, ctx.today, recorded, body)


def past_checkup(
    ctx: SimulationContext, person: Resident, day: dt.date, loaded: dt.datetime
) -> None:
    """Snapshot: last year's result of ``person``, recorded before the load at ``loaded``."""
    body = checkup_body(ctx, person, day)
    recorded = min(office_time(ctx.rng, day + dt.timedelta(days=ctx.rng.randint(14, 45))), loaded)
    ctx.emit(CHECKUP, person.key, day, recorded, body)
