"""Births (出生 born), deaths (死亡 died) and 支援措置 (protection_set / protection_lifted).

Births are filed within 14 days, deaths within 7. A 支援措置 (DV, stalking or child-abuse
support measure that blocks access to the victim's address) lasts one year and ends unless
renewed on request; the victim's children at the same address are covered too.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import partial

from renkei.simulator.context import SimulationContext
from renkei.simulator.envelope import filed_within
from renkei.simulator.household_changes import reassign_head
from renkei.simulator.households import add_child
from renkei.simulator.names import NATIONALITIES
from renkei.simulator.population import Resident, make_foreign, make_japanese
from renkei.simulator.registry import emit_registry, emit_with_person

BIRTH_DEADLINE_DAYS = 14
DEATH_DEADLINE_DAYS = 7
_TRIES = 400
_MORTALITY_CAP = 0.5
# Relative fertility of women by 5-year band from 20 (peak at 30–34).
_FERTILITY = {20: 0.25, 25: 0.6, 30: 1.0, 35: 0.6, 40: 0.12}
_COUNTRY = {country.name: country for country in NATIONALITIES}
_MEASURES = ("DV", "ストーカー", "児童虐待", "その他")
_MEASURE_WEIGHTS = (70, 15, 10, 5)


def mortality(age: int) -> float:
    """Yearly probability of death at ``age`` (Gompertz curve near Japan's life table)."""
    return min(_MORTALITY_CAP, 0.00002 * math.exp(0.098 * age) + (0.002 if age == 0 else 0.0))


def _mother(ctx: SimulationContext) -> Resident | None:
    for _ in range(_TRIES):
        woman = ctx.world.residents.choice(ctx.rng)
        age = woman.age_on(ctx.today)
        if woman.sex != "2" or not 20 <= age <= 44 or woman.household is None:
            continue
        partnered = woman.spouse is not None and any(
            m.key == woman.spouse for m in woman.household.members
        )
        if ctx.rng.random() < _FERTILITY[age // 5 * 5] * (1.0 if partnered else 0.1):
            return woman
    return None


def birth(ctx: SimulationContext) -> None:
    """A baby is born to a resident mother and joins her household (出生)."""
    mother = _mother(ctx)
    if mother is None or mother.household is None:
        return
    household = mother.household
    father = next((m for m in household.members if m.key == mother.spouse), None)
    sex = "1" if ctx.rng.random() < 0.512 else "2"
    family = (father or mother).family_name
    issuer = ctx.world.issuer
    if mother.is_foreign and (father is None or father.is_foreign):
        country = _COUNTRY[mother.nationality or ""]
        # A child born in Japan to foreign parents is 経過滞在者 until granted a status.
        child = make_foreign(ctx.rng, issuer, sex, ctx.today, country, "経過滞在者", family)
    else:
        child = make_japanese(ctx.rng, issuer, sex, ctx.today, family)
    add_child(child, mother, father)
    household.members.append(child)
    ctx.world.register(child, household)
    child.resident_since = ctx.today
    ctx.world.refresh_relationships(household)
    recorded = filed_within(ctx.rng, ctx.today, BIRTH_DEADLINE_DAYS, ctx.now)
    place = f"{ctx.world.geography.full_name}"
    emit_with_person(ctx, child, "born", "出生", ctx.today, recorded, {"birth_place": place})


def _deceased(ctx: SimulationContext) -> Resident | None:
    for _ in range(_TRIES):
        person = ctx.world.residents.choice(ctx.rng)
        if ctx.rng.random() * _MORTALITY_CAP < mortality(person.age_on(ctx.today)):
            return person
    return None


def death(ctx: SimulationContext) -> None:
    """A resident dies, mostly the old (死亡); the household gets a new head if needed."""
    person = _deceased(ctx)
    if person is None:
        return
    household = person.household
    former_head = household.head if household else None
    recorded = filed_within(ctx.rng, ctx.today, DEATH_DEADLINE_DAYS, ctx.now)
    place = ctx.world.geography.full_name if ctx.rng.random() < 0.8 else None
    detail = {"date_of_death": ctx.today.isoformat(), "place_of_death": place}
    emit_registry(ctx, person, "died", "死亡", ctx.today, recorded, detail)
    remaining = ctx.world.depart(person, "死亡")
    if remaining is not None and former_head is person:
        reassign_head(ctx, remaining, person, ctx.today)


def _victims(ctx: SimulationContext) -> list[Resident]:
    for _ in range(_TRIES):
        person = ctx.world.residents.choice(ctx.rng)
        age = person.age_on(ctx.today)
        if person.protected_until or person.household is None or not 18 <= age <= 64:
            continue
        if person.sex == "1" and ctx.rng.random() < 0.8:
            continue
        children = [
            m
            for m in person.household.members
            if m.key in person.children and m.age_on(ctx.today) < 18
        ]
        return [person, *children]
    return []


def protect(ctx: SimulationContext) -> None:
    """A 支援措置 starts for a victim (and their children at the same address)."""
    victims = _victims(ctx)
    if not victims:
        return
    measure = ctx.rng.choices(_MEASURES, weights=_MEASURE_WEIGHTS)[0]
    _set_protection(ctx, victims, measure)


def _set_protection(ctx: SimulationContext, victims: list[Resident], measure: str) -> None:
    until = _one_year_later(ctx.today) - dt.timedelta(days=1)
    recorded = ctx.office_time(ctx.today)
    for person in victims:
        person.protected_until = until
        named = [v.key for v in victims if v is not person]  # 併せて支援を求める者
        detail = {
            "measure": measure,
            "valid_until": until.isoformat(),
            "named_resident_keys": named,
        }
        emit_registry(ctx, person, "protection_set", "支援措置開始", ctx.today, recorded, detail)

    def expire(later: SimulationContext) -> None:
        still = [p for p in victims if p.active and p.protected_until == until]
        if not still:
            return
        if later.rng.random() < 0.55:  # renewed on request (no automatic renewal)
            _set_protection(later, still, measure)
        else:
            _lift(later, still, until, "期間満了")

    ctx.schedule(dt.datetime.combine(until, dt.time(9)), expire)
    if ctx.rng.random() < 0.1:  # ended early at the victim's own request
        early = ctx.now + dt.timedelta(days=ctx.rng.uniform(30, 330))
        ctx.schedule(early, partial(_lift, victims=victims, until=until, reason="本人からの申出"))


def _lift(ctx: SimulationContext, victims: list[Resident], until: dt.date, reason: str) -> None:
    """End the measure for those of ``victims`` still covered by the period ending ``until``."""
    recorded = ctx.office_time(ctx.today)
    for person in victims:
        if person.active and person.protected_until == until:
            person.protected_until = None
            emit_registry(
                ctx,
                person,
                "protection_lifted",
                "支援措置終了",
                ctx.today,
                recorded,
                {"lifted_reason": reason},
            )


def _one_year_later(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)
