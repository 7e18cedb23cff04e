"""世帯 changes (household_changed): 世帯分離, 世帯合併, 世帯主変更, 世帯変更.

Each is filed within 14 days. Every member whose 世帯 record changes (世帯番号, 続柄 or
whether they head it) gets one event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from renkei.simulator.context import SimulationContext
from renkei.simulator.envelope import filed_within
from renkei.simulator.population import Household, Resident
from renkei.simulator.registry import emit_household_changed

HOUSEHOLD_DEADLINE_DAYS = 14
_TRIES = 25
_STAYING_RELATIONS = frozenset({"妻", "夫", "妻（未届）", "夫（未届）"})


def _emit_all(
    ctx: SimulationContext, people: list[Resident], kind: str, effective: dt.date
) -> None:
    recorded = filed_within(ctx.rng, effective, HOUSEHOLD_DEADLINE_DAYS, ctx.now)
    for person in people:
        emit_household_changed(ctx, person, kind, effective, recorded)


def reassign_head(
    ctx: SimulationContext, household: Household, former: Resident, effective: dt.date
) -> None:
    """After the head died or left: the spouse, else the oldest adult, heads the household."""
    members = household.members
    spouse = next((m for m in members if m.key == former.spouse), None)
    adults = [m for m in members if m.age_on(effective) >= 18] or members
    new_head = spouse or min(adults, key=lambda m: m.birth_date)
    members.remove(new_head)
    members.insert(0, new_head)
    changed = ctx.world.refresh_relationships(household)
    _emit_all(ctx, changed, "世帯主変更", effective)


def _separate(ctx: SimulationContext) -> bool:
    """世帯分離: a grown member sets up their own household at the same address."""
    world = ctx.world
    for _ in range(_TRIES):
        household = world.households.choice(ctx.rng)
        candidates = [
            m
            for m in household.members[1:]
            if m.age_on(ctx.today) >= 18 and m.relationship not in _STAYING_RELATIONS
        ]
        if not candidates:
            continue
        person = ctx.rng.choice(candidates)
        moving = [person] + [
            m for m in household.members if m.key in person.children and m.age_on(ctx.today) < 18
        ]
        for member in moving:
            household.members.remove(member)
        own = Household(
            world.issuer.household_number(), household.address, moving, split_from=household.number
        )
        world.add_household(own)
        for member in moving:
            member.household = own
        world.refresh_relationships(own)
        _emit_all(ctx, moving, "世帯分離", ctx.today)
        return True
    return False


def _merge(ctx: SimulationContext) -> bool:
    """世帯合併: a household separated earlier joins the household it came from again."""
    world = ctx.world
    if not world.separated:
        return False
    source = world.separated.choice(ctx.rng)
    target = world.by_number.get(source.split_from or "")
    if target is None or target.address is not source.address:
        world.separated.remove(source)  # the original household is gone or moved away
        return False
    moving = list(source.members)
    world.remove_household(source)
    target.members.extend(moving)
    for member in moving:
        member.household = target
    changed = world.refresh_relationships(target)
    _emit_all(ctx, list(dict.fromkeys([*moving, *changed])), "世帯合併", ctx.today)
    return True


def _hand_over(ctx: SimulationContext) -> bool:
    """世帯主変更: an old head hands the household over to a grown child."""
    for _ in range(_TRIES):
        household = ctx.world.households.choice(ctx.rng)
        if household.head.age_on(ctx.today) < 70:
            continue
        heirs = [
            m for m in household.members if m.relationship == "子" and m.age_on(ctx.today) >= 30
        ]
        if not heirs:
            continue
        heir = ctx.rng.choice(heirs)
        household.members.remove(heir)
        household.members.insert(0, heir)
        changed = ctx.world.refresh_relationships(household)
        _emit_all(ctx, changed, "世帯主変更", ctx.today)
        return True
    return False


def _register_partner(ctx: SimulationContext) -> bool:
    """世帯変更: an unregistered partner (妻（未届）) is now married (妻)."""
    for _ in range(_TRIES):
        household = ctx.world.households.choice(ctx.rng)
        partner = next((m for m in household.members if m.relationship.endswith("（未届）")), None)
        if partner is None:
            continue
        partner.spouse_unregistered = False
        head = household.head
        head.spouse_unregistered = False
        changed = ctx.world.refresh_relationships(household)
        _emit_all(ctx, changed, "世帯変更", ctx.today)
        return True
    return False


_KINDS: dict[str, tuple[float, Callable[[SimulationContext], bool]]] = {
    "世帯分離": (40, _separate),
    "世帯合併": (15, _merge),
    "世帯主変更": (30, _hand_over),
    "世帯変更": (15, _register_partner),
}


def change_household(ctx: SimulationContext) -> None:
    """One household change; if the drawn kind has no candidate, try the others in turn."""
    names = list(_KINDS)
    first = ctx.rng.choices(names, weights=[weight for weight, _ in _KINDS.values()])[0]
    for name in [first, *(n for n in names if n != first)]:
        if _KINDS[name][1](ctx):
            return
