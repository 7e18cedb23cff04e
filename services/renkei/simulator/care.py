"""介護保険 certifications (welfare.care.certifications) and disability flags.

Levels (要介護状態区分): 12 要支援1, 13 要支援2, 21–25 要介護1–5, more severe at greater age.
Validity (DOMAIN.md): new or changed 6 months (3–12), renewal 12 months (3–36, 48 when the level
is unchanged); a period starting mid-month runs to the end of the month n months later. The
decision is recorded about a month after the application (新規・区分変更: effective on the
application date) or before the old period ends (更新: effective the day after it).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from renkei.simulator.context import SimulationContext
from renkei.simulator.envelope import CARE, office_time
from renkei.simulator.population import Resident

LEVEL_NAMES = {
    "01": "非該当",
    "06": "事業対象者",
    "12": "要支援1",
    "13": "要支援2",
    "21": "要介護1",
    "22": "要介護2",
    "23": "要介護3",
    "24": "要介護4",
    "25": "要介護5",
}
LEVELS = ("12", "13", "21", "22", "23", "24", "25")
_LEVEL_WEIGHTS = (14, 14, 21, 17, 13, 12, 8)
# (lowest age of band, yearly incidence of a new certification, share certified at any time)
_BY_AGE = (
    (40, 0.0004, 0.003),
    (65, 0.006, 0.03),
    (70, 0.012, 0.06),
    (75, 0.03, 0.13),
    (80, 0.07, 0.27),
    (85, 0.13, 0.5),
    (90, 0.2, 0.72),
)
_MAX_INCIDENCE = 0.2
_FACILITY_SHARE = {"21": 0.05, "22": 0.08, "23": 0.25, "24": 0.4, "25": 0.5}
_TRIES = 200


@dataclass(slots=True, eq=False)
class CareState:
    """A resident's current certification and the flags the care system keeps with it."""

    level: str
    valid_from: dt.date
    valid_to: dt.date
    disability: dict[str, Any] | None
    in_facility: bool
    consent: bool
    consent_on: dt.date | None


def _band(age: int) -> tuple[int, float, float] | None:
    return next((band for band in reversed(_BY_AGE) if age >= band[0]), None)


def incidence(age: int) -> float:
    band = _band(age)
    return band[1] if band else 0.0


def prevalence(age: int) -> float:
    band = _band(age)
    return band[2] if band else 0.0


def month_end(day: dt.date) -> dt.date:
    following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def valid_to(start: dt.date, months: int) -> dt.date:
    """End of a period of ``months`` starting ``start``: always a month end."""
    return month_end(add_months(start, months - 1 if start.day == 1 else months))


def draw_level(rng: random.Random, age: int) -> str:
    """A care level; the old are more often severely dependent."""
    tilt = 0.15 if age >= 85 else 0.0 if age >= 75 else -0.08
    weights = [w * (1 + tilt * i) for i, w in enumerate(_LEVEL_WEIGHTS)]
    return rng.choices(LEVELS, weights=weights)[0]


def _intellectual_grade(rng: random.Random, prefecture: str) -> tuple[str, str]:
    """療育手帳 grade as printed (it differs by prefecture) and its normalized class."""
    if prefecture == "13":
        grade = rng.choice(("1度", "2度", "3度", "4度"))
        return grade, "severe" if grade in ("1度", "2度") else "moderate"
    grades = ("A1", "A2", "B1", "B2") if prefecture in ("11", "14") else ("A", "B1", "B2")
    grade = rng.choice(grades)
    return grade, "severe" if grade.startswith("A") else "moderate"


def _disability(rng: random.Random, municipality_code: str) -> dict[str, Any] | None:
    physical = rng.choices((1, 2, 3, 4, 5, 6), weights=(20, 15, 20, 30, 8, 7))[0]
    flags: dict[str, Any] = {
        "physical_grade": physical if rng.random() < 0.25 else None,
        "intellectual_grade_original": None,
        "intellectual_class": None,
        "mental_grade": rng.randint(1, 3) if rng.random() < 0.015 else None,
        "intractable_disease": rng.random() < 0.04,
    }
    if rng.random() < 0.01:
        original, normalized = _intellectual_grade(rng, municipality_code[:2])
        flags["intellectual_grade_original"] = original
        flags["intellectual_class"] = normalized
    if all(v in (None, False) for v in flags.values()):
        return None
    return flags


def _new_state(
    ctx: SimulationContext, person: Resident, level: str, start: dt.date, months: int
) -> CareState:
    rng, previous = ctx.rng, person.care
    if person.insured_number is None:
        person.insured_number = ctx.world.issuer.insured_number()
    if previous is None:
        recorded = rng.random() < 0.65
        state = CareState(
            level,
            start,
            valid_to(start, months),
            _disability(rng, ctx.world.geography.code),
            False,
            recorded and rng.random() < 0.7,
            start if recorded else None,
        )
    else:
        state = CareState(
            level,
            start,
            valid_to(start, months),
            previous.disability,
            previous.in_facility,
            previous.consent,
            previous.consent_on,
        )
    state.in_facility = state.in_facility or rng.random() < _FACILITY_SHARE.get(level, 0.0) / 3
    person.care = state
    return state


def _body(person: Resident, kind: str, state: CareState) -> dict[str, Any]:
    household = person.household
    alone = None if state.in_facility else bool(household and len(household.members) == 1)
    return {
        "resident_key": person.key,
        "certification_kind": kind,
        "care_level_code": state.level,
        "care_level_name": LEVEL_NAMES[state.level],
        "valid_from": state.valid_from.isoformat(),
        "valid_to": state.valid_to.isoformat(),
        "insured_number": person.insured_number,
        "disability": state.disability,
        "lives_alone": alone,
        "in_care_facility": state.in_facility,
        "consent_to_share": state.consent,
        "consent_recorded_on": state.consent_on.isoformat() if state.consent_on else None,
    }


def _emit(
    ctx: SimulationContext,
    person: Resident,
    kind: str,
    state: CareState,
    effective: dt.date,
    recorded: dt.datetime,
) -> None:
    ctx.emit(CARE, person.key, effective, recorded, _body(person, kind, state))
    if kind != "ended":
        decide_on = state.valid_to - dt.timedelta(days=ctx.rng.randint(10, 40))
        # decided (and recorded) during office hours on a working day
        ctx.schedule(office_time(ctx.rng, decide_on), _renewal(person, state))


def _renewal(person: Resident, state: CareState) -> Callable[[SimulationContext], None]:
    def renew(ctx: SimulationContext) -> None:
        if not person.active or person.care is not state:
            return  # moved out, died, or re-certified since
        recorded = ctx.now
        if ctx.rng.random() < 0.03:  # no renewal application: the certification lapses
            person.care = None
            _emit(ctx, person, "ended", state, state.valid_to, recorded)
            return
        step = ctx.rng.choices((0, 1, 2, -1), weights=(60, 20, 3, 17))[0]
        index = min(len(LEVELS) - 1, max(0, LEVELS.index(state.level) + step))
        months = ctx.rng.choices((12, 24, 36, 48 if step == 0 else 36), weights=(45, 20, 30, 5))[0]
        new = _new_state(ctx, person, LEVELS[index], state.valid_to + dt.timedelta(days=1), months)
        _emit(ctx, person, "renewal", new, new.valid_from, recorded)

    return renew


def _pick(ctx: SimulationContext, accept: Callable[[Resident], float]) -> Resident | None:
    for _ in range(_TRIES):
        person = ctx.world.residents.choice(ctx.rng)
        if ctx.rng.random() < accept(person):
            return person
    return None


def certify_new(ctx: SimulationContext) -> None:
    """新規: a resident applies today; the decision is recorded about a month later."""
    today = ctx.today
    person = _pick(ctx, lambda p: 0.0 if p.care else incidence(p.age_on(today)) / _MAX_INCIDENCE)
    if person is None:
        return
    level = draw_level(ctx.rng, person.age_on(today))
    state = _new_state(ctx, person, level, today, ctx.rng.choices((6, 3, 12), (80, 10, 10))[0])
    recorded = ctx.office_time(today + dt.timedelta(days=ctx.rng.randint(20, 40)))
    _emit(ctx, person, "new", state, today, recorded)


def certify_change(ctx: SimulationContext) -> None:
    """区分変更: a certified resident's condition worsened; a new 6-month period starts."""
    person = _pick(ctx, lambda p: 1.0 if p.care else 0.0)
    if person is None or person.care is None:
        return
    index = min(len(LEVELS) - 1, LEVELS.index(person.care.level) + ctx.rng.choice((1, 1, 2)))
    state = _new_state(ctx, person, LEVELS[index], ctx.today, 6)
    recorded = ctx.office_time(ctx.today + dt.timedelta(days=ctx.rng.randint(20, 40)))
    _emit(ctx, person, "change", state, ctx.today, recorded)


def past_certification(
    ctx: SimulationContext, person: Resident, start: dt.date, loaded: dt.datetime
) -> None:
    """Snapshot: the certification in force on ``start`` for ``person``."""
    rng, age = ctx.rng, person.age_on(start)
    renewal = rng.random() < 0.7
    if renewal:  # renewals start on the 1st; the period covers ``start``
        months = rng.choice((12, 24, 36))
        begin = add_months(start, -rng.randrange(months))
        decided = begin - dt.timedelta(days=rng.randint(10, 40))
    else:
        months = 6
        begin = start - dt.timedelta(days=rng.randint(1, 179))
        decided = begin + dt.timedelta(days=rng.randint(20, 40))
    state = _new_state(ctx, person, draw_level(rng, age), begin, months)
    recorded = min(office_time(rng, decided), loaded)
    _emit(ctx, person, "renewal" if renewal else "new", state, begin, recorded)
