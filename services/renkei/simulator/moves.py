"""Moves: 転入 moved_in, 転出 moved_out, 転居 moved_within — and the snapshot's 職権記載 load.

Deadlines (DOMAIN.md): a move-in or move within is filed within 14 days of moving; a move-out
is filed before leaving, so its ``effective_date`` (the planned date) lies after the filing.
"""

from __future__ import annotations

import datetime as dt

from renkei.simulator.context import SimulationContext
from renkei.simulator.envelope import filed_within
from renkei.simulator.household_changes import reassign_head
from renkei.simulator.households import add_child, marry, share_family_name
from renkei.simulator.municipality import OtherPlace
from renkei.simulator.names import nationality
from renkei.simulator.population import (
    Household,
    Resident,
    foreign_status_for,
    make_foreign,
    make_japanese,
    random_birth_date,
)
from renkei.simulator.registry import emit_moved_within, emit_registry, emit_with_person

MOVE_DEADLINE_DAYS = 14
_NEWCOMER_KINDS = ("single", "couple", "family", "elderly", "foreign")
_NEWCOMER_WEIGHTS = (50, 15, 19, 6, 8)
_ABROAD = ("アメリカ合衆国", "中国", "タイ", "オーストラリア", "英国", "シンガポール")
# Relative yearly mobility by age of the household head: moves are mostly in the 20s and 30s.
_MOBILITY = ((18, 0.8), (25, 1.0), (30, 0.75), (35, 0.5), (40, 0.3), (50, 0.18), (65, 0.1))
_TRIES = 100


def mobility(age: int) -> float:
    """How likely a household whose head is ``age`` is to move, relative to the most mobile."""
    return next((share for low, share in reversed(_MOBILITY) if age >= low), 0.8)


def _mover(ctx: SimulationContext) -> Household:
    """A household chosen with the age pattern of real moves."""
    households = ctx.world.households
    for _ in range(_TRIES):
        household = households.choice(ctx.rng)
        if ctx.rng.random() < mobility(household.head.age_on(ctx.today)):
            return household
    return households.choice(ctx.rng)


def register_existing(ctx: SimulationContext, person: Resident) -> None:
    """Snapshot load: one 職権記載 moved_in per resident already on the registry."""
    since = person.resident_since or person.birth_date
    extra = {
        "previous_municipality_code": None,
        "previous_address_text": None,
        "from_abroad": False,
    }
    emit_with_person(ctx, person, "moved_in", "職権記載", since, ctx.now, extra)


def other_place(ctx: SimulationContext) -> OtherPlace:
    """Where a mover comes from or goes to: half the time within the same prefecture."""
    places = ctx.world.other_places
    if ctx.rng.random() < 0.5:
        prefecture = ctx.world.geography.prefecture
        near = [place for place in places if place.prefecture == prefecture]
        if near:
            return ctx.rng.choice(near)
    return ctx.rng.choice(places)


def _newcomers(ctx: SimulationContext, kind: str) -> list[Resident]:
    """Members of a household moving in (head first), linked as a family."""
    rng, issuer, today = ctx.rng, ctx.world.issuer, ctx.today

    def person(sex: str, low: int, high: int, family: Resident | None = None) -> Resident:
        birth = random_birth_date(rng, rng.randint(low, high), today)
        return make_japanese(rng, issuer, sex, birth, family.family_name if family else None)

    if kind == "single":
        return [person("1" if rng.random() < 0.55 else "2", 18, 35)]
    if kind == "elderly":
        return [person("2" if rng.random() < 0.65 else "1", 65, 90)]
    if kind == "foreign":
        country = nationality(rng)
        birth = random_birth_date(rng, rng.randint(19, 40), today)
        sex = "1" if rng.random() < 0.55 else "2"
        status = foreign_status_for(rng, country, birth)
        return [make_foreign(rng, issuer, sex, birth, country, status)]
    husband = person("1", 25, 45)
    wife = person("2", max(20, husband.age_on(today) - 6), husband.age_on(today) + 2, husband)
    marry(husband, wife, rng)
    members = [husband, wife]
    if kind == "family":
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            child = person(
                "1" if rng.random() < 0.5 else "2",
                0,
                max(0, min(15, wife.age_on(today) - 20)),
                husband,
            )
            add_child(child, wife, husband)
            members.append(child)
    return members


def move_in(ctx: SimulationContext) -> None:
    """A new household moves in from another municipality or from abroad (転入)."""
    rng, world = ctx.rng, ctx.world
    kind = rng.choices(_NEWCOMER_KINDS, weights=_NEWCOMER_WEIGHTS)[0]
    members = _newcomers(ctx, kind)
    abroad = rng.random() < (0.6 if kind == "foreign" else 0.02)
    flat_share = 0.8 if len(members) == 1 else 0.4
    household = Household(
        world.issuer.household_number(), world.addresses.new_address(flat_share), members
    )
    world.add_household(household)
    for member in members:
        world.register(member, household)
        member.resident_since = ctx.today
    world.refresh_relationships(household)
    share_family_name(members)
    if abroad:
        previous_code, previous_text = None, members[0].nationality or rng.choice(_ABROAD)
    else:
        place = other_place(ctx)
        previous_code = place.municipality_code
        previous_text = world.addresses.elsewhere(place.town).text(place.prefecture, place.city)
    extra = {
        "previous_municipality_code": previous_code,
        "previous_address_text": previous_text,
        "from_abroad": abroad,
    }
    reason = "国外転入" if abroad else "国内転入"
    recorded = filed_within(rng, ctx.today, MOVE_DEADLINE_DAYS, ctx.now)
    for member in members:
        emit_with_person(ctx, member, "moved_in", reason, ctx.today, recorded, extra)


def _leavers(ctx: SimulationContext, household: Household) -> list[Resident]:
    """The whole household, or sometimes one young adult leaving on their own."""
    if len(household.members) > 1 and ctx.rng.random() < 0.3:
        young = [
            m
            for m in household.members[1:]
            if 18 <= m.age_on(ctx.today) <= 40 and m.relationship in ("子", "子の子", "同居人")
        ]
        if young:
            return [ctx.rng.choice(young)]
    return list(household.members)


def move_out(ctx: SimulationContext) -> None:
    """Residents move to another municipality or abroad (転出), filed before they leave."""
    rng, world = ctx.rng, ctx.world
    household = _mover(ctx)
    leavers = _leavers(ctx, household)
    abroad = rng.random() < (0.45 if leavers[0].is_foreign else 0.02)
    planned = ctx.today + dt.timedelta(days=rng.randint(0, 14))
    recorded = ctx.office_time(ctx.today)
    if abroad:
        detail = {
            "next_municipality_code": None,
            "next_address_text": leavers[0].nationality or rng.choice(_ABROAD),
            "to_abroad": True,
            "planned_date": planned.isoformat(),
        }
    else:
        place = other_place(ctx)
        text = world.addresses.elsewhere(place.town).text(place.prefecture, place.city)
        detail = {
            "next_municipality_code": place.municipality_code,
            "next_address_text": text,
            "to_abroad": False,
            "planned_date": planned.isoformat(),
        }
    reason = "国外転出" if abroad else "国内転出"
    former = household.head
    for person in leavers:
        emit_registry(ctx, person, "moved_out", reason, planned, recorded, dict(detail))
        world.depart(person, "転出")
    if former in leavers and household.members:
        reassign_head(ctx, household, former, planned)


def move_within(ctx: SimulationContext) -> None:
    """A household moves to another address in the municipality (転居); sometimes one grown
    child moves out of the parents' household into a flat of their own."""
    rng, world = ctx.rng, ctx.world
    household = _mover(ctx)
    recorded = filed_within(rng, ctx.today, MOVE_DEADLINE_DAYS, ctx.now)
    grown = [
        m
        for m in household.members[1:]
        if m.relationship == "子" and 18 <= m.age_on(ctx.today) <= 45
    ]
    if grown and rng.random() < 0.3:
        person = rng.choice(grown)
        household.members.remove(person)
        own = Household(world.issuer.household_number(), world.addresses.new_address(0.8), [person])
        world.add_household(own)
        person.household = own
        world.refresh_relationships(own)
        emit_moved_within(ctx, person, "転居", ctx.today, recorded)
        return
    household.address = world.addresses.new_address(0.5 if len(household.members) > 1 else 0.8)
    for member in household.members:
        emit_moved_within(ctx, member, "転居", ctx.today, recorded)
