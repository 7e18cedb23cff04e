"""町域 (town areas) of a municipality and finding one in an address key.

:class:`City` holds a municipality's 町域 by folded key; :func:`match_town` finds the one an
address names, handling 大字 / 字 (present, missing, or inside a merged town's name), 小字 that
Japan Post lists in its notes, and Kyoto's street directions written before the name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from renkei.normalize.address_rules import AreaRule

# Street directions in every spelling: 上ル / 上る / 上がる / 上ガル (the key folds が and ガ to
# ケ: 上ケる), the same for 下, and 西入 / 東入 with or without ル / る.
_DIRECTIONS: Final = r"上ケる|上ケル|下ケる|下ケル|上る|下る|上ル|下ル|入る|入ル|入"
_DIRECTION_END: Final = re.compile(f"(?:{_DIRECTIONS})")
# Where the 番地 starts: a number that is no part of a name (3条通, 2ノ宮, 5丁目 are).
_BANCHI_START: Final = re.compile(r"(?<![0-9])[0-9]+(?![0-9]|条|ノ|線|区|番町|町内|丁目|筋目)")
# With a street (…通), its 丁目 also ends the directions: 三条通白川橋東4丁目中之町.
_STREET_END: Final = re.compile(f"(?:{_DIRECTIONS}|(?<=[0-9])丁目)")
_CHOME_IN_DIRECTIONS: Final = re.compile(r"([0-9]+(?:丁目|筋目))[東西]?")
_AZA: Final = re.compile(r"大?字?")


@dataclass(frozen=True, slots=True)
class PostalArea:
    """One Japan Post row of a 町域: its postal code and the part of the 町域 it covers."""

    postal_code: str
    rule: AreaRule


@dataclass(frozen=True, slots=True)
class TowerFloor:
    """A high-rise building Japan Post gives a postal code per floor (中央アエル 5階): its name
    as a folded key (アエル), the floor (None: 地階・階層不明, basement or floor not known) and
    the code."""

    building_key: str
    floor: int | None
    postal_code: str


@dataclass(frozen=True, slots=True)
class Town:
    """A 町域 (town area) of one municipality, over all the rows that list it."""

    name: str
    key: str
    areas: tuple[PostalArea, ...]
    has_chome: bool
    chome_only: bool
    koaza_words: tuple[str, ...]  # 小字 named by the rows' notes, folded, longest first
    towers: tuple[TowerFloor, ...] = ()  # office towers with a postal code per floor

    @property
    def postal_codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(area.postal_code for area in self.areas))


@dataclass(frozen=True, slots=True, eq=False)
class City:
    """A municipality, or one ward of a designated city (政令指定都市の区)."""

    code: str
    prefecture: str
    name: str
    towns: Mapping[str, tuple[Town, ...]]
    max_town_key: int
    lists_koaza: bool  # some 町域 has 小字 in its notes
    street_directions: bool  # addresses name streets before the 町域 (Kyoto: 通…上る/下る/入)
    catch_all_postal: str | None
    bare_number_areas: tuple[PostalArea, ...]


@dataclass(frozen=True, slots=True)
class TownMatch:
    """町域 found in a key: candidates (more than one only when folding merged two spellings),
    where the match ends in the key, and Kyoto street directions written before the name."""

    towns: tuple[Town, ...]
    end: int
    street: str = ""
    oaza: bool = False  # 大字 was written before the name


def match_town(city: City, key: str, start: int) -> TownMatch | None:
    """The 町域 of ``city`` written at ``key[start:]``, the longest that fits.

    大字 / 字 (large / small section) are optional where they precede the name or sit
    inside it after an old municipality's name (音別町字尺別 for 音別町尺別). In Kyoto the
    name may follow street directions (竹屋町通柳馬場西入和久屋町); the match then records them.
    Elsewhere directions are not looked for: 川原通3丁目 + 1番 is no street + 町域 一番.
    """
    direct = _match_with_aza(city, key, start)
    if not city.street_directions:
        return direct
    digit = _BANCHI_START.search(key, start)
    stop = digit.start() if digit else len(key)
    best = direct
    directions = _DIRECTION_END if "通" not in key[start:stop] else _STREET_END
    for found in directions.finditer(key, start, stop):
        ends = [found.end()]
        if chome := _CHOME_IN_DIRECTIONS.match(key, found.end()):  # 上る2筋目西, 東入4丁目
            ends += [chome.end(1), chome.end()]
        for end in ends:
            after = _match_with_aza(city, key, end)
            if after is not None and (best is None or after.end > best.end):
                best = TownMatch(after.towns, after.end, key[start:end], after.oaza)
    return best


def _longest_town(city: City, key: str, start: int) -> TownMatch | None:
    """The longest 町域 name at ``start``, unless a shorter one followed by one of its listed
    小字 reads further (三里塚 + 御料牧場 rather than 三里塚御料 + 牧場)."""
    longest: TownMatch | None = None
    for length in range(min(city.max_town_key, len(key) - start), 0, -1):
        towns = city.towns.get(key[start : start + length])
        if not towns:
            continue
        match = TownMatch(towns, start + length)
        if longest is None:
            longest = match
            if not city.lists_koaza:
                return longest
        elif _koaza_end(match, key) > longest.end:
            return match
    return longest


def _match_with_aza(city: City, key: str, start: int) -> TownMatch | None:
    oaza = key.startswith("大字", start)
    if oaza:
        start += 2
    elif key.startswith("字", start):
        start += 1
    best = _longest_town(city, key, start)
    if oaza and best is not None:
        best = TownMatch(best.towns, best.end, oaza=True)
    if best is not None and _names_koaza(best, key):
        return best  # 庶路字宮下: 庶路's 小字 宮下, though a 町域 庶路宮下 exists too
    inner = key.find("字", start + 1, start + city.max_town_key + 2)
    while inner > 0:  # 十文字町大字谷地新田: try each 字, the one in 十文字 too
        cut = inner - 1 if key[inner - 1] == "大" and inner - 1 > start else inner
        without = _longest_town(city, key[:cut] + key[inner + 1 :], start)
        if without is not None and without.end > cut:
            end = without.end + inner + 1 - cut
            if best is None or end > best.end:
                best = TownMatch(without.towns, end)
        inner = key.find("字", inner + 1, start + city.max_town_key + 2)
    return best


def _names_koaza(match: TownMatch, key: str) -> bool:
    """True when what follows the matched 町域 is one of its listed 小字."""
    return _koaza_end(match, key) > match.end


def _koaza_end(match: TownMatch, key: str) -> int:
    """Where a listed 小字 written right after the match ends (``match.end`` if none)."""
    aza = _AZA.match(key, match.end)
    start = aza.end() if aza else match.end
    for town in match.towns:
        for word in town.koaza_words:  # longest first
            if key.startswith(word, start):
                return start + len(word)
    return match.end


# What may follow a 町域 name: the 番地 or 丁目 (digits), a dash, 字 / 番地, or nothing.
_AFTER_TOWN: Final = re.compile(r"(?:$|[0-9]|-|字|番|丁目)")
_MIN_FUZZY = 3  # shorter names differ from other names by one character too often
_DIGIT: Final = re.compile("[0-9]")


def fuzzy_match_towns(city: City, key: str, start: int) -> list[TownMatch]:
    """The 町域 of ``city`` that fit ``key[start:]`` written with one typo (a character wrong,
    missing or added) and followed by what looks like the 番地.

    Only tried when no name fits as written: a typo never overrides an exact match.
    """
    if key.startswith("大字", start):
        start += 2
    elif key.startswith("字", start):
        start += 1
    found: dict[str, int] = {}
    for town_key in city.towns:
        size = len(town_key)
        if size < _MIN_FUZZY:
            continue
        for end in (start + size, start + size - 1, start + size + 1):
            written = key[start:end]
            if _DIGIT.search(written) and not _DIGIT.search(town_key):
                continue  # the 番地 is no part of a mistyped name
            if _one_edit(written, town_key) and _AFTER_TOWN.match(key, end):
                found.setdefault(town_key, end)
                break
    return [TownMatch(city.towns[town_key], end) for town_key, end in found.items()]


def _one_edit(written: str, name: str) -> bool:
    """Whether ``written`` is ``name`` with exactly one character replaced, dropped or added."""
    if written == name or abs(len(written) - len(name)) > 1:
        return False
    if len(written) == len(name):
        return sum(a != b for a, b in zip(written, name, strict=True)) == 1
    shorter, longer = sorted((written, name), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
