"""Japan Post rows prepared for the address corpus: which can be written unambiguously, how.

A row can be in the corpus when an address written for it names its postal code and no other:
rows of a 町域 spread over several codes need a 丁目, 番地, 小字 or Kyoto street the row's note
singles out (:func:`plan_street`); rows where no such address exists are *ambiguous* and left out,
as are rows that are no 町域 at all (catch-all rows, office-tower floors) and garbled names.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from renkei.identifiers.municipality import with_check_digit
from renkei.normalize.address_rules import AddressFacts, AreaRule, choose_postal_codes, parse_note
from renkei.normalize.address_text import fold

_FLOOR_NOTE: Final = re.compile(r"^(?:高層棟)?(?:[0-9]+階|地階・階層不明)$")
_NEXT_IS_BANCHI: Final = re.compile(r"^(.+)の次に(.+?)がくる場合$")
_GUN: Final = re.compile(r"^(.+?郡)(.+[町村])$")
_WARD: Final = re.compile(r"^(.+?市)(.+区)$")
_STREET_WORD: Final = re.compile(r"通|上る|下る|入る|[東西]入")
# A note keyword a registry would write as a 小字: a plain name (no lists, ranges, remarks).
_WRITABLE_KOAZA: Final = re.compile(r"^[\u4e00-\u9fff々ぁ-んァ-ヶー0-9]{1,12}$")
_NOT_KOAZA: Final = re.compile(r"番地|丁目|階|ノ他|以外|除く|内$")
_ATTEMPTS: Final = 12


@dataclass(frozen=True, slots=True)
class PostalRow:
    """One writable row: where it is, its 町域 name and its code; ``bare`` for the rows
    "X村の次に番地がくる場合" (the 番地 follows the municipality name)."""

    prefecture: str
    city: str
    municipality_code: str
    town: str
    postal_code: str
    rule: AreaRule
    chome: bool
    bare: bool

    @property
    def region_code(self) -> str:
        return f"{self.municipality_code}:{self.postal_code}"


@dataclass(frozen=True, slots=True)
class StreetPlan:
    """What the address says below the 町域: 丁目, 番地 numbers, 小字 or street directions."""

    chome: int | None
    first: int
    second: int | None
    koaza: str = ""
    street: str = ""
    oaza: bool = False  # 大字 must be written (the row is 軽井沢（大字）beside 軽井沢（その他）)


@dataclass
class RowTable:
    """Rows by 町域, plus what the transforms need to stay unambiguous."""

    rows: list[PostalRow]
    skipped: Counter[str]
    siblings: Mapping[tuple[str, str], list[PostalRow]]
    spellings: Mapping[tuple[str, str], set[str]]
    town_keys: Mapping[str, set[str]]
    name_prefectures: Mapping[str, set[str]]
    ward_towns: Mapping[tuple[str, str], Counter[str]]


def load_rows(raw_rows: Iterable[Mapping[str, Any]]) -> RowTable:
    """Every row that is a 町域, with the counts of those that are not (by reason)."""
    rows: list[PostalRow] = []
    skipped: Counter[str] = Counter()
    for raw in raw_rows:
        row, why = _row(raw)
        if row is None:
            skipped[why] += 1
        else:
            rows.append(row)
    siblings: dict[tuple[str, str], list[PostalRow]] = defaultdict(list)
    spellings: dict[tuple[str, str], set[str]] = defaultdict(set)
    town_keys: dict[str, set[str]] = defaultdict(set)
    name_prefectures: dict[str, set[str]] = defaultdict(set)
    ward_towns: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    cities: dict[str, PostalRow] = {}
    for row in rows:
        cities.setdefault(row.municipality_code, row)
        siblings[(row.municipality_code, row.town)].append(row)
        spellings[(row.municipality_code, fold(row.town))].add(row.town)
        town_keys[row.municipality_code].add(fold(row.town))
        for name in city_spellings(row.city):
            name_prefectures[fold(name)].add(row.prefecture)
    for code, keys in town_keys.items():
        first = cities[code]
        if ward := _WARD.match(first.city):
            ward_towns[(first.prefecture, ward.group(1))].update(keys)
    return RowTable(rows, skipped, siblings, spellings, town_keys, name_prefectures, ward_towns)


def city_spellings(city: str) -> tuple[str, ...]:
    """The municipality as written in full, without its 郡, and a designated city without ward."""
    names = [city]
    if gun := _GUN.match(city):
        names.append(gun.group(2))
    if ward := _WARD.match(city):
        names.append(ward.group(1))
    return tuple(names)


def _row(raw: Mapping[str, Any]) -> tuple[PostalRow | None, str]:
    name = unicodedata.normalize("NFKC", raw.get("neighborhood") or "")
    note = raw.get("note")
    if not name:
        return None, "catch-all row (以下に掲載がない場合), no 町域"
    if note and _FLOOR_NOTE.match(unicodedata.normalize("NFKC", note)):
        return None, "office-tower floor row, no residents"
    code = with_check_digit(raw["jisx0402"])
    bare = _NEXT_IS_BANCHI.match(name)
    if bare:
        rule = parse_note(bare.group(2))
        return PostalRow(
            raw["prefecture"], raw["city"], code, "", raw["postal_code"], rule, False, True
        ), ""
    if "〜" in name or "~" in name or " " in name:
        return None, "garbled 町域 name in KEN_ALL"
    town = name.split("、")[0]
    return PostalRow(
        raw["prefecture"],
        raw["city"],
        code,
        town,
        raw["postal_code"],
        parse_note(note, chome=bool(raw.get("chome"))),
        bool(raw.get("chome")),
        False,
    ), ""


def plan_street(row: PostalRow, siblings: list[PostalRow], rng: random.Random) -> StreetPlan | None:
    """A 丁目・番地 (and 小字 / street) that selects ``row`` among its 町域's rows, or None."""
    codes = {sibling.postal_code for sibling in siblings}
    for _ in range(_ATTEMPTS if len(codes) > 1 else 1):
        plan = _draw(row, rng)
        if len(codes) == 1 or _selects(plan, row, siblings):
            return plan
    return None


def _draw(row: PostalRow, rng: random.Random) -> StreetPlan:
    """Numbers (and a 小字 or street) in the part of the 町域 the row's note names."""
    rule = row.rule
    words = _writable_words(row)
    numbered = [(w, r) for w, r in rule.koaza_banchi if _writable_koaza(w)]
    kinds = [
        kind
        for kind, present in (
            ("chome", bool(rule.chome)),
            ("banchi", bool(rule.banchi)),
            ("chome_banchi", bool(rule.chome_banchi)),
            ("keyword", bool(words)),
            ("koaza_banchi", bool(numbered)),
            ("jiwari", bool(rule.jiwari)),
        )
        if present
    ]
    kind = rng.choice(kinds) if kinds else ""
    chome: int | None = None
    if kind == "chome":
        chome = rng.choice(sorted(rule.chome))
    elif kind in ("", "keyword") and (rule.any_chome or (row.chome and not rule.without_chome)):
        # その他 beside a 丁目 row: its addresses are the ones written without 丁目
        chome = None if rule.default and rng.random() < 0.4 else rng.randint(1, 9)
    first = int(rng.triangular(1, 2500, 40)) if chome is None else rng.randint(1, 30)
    second: int | None = rng.randint(1, 30) if rng.random() < 0.7 else None
    koaza = street = ""
    if kind == "chome_banchi":
        chome, span = rng.choice(rule.chome_banchi)
        first, second = rng.randint(span.low, min(span.high, span.low + 300)), span.second
    elif kind == "banchi":
        span = rng.choice(rule.banchi)
        first = rng.randint(span.low, min(span.high, span.low + 300))
        second = span.second if span.second is not None else second
    elif kind == "jiwari":
        span = rng.choice(rule.jiwari)
        koaza, chome = f"第{rng.randint(span.low, span.high)}地割", None
    elif kind == "koaza_banchi":
        koaza, span = rng.choice(numbered)
        chome, first = None, rng.randint(span.low, min(span.high, span.low + 300))
        second = span.second if span.second is not None else second
    elif kind == "keyword":
        word = rng.choice(words)
        if row.city.startswith("京都市") and _STREET_WORD.search(word):
            street = word
        else:
            koaza, chome = word, None
    return StreetPlan(chome, first, second, koaza, street, rule.oaza and chome is None)


def _writable_words(row: PostalRow) -> list[str]:
    kyoto = row.city.startswith("京都市")
    return [
        word
        for word in row.rule.keywords
        if (kyoto and _STREET_WORD.search(word)) or _writable_koaza(word)
    ]


def _writable_koaza(word: str) -> bool:
    return bool(_WRITABLE_KOAZA.match(word)) and not _NOT_KOAZA.search(word)


def _selects(plan: StreetPlan, row: PostalRow, siblings: list[PostalRow]) -> bool:
    facts = AddressFacts(
        plan.chome, plan.first, plan.second, fold(plan.koaza), plan.street, plan.oaza
    )
    chosen = choose_postal_codes(((s.postal_code, s.rule) for s in siblings), facts)
    return chosen == [row.postal_code]
