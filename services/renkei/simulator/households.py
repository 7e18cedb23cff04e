"""Arranging sampled residents into households (世帯) without distorting the age pyramid.

Everyone is drawn from the pyramid first; households are then formed by taking people of
fitting ages from the pool: families around the children (mother 22–42 years older, a father,
siblings, sometimes an adult child at home or a grandparent), then elderly couples and
singles, then younger couples, singles and a few flat-shares (同居人). So the pyramid stays
exact and household types come out in plausible shares.
"""

from __future__ import annotations

import datetime as dt
import random

from renkei.simulator.names import foreign_given_name, nationality
from renkei.simulator.population import (
    Household,
    Resident,
    SyntheticMunicipality,
    foreign_status_for,
    make_japanese,
    random_birth_date,
    sample_age_sex,
)

_MAX_AGE = 110
_FOREIGN_HOUSEHOLD_SHARE = 0.03


class AgePool:
    """Not-yet-placed people by (sex, age), taking the one nearest a target age."""

    def __init__(self, people: list[Resident], on: dt.date) -> None:
        self._on = on
        self._buckets: dict[tuple[str, int], list[Resident]] = {}
        for person in people:
            self._buckets.setdefault((person.sex, person.age_on(on)), []).append(person)
        self.placed: set[str] = set()

    def age(self, person: Resident) -> int:
        return person.age_on(self._on)

    def take(self, sex: str, low: int, high: int, target: float) -> Resident | None:
        """The unplaced person of ``sex`` aged in [low, high] nearest ``target``, or None."""
        low, high = max(0, low), min(_MAX_AGE, high)
        if low > high:
            return None
        centre = min(max(round(target), low), high)
        for offset in range(high - low + 1):
            for age in (centre - offset, centre + offset) if offset else (centre,):
                if low <= age <= high and (person := self._pop(sex, age)):
                    return person
        return None

    def take_any(self, rng: random.Random, low: int, high: int, target: float) -> Resident | None:
        first = "1" if rng.random() < 0.5 else "2"
        other = "2" if first == "1" else "1"
        return self.take(first, low, high, target) or self.take(other, low, high, target)

    def claim(self, person: Resident) -> bool:
        """Mark ``person`` placed; False when already placed."""
        if person.key in self.placed:
            return False
        self.placed.add(person.key)
        return True

    def _pop(self, sex: str, age: int) -> Resident | None:
        bucket = self._buckets.get((sex, age))
        while bucket:
            person = bucket.pop()
            if self.claim(person):
                return person
        return None


def marry(a: Resident, b: Resident, rng: random.Random) -> None:
    """Link ``a`` and ``b`` as spouses; a few couples are unregistered (事実婚)."""
    a.spouse, b.spouse = b.key, a.key
    if rng.random() < 0.03:  # 事実婚: recorded as 妻（未届）/ 夫（未届）
        a.spouse_unregistered = b.spouse_unregistered = True


def add_child(child: Resident, mother: Resident | None, father: Resident | None) -> None:
    """Link ``child`` to its parents (either may be unknown)."""
    for parent in (mother, father):
        if parent is not None:
            parent.children.append(child.key)
    child.mother = mother.key if mother else None
    child.father = father.key if father else None


def _family(rng: random.Random, pool: AgePool, child: Resident) -> list[Resident]:
    """A family formed around ``child``: parents, siblings, maybe an adult child or grandparent."""
    age = pool.age(child)
    mother = pool.take("2", age + 18, age + 46, age + rng.triangular(22, 42, 31))
    father = None
    if mother is None or rng.random() < 0.87:
        base = pool.age(mother) if mother else age + 32
        father = pool.take("1", base - 3, base + 10, base + 2)
    parent = mother or father
    if parent is None:
        return [child]
    parent_age = pool.age(parent)
    if mother and father:
        marry(mother, father, rng)
    children = [child]
    for _ in range(rng.choices((0, 1, 2, 3), weights=(42, 42, 13, 3))[0]):
        sibling = pool.take_any(
            rng,
            max(0, parent_age - 45),
            min(17, parent_age - 18),
            age + rng.choice((-4, -3, -2, 2, 3, 4)),
        )
        if sibling:
            children.append(sibling)
    if rng.random() < 0.25 and (
        adult := pool.take_any(rng, 18, min(34, parent_age - 19), parent_age - 28)
    ):
        children.append(adult)
    for kid in children:
        add_child(kid, mother, father)
    head = father or parent
    members = [head] + [p for p in (mother,) if p and p is not head]
    if rng.random() < 0.07 and (
        elder := pool.take_any(rng, parent_age + 20, parent_age + 45, parent_age + 29)
    ):
        add_child(head, elder if elder.sex == "2" else None, elder if elder.sex == "1" else None)
        # 三世代世帯: in half of them the grandparent is still the head (子, 子の妻, 子の子)
        members.insert(0 if rng.random() < 0.5 else len(members), elder)
    members.extend(sorted(children, key=lambda p: p.birth_date))
    return members


def _elderly(rng: random.Random, pool: AgePool, person: Resident) -> list[Resident]:
    """An elderly man with his wife, or a single elderly person; sometimes with a grown child."""
    age = pool.age(person)
    members = [person]
    if (
        person.sex == "1"
        and rng.random() < 0.78
        and (wife := pool.take("2", age - 8, age + 3, age - 3))
    ):
        marry(person, wife, rng)
        members.append(wife)
    if rng.random() < (0.12 if len(members) == 2 else 0.2) and (
        child := pool.take_any(rng, 35, min(64, age - 20), age - 30)
    ):
        wife_or_none = members[1] if len(members) == 2 else None
        mother = person if person.sex == "2" else wife_or_none
        father = person if person.sex == "1" else None
        add_child(child, mother, father)
        # A widowed parent often lives in the child's household rather than heading it.
        return [child, person] if len(members) == 1 and rng.random() < 0.4 else [*members, child]
    return members


def _adult(rng: random.Random, pool: AgePool, person: Resident) -> list[Resident]:
    """A working-age person: married couple without children at home, single, or flat-share."""
    age = pool.age(person)
    married = 0.05 if age < 25 else 0.3 if age < 30 else 0.5 if age < 40 else 0.6
    if (
        person.sex == "1"
        and rng.random() < married
        and (wife := pool.take("2", age - 7, age + 3, age - 2))
    ):
        marry(person, wife, rng)
        return [person, wife]
    if age < 40 and rng.random() < 0.04 and (mate := pool.take_any(rng, age - 5, age + 5, age)):
        return [person, mate]  # unrelated: 同居人
    return [person]


def assemble_households(
    rng: random.Random, people: list[Resident], on: dt.date
) -> list[list[Resident]]:
    """Group ``people`` into households (head first), linking spouses, parents and children."""
    pool = AgePool(people, on)
    shuffled = list(people)
    rng.shuffle(shuffled)
    groups: list[list[Resident]] = []
    passes = ((0, 17, _family), (65, _MAX_AGE, _elderly), (0, _MAX_AGE, _adult))
    for low, high, build in passes:
        for person in shuffled:
            if low <= pool.age(person) <= high and pool.claim(person):
                groups.append(build(rng, pool, person))
    return groups


def settle(
    rng: random.Random, world: SyntheticMunicipality, members: list[Resident], on: dt.date
) -> Household:
    """Give ``members`` a 世帯番号 and an address, derive 続柄 and register them as residents."""
    head_age = members[0].age_on(on)
    if rng.random() < (_FOREIGN_HOUSEHOLD_SHARE * (1.6 if head_age < 45 else 0.5)):
        _make_foreign(rng, members)
    flat_share = 0.7 if len(members) == 1 and head_age < 65 else 0.35
    household = Household(
        world.issuer.household_number(), world.addresses.new_address(flat_share), members
    )
    world.add_household(household)
    since = on - dt.timedelta(days=int(365 * rng.uniform(0, min(40, max(head_age - 18, 1)))))
    for member in members:
        world.register(member, household)
        member.resident_since = max(since, member.birth_date)
    world.refresh_relationships(household)
    share_family_name(members)
    return household


# Relatives who carry the head's family name (夫婦同氏; children and the head's own parents).
_SAME_NAME = frozenset({"妻", "夫", "子", "父", "母", "子の子", "兄", "姉", "弟", "妹", "子の妻"})


def share_family_name(members: list[Resident]) -> None:
    """Give the head's family name to relatives who carry it."""
    head = members[0]
    for member in members[1:]:
        if member.relationship in _SAME_NAME and member.is_foreign == head.is_foreign:
            member.family_name = head.family_name


def _make_foreign(rng: random.Random, members: list[Resident]) -> None:
    """Turn a household's members into foreign residents of one nationality, in place."""
    country = nationality(rng)
    status = foreign_status_for(rng, country, members[0].birth_date)
    family = rng.choice(country.family)
    for member in members:
        member.nationality = country.name
        member.foreign_status = status
        member.family_name = family
        member.given_name = foreign_given_name(rng, country, member.sex)
        member.date_style = "iso"


def build_population(
    rng: random.Random, world: SyntheticMunicipality, size: int, on: dt.date
) -> None:
    """Fill ``world`` with ``size`` residents in households, as of ``on``."""
    people = []
    for _ in range(size):
        age, sex = sample_age_sex(rng)
        people.append(make_japanese(rng, world.issuer, sex, random_birth_date(rng, age, on)))
    for members in assemble_households(rng, people, on):
        settle(rng, world, members, on)
