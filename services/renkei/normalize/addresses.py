"""Addresses (住所): legacy text → the 町域 (town area) it lies in, with codes.

``standardize_address("〒064-0941 札幌市中央区旭ヶ丘五丁目6-51 サンハイツ201")`` gives
北海道 / 札幌市中央区 / 旭ケ丘 / chome 5 / rest ``6-51`` / building ``サンハイツ201``, the
municipality code of the ward (011011, 全国地方公共団体コード with check digit) and the region
code ``011011:0640941`` (``<municipality code>:<postal code of the 町域>``).

How an address is resolved:

1. The text is normalised (full-width → ASCII, dashes) and folded into a key in which spelling
   variants meet (ケ/ヶ/が, の/ノ, 異体字, 漢数字 before counters); spaces do not count.
2. A leading postal code (``〒064-0941``) is taken off; it and the ``postal_code`` argument are
   *hints* (see "postal codes" below).
3. Prefecture (optional), then the municipality: its full name, without the 郡, or a designated
   city without its ward (the ward is then found by the 町域). A name shared by municipalities
   of several prefectures (府中市: 東京都, 広島県) needs the prefecture or a postal code.
4. The 町域: the longest listed name that fits, with 大字 / 字 optional; in Kyoto after street
   directions (上ル / 上る / 上がる, 下ル …, 西入 / 東入 with or without ル / る). When none fits as
   written, a name of three or more characters written with one typo (one character wrong,
   missing or added), if exactly one name fits that way. Where Japan Post spreads a 町域 over
   several postal codes, the 丁目, 番地 or 小字 choose the row. No listed 町域 fits: the
   municipality's catch-all postal code ("以下に掲載がない場合").
5. The rest: 丁目, 番地・号 as ``rest`` (``6-51``) and the building after the numbers. A
   building Japan Post gives a postal code per floor (中央アエル 5階) gets that floor's code;
   named without its floor, the code of its 地階・階層不明 row.

Postal codes: a hint never overrides text that resolves on its own to one postal code — the
text is what the registry records and a stale or mistyped postal code is the more common error
(so the text wins when it resolves uniquely). A hint decides only what the text leaves open:
which prefecture's 府中市, which ward of a designated city, which of the codes of a split 町域,
the municipality when the text names none, and the 町域 when the text names no listed one.

Errors are :class:`StandardizationError` with field ``address``; the reason never contains
the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from renkei.normalize.address_index import AddressIndex, City, Town, TownMatch
from renkei.normalize.address_rules import AddressFacts, choose_postal_codes
from renkei.normalize.address_tail import StreetPart, parse_street_part, split_unlisted_town
from renkei.normalize.address_text import (
    clean_postal_code,
    fold,
    fold_kanji_variants,
    fold_with_positions,
    normalize_text,
    split_leading_postal,
)
from renkei.normalize.address_towns import fuzzy_match_towns
from renkei.normalize.errors import StandardizationError

__all__ = ["AddressIndex", "StdAddress", "standardize_address"]

FIELD = "address"
_MAX_LENGTH = 300  # characters; no real address is longer, and it bounds the work per record


@dataclass(frozen=True, slots=True)
class StdAddress:
    """A standardized address.

    ``city`` is the municipality as Japan Post names it (with its 郡; a designated city with its
    ward: 札幌市中央区); ``town`` the 町域 as Japan Post lists it (for an unlisted one, the name
    as written); ``rest`` the 番地・号 (``6-51``, ``字東123-4``, ``""`` when none; Kyoto street
    directions are not kept); ``region_code`` is ``<municipality_code>:<postal_code>``.
    """

    prefecture: str
    city: str
    town: str
    chome: int | None
    rest: str
    building: str | None
    municipality_code: str
    postal_code: str
    region_code: str


@dataclass(frozen=True, slots=True)
class _Candidate:
    city: City
    match: TownMatch | None
    end: int  # where the municipality (or the 町域 when matched) ends in the key


class _Text:
    """The input as normalised text, its key and the map between them, plus postal hints."""

    def __init__(self, text: str, postal_code: str | None) -> None:
        normal, leading = split_leading_postal(normalize_text(text))
        self.normal = normal
        self.key, self.positions = fold_with_positions(normal)
        hints = (clean_postal_code(postal_code), leading)
        self.hints = tuple(dict.fromkeys(h for h in hints if h))

    def after(self, key_end: int) -> str:
        return self.normal[self.positions[key_end] :]


def standardize_address(
    text: str,
    postal_code: str | None = None,
    index: AddressIndex | None = None,
    *,
    typos: bool = True,
) -> StdAddress:
    """Resolve ``text`` to prefecture, municipality, 町域 and codes (see the module docstring).

    ``postal_code`` (any common spelling; ignored when malformed) helps where the text is
    ambiguous; ``typos=False`` takes 町域 names only as written (no one-typo guess). Raises
    :class:`StandardizationError` (field ``address``) when the municipality or the 町域 cannot
    be resolved. A pure function of its arguments: same text, postal code and index (one
    reference release), same answer — a cache may key by them.
    """
    if len(text) > _MAX_LENGTH:
        raise StandardizationError(FIELD, f"longer than {_MAX_LENGTH} characters")
    address = _Text(text, postal_code)
    if not address.key:
        raise StandardizationError(FIELD, "empty")
    idx = index or AddressIndex.default()
    prefecture, start = idx.match_prefecture(address.key, 0)
    name_end, cities, candidates = _candidates(idx, address, prefecture, start, typos)
    if prefecture is None and len({city.prefecture for city in cities}) > 1:
        candidates = _one_prefecture(idx, address, name_end, cities, candidates)
    candidate = _choose(candidates, address, idx)
    if candidate.match is not None:
        return _in_listed_town(candidate.city, candidate.match, address)
    return _in_unlisted_town(candidate, address, idx)


def _candidates(
    idx: AddressIndex, address: _Text, prefecture: str | None, start: int, typos: bool
) -> tuple[int, tuple[City, ...], list[_Candidate]]:
    """Where the municipality name ends, the municipalities it names and their readings: each
    with its 町域 match or, when none matches, none."""
    found = idx.match_cities(address.key, start, prefecture)
    if not found:
        # The text names no municipality: the postal code may say which one it is.
        cities = _hinted_cities(idx, address.hints, prefecture)
        if not cities:
            raise StandardizationError(FIELD, "municipality (市区町村) not found")
        found = [(start, cities)]
    # Only the longest name counts: a shorter one inside it (京都市 in 京都市東山区) is no
    # reading of its own, and trying it would find 町域 of other wards in what follows.
    end, cities = found[0]
    matched = [
        _Candidate(city, match, match.end)
        for city in cities
        if (match := idx.match_town(city, address.key, end)) is not None
    ]
    if not matched and typos:  # a typo in the 町域 (one character wrong, missing or added)?
        matched = _typo_candidates(cities, address, end)
    return end, cities, matched or [_Candidate(city, None, end) for city in cities]


def _typo_candidates(cities: tuple[City, ...], address: _Text, end: int) -> list[_Candidate]:
    """The one 町域 a typo can stand for; where several can, the one using the postal code
    given (as for exact matches, a postal code only decides what the text leaves open)."""
    fits = [
        _Candidate(city, match, match.end)
        for city in cities
        for match in fuzzy_match_towns(city, address.key, end)
    ]
    if len(fits) > 1 and address.hints:
        fits = [
            c
            for c in fits
            if c.match is not None
            and any(code in address.hints for town in c.match.towns for code in town.postal_codes)
        ]
    return fits if len(fits) == 1 else []


def _one_prefecture(
    idx: AddressIndex,
    address: _Text,
    name_end: int,
    cities: tuple[City, ...],
    candidates: list[_Candidate],
) -> list[_Candidate]:
    """The name alone is shared (府中市: 東京都 and 広島県). Even when only one of them lists
    the 町域, refuse unless a postal code says which (the other's list may be the older)."""
    hinted = set(_hinted_cities(idx, address.hints, None)) & set(cities)
    if len({city.prefecture for city in hinted}) != 1:
        raise StandardizationError(
            FIELD,
            "municipality name is used in several prefectures; "
            "give the prefecture or the postal code",
        )
    kept = [c for c in candidates if c.city in hinted]
    return kept or [_Candidate(city, None, name_end) for city in hinted]


def _hinted_cities(
    idx: AddressIndex, hints: tuple[str, ...], prefecture: str | None
) -> tuple[City, ...]:
    cities = {
        city.code: city
        for hint in hints
        for city, _ in idx.by_postal_code(hint)
        if prefecture is None or city.prefecture == prefecture
    }
    return tuple(cities.values())


def _choose(candidates: list[_Candidate], address: _Text, idx: AddressIndex) -> _Candidate:
    """One candidate (the longest match; a postal code breaks ties) or a refusal."""
    hinted = {city.code for hint in address.hints for city, _ in idx.by_postal_code(hint)}
    if len(candidates) > 1:
        longest = max(c.end for c in candidates)
        candidates = [c for c in candidates if c.end == longest]
    if len(candidates) > 1:
        candidates = [c for c in candidates if c.city.code in hinted] or candidates
    if len(candidates) > 1:
        # Mostly a designated city written without its ward, whose 町域 is in several wards.
        raise StandardizationError(
            FIELD, "several municipalities or wards (区) fit; give the ward or the postal code"
        )
    return candidates[0]


def _in_listed_town(city: City, match: TownMatch, address: _Text) -> StdAddress:
    town = _one_town(match.towns, address)
    street = parse_street_part(
        address.after(match.end),
        has_chome=town.has_chome,
        chome_only=town.chome_only,
        koaza_words=town.koaza_words,
    )
    facts = AddressFacts(
        chome=street.chome,
        first=street.numbers[0] if street.numbers else None,
        second=street.numbers[1] if len(street.numbers) > 1 else None,
        koaza=street.koaza_key,
        street=match.street,
        oaza=match.oaza,
    )
    tower = _tower_code(town, address.after(match.end))
    if tower is not None:
        return _result(city, town.name, street, tower)
    codes = _postal_codes(town, facts)
    if len(codes) > 1:
        # The text leaves the row open; only then does a postal code choose.
        codes = [code for code in codes if code in address.hints]
    if len(codes) != 1:
        raise StandardizationError(
            FIELD, "町域 spans several postal codes and the 丁目 / 番地 do not say which"
        )
    return _result(city, town.name, street, codes[0])


_FLOOR: Final = re.compile(r"(?:地下|B)?([0-9]+)(?:階|F)", re.IGNORECASE)


def _tower_code(town: Town, tail: str) -> str | None:
    """The floor's postal code when ``tail`` names one of the 町域's per-floor buildings."""
    if not town.towers:
        return None
    key = fold(tail)
    for building in sorted({t.building_key for t in town.towers}, key=len, reverse=True):
        at = key.find(building)
        if at < 0:
            continue
        floors = {t.floor: t.postal_code for t in town.towers if t.building_key == building}
        found = _FLOOR.search(key, at + len(building))
        basement = found is not None and found.group(0)[0] in "地Bb"
        if found is not None and not basement and int(found.group(1)) in floors:
            return floors[int(found.group(1))]
        return floors.get(None)
    return None


def _one_town(towns: tuple[Town, ...], address: _Text) -> Town:
    """The town among spellings folding alike (日の出 / 日之出): the one written exactly."""
    if len(towns) == 1:
        return towns[0]
    compact = _exact_form(address.normal)
    exact = [town for town in towns if _exact_form(town.name) in compact]
    if len(exact) == 1:
        return exact[0]
    if len({town.postal_codes for town in towns}) == 1:
        return towns[0]  # the codes are the same whichever it is
    hinted = [t for t in towns if any(code in address.hints for code in t.postal_codes)]
    if len(hinted) == 1:
        return hinted[0]
    raise StandardizationError(FIELD, "町域 spelling matches several 町域; give the postal code")


def _exact_form(text: str) -> str:
    """Text compared as written, but for spaces, 大字 / 字 and 異体字."""
    return fold_kanji_variants(text.replace(" ", "").replace("大字", "").replace("字", ""))


def _postal_codes(town: Town, facts: AddressFacts) -> list[str]:
    """Postal codes of the rows of ``town`` that hold the address (see choose_postal_codes)."""
    return choose_postal_codes(((a.postal_code, a.rule) for a in town.areas), facts)


def _in_unlisted_town(candidate: _Candidate, address: _Text, idx: AddressIndex) -> StdAddress:
    """No listed 町域 fits: a postal code of this municipality, a "の次に番地がくる場合" row,
    or the municipality's catch-all code — in that order."""
    city = candidate.city
    tail = address.after(candidate.end)
    name, remainder = split_unlisted_town(tail)
    for hint in address.hints:
        towns = {t.name for c, t in idx.by_postal_code(hint) if c is city and t is not None}
        if towns or any(c is city for c, _ in idx.by_postal_code(hint)):
            town_name = towns.pop() if len(towns) == 1 else name
            return _result(city, town_name, _street(remainder), hint)
    if not name and city.bare_number_areas:
        street = _street(remainder)
        facts = AddressFacts(None, street.numbers[0] if street.numbers else None, None)
        codes = {a.postal_code for a in city.bare_number_areas if a.rule.covers(facts)}
        if len(codes) == 1:
            return _result(city, "", street, codes.pop())
    if city.catch_all_postal is None:
        raise StandardizationError(FIELD, "町域 not found and the municipality has no catch-all")
    return _result(city, name, _street(remainder), city.catch_all_postal)


def _street(text: str) -> StreetPart:
    return parse_street_part(text, has_chome=False, chome_only=False)


def _result(city: City, town: str, street: StreetPart, postal: str) -> StdAddress:
    return StdAddress(
        prefecture=city.prefecture,
        city=city.name,
        town=town,
        chome=street.chome,
        rest=street.rest,
        building=street.building,
        municipality_code=city.code,
        postal_code=postal,
        region_code=f"{city.code}:{postal}",
    )
