"""Residential addresses (住所) in real 町域: 丁目・番地 and, for flats, a building and room.

Text is written "as recorded", in the mix a registry really holds: ``旭ケ丘3丁目2-1`` mostly,
sometimes ``3丁目2番1号`` or full-width ``３丁目２－１``; towns without 丁目 get 番地 forms
(``123番地4``, ``123-4``). The standardize stage is the one that normalizes them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import accumulate

from renkei.simulator.municipality import TownArea

_FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
_BUILDING_PATTERNS = (
    "メゾン{town}",
    "コーポ{family}",
    "ハイツ{town}",
    "{town}マンション",
    "レジデンス{town}",
    "グランドパレス{town}",
    "サンハイツ{family}",
    "パークハウス{town}",
    "ライオンズマンション{town}",
    "{family}アパート",
    "シティハイム{town}",
    "フォレスト{town}",
)
_BUILDING_FAMILIES = ("山田", "佐藤", "鈴木", "高橋", "中村", "小林", "加藤", "吉田", "松本")


@dataclass(frozen=True, slots=True)
class Address:
    """Where a household lives: 町域, 丁目・番地 part as recorded, and building/room if any."""

    town: TownArea
    street: str
    building: str | None

    def text(self, prefecture: str, city: str) -> str:
        """address_text as a registry records it, from the prefecture on
        (e.g. ``北海道札幌市中央区旭ケ丘3丁目2-1``)."""
        return f"{prefecture}{city}{self.town.name}{self.street}"


def street_part(rng: random.Random, town: TownArea) -> str:
    """The 丁目・番地 part of an address in ``town``."""
    if town.chome:
        chome, ban, go = rng.choice(town.chome), rng.randint(1, 30), rng.randint(1, 25)
        roll = rng.random()
        if roll < 0.7:
            return f"{chome}丁目{ban}-{go}"
        if roll < 0.9:
            return f"{chome}丁目{ban}番{go}号"
        return f"{chome}丁目{ban}-{go}".translate(_FULL_WIDTH)
    banchi = int(rng.triangular(1, 2500, 80))
    roll = rng.random()
    if roll < 0.3:
        return f"{banchi}番地"
    if roll < 0.6:
        return f"{banchi}番地{rng.randint(1, 30)}"
    return f"{banchi}-{rng.randint(1, 30)}"


def building_name(rng: random.Random, town: TownArea) -> str:
    """A flat's building name and room (方書), e.g. ``メゾン旭ケ丘203号室``."""
    pattern = rng.choice(_BUILDING_PATTERNS)
    name = pattern.format(town=town.name, family=rng.choice(_BUILDING_FAMILIES))
    floor, room = rng.randint(1, 12), rng.randint(1, 10)
    suffix = "号室" if rng.random() < 0.7 else "号"
    space = " " if rng.random() < 0.3 else ""
    return f"{name}{space}{floor}{room:02d}{suffix}"


class AddressMaker:
    """Draws addresses in a municipality's towns; some towns are more populous than others."""

    def __init__(self, rng: random.Random, towns: tuple[TownArea, ...]) -> None:
        self._rng = rng
        self._towns = towns
        # Lognormal weights: a few busy towns and a long tail of small ones.
        weights = (rng.lognormvariate(0.0, 0.9) for _ in towns)
        self._cumulative = tuple(accumulate(weights))

    def pick_town(self) -> TownArea:
        return self._rng.choices(self._towns, cum_weights=self._cumulative)[0]

    def new_address(self, flat_share: float) -> Address:
        """A fresh address; ``flat_share`` is the probability it is a flat in a building."""
        town = self.pick_town()
        building = building_name(self._rng, town) if self._rng.random() < flat_share else None
        return Address(town=town, street=street_part(self._rng, town), building=building)

    def elsewhere(self, town: TownArea) -> Address:
        """An address in a town of another municipality (for previous / next addresses)."""
        return Address(town=town, street=street_part(self._rng, town), building=None)
