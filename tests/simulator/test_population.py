"""The synthetic population: age pyramid, households, names, foreign residents."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from renkei.simulator.addresses import AddressMaker
from renkei.simulator.households import build_population
from renkei.simulator.identifiers import IdentifierIssuer
from renkei.simulator.municipality import load_municipality, load_other_places
from renkei.simulator.population import AGE_BANDS, SyntheticMunicipality

ON = dt.date(2026, 4, 1)
# The standard's basic terms, chained with の; 孫, 祖父, 祖母, おじ, おば, 甥, 姪 never appear.
BASIC_TERMS = {"世帯主", "夫", "妻", "子", "父", "母", "兄", "姉", "弟", "妹"}


@pytest.fixture(scope="module")
def world() -> SyntheticMunicipality:
    rng = random.Random(2024)
    geography = load_municipality("011011")
    world = SyntheticMunicipality(
        geography,
        IdentifierIssuer(rng),
        AddressMaker(rng, geography.towns),
        load_other_places(geography.code),
    )
    build_population(rng, world, 2000, ON)
    return world


def test_age_pyramid_is_japanese_shaped(world: SyntheticMunicipality) -> None:
    ages = [p.age_on(ON) for p in world.residents]
    assert len(ages) == 2000
    share = lambda low, high: sum(low <= a <= high for a in ages) / len(ages)  # noqa: E731
    assert 0.09 <= share(0, 14) <= 0.14  # 年少人口 about 11 %
    assert 0.26 <= share(65, 200) <= 0.32  # 老年人口 about 29 % (超高齢社会)
    assert share(75, 200) > share(0, 14)  # more old-old than children
    total = sum(AGE_BANDS)
    for band, weight in enumerate(AGE_BANDS[:-1]):
        assert abs(share(band * 5, band * 5 + 4) - weight / total) < 0.025, band


def test_households_have_one_head_and_standard_relationships(world: SyntheticMunicipality) -> None:
    sizes = Counter(len(h.members) for h in world.households)
    assert sizes[1] > sizes[2] > sizes[4] > sizes[6]  # single households most common
    for household in world.households:
        heads = [m for m in household.members if m.relationship == "世帯主"]
        assert heads == [household.head]
    relationships = Counter(p.relationship for p in world.residents)
    for text in relationships:
        terms = text.removesuffix("（未届）").split("の")
        assert text in ("同居人", "縁故者") or set(terms) <= BASIC_TERMS, text
    assert {"妻", "子", "母"} <= set(relationships)


def test_children_live_with_a_parent_and_spouses_share_the_family_name(
    world: SyntheticMunicipality,
) -> None:
    children = [p for p in world.residents if p.age_on(ON) < 15]
    with_parent = [
        c
        for c in children
        if c.household and any(m.key in (c.mother, c.father) for m in c.household.members)
    ]
    assert len(with_parent) / len(children) > 0.95
    wives = [p for p in world.residents if p.relationship == "妻" and p.household]
    same = [w for w in wives if w.family_name == w.household.head.family_name]  # type: ignore[union-attr]
    assert len(same) / len(wives) > 0.95


def test_some_residents_are_foreign_with_a_status(world: SyntheticMunicipality) -> None:
    foreign = [p for p in world.residents if p.is_foreign]
    assert 0.01 < len(foreign) / len(world.residents) < 0.06
    assert {p.foreign_status for p in foreign} <= {"中長期在留者", "特別永住者"}
    assert all(p.date_style == "iso" for p in foreign)  # 西暦 for foreign residents


def test_addresses_are_in_real_town_areas(world: SyntheticMunicipality) -> None:
    postal_codes = {t.postal_code for t in world.geography.towns}
    assert all(h.address.town.postal_code in postal_codes for h in world.households)
    text = world.households.choice(random.Random(0)).address.text("北海道", "札幌市中央区")
    assert text.startswith("北海道札幌市中央区")
