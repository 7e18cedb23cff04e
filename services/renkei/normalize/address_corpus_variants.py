"""Harder spellings for the address corpus: the classes of gap of issue 15.

Applied on top of the forms of ``address_corpus_forms`` (each is a category of the report):

- ``itaiji_table`` — one character of the municipality or 町域 written in a 旧字体 / 異体字 of
  the shipped table (國 for 国, 澤 for 沢, 櫻 for 桜 …), any character the table has;
- ``kyoto_forms`` — Kyoto street directions in another spelling (上る → 上ル / 上がる / 上ガル,
  西入 → 西入ル / 西入る …);
- ``typo`` — one character of a 町域 name of three or more characters replaced by another
  kanji, dropped, or doubled: a slip of the keyboard. Such an address resolves only when a
  single 町域 of the municipality is one edit away; the figure says how often that holds;
- ``tower_floor`` — an address in a high-rise building Japan Post gives a postal code per
  floor (中央アエル 5階), which must resolve to the floor's code; the building named without
  a floor goes to its 地階・階層不明 code.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from renkei.identifiers.municipality import with_check_digit
from renkei.normalize.address_corpus_forms import CorpusAddress

_TABLE: Final = Path(__file__).resolve().parent / "data" / "kanji-variants.tsv"
_FLOOR_NOTE: Final = re.compile(r"^(?:高層棟)?(?:([0-9]+)階|地階・階層不明)$")
_DIRECTION_FORMS: Final = {
    "上る": ("上ル", "上がる", "上ガル", "上る"),
    "下る": ("下ル", "下がる", "下ガル", "下る"),
    "西入": ("西入ル", "西入る", "西入"),
    "東入": ("東入ル", "東入る", "東入"),
}
_DIRECTION: Final = re.compile("|".join(sorted(_DIRECTION_FORMS, key=len, reverse=True)))
_TYPO_KANJI: Final = "田中山川本村町野原井木林森沢谷口大小上下東西南北新古"


def _old_forms() -> dict[str, list[str]]:
    """canonical → its 旧字体 / 異体字 in the shipped table."""
    forms: dict[str, list[str]] = defaultdict(list)
    for line in _TABLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            variant, canonical, _ = line.split("\t")
            forms[canonical].append(variant)
    return forms


_OLD_FORMS: Final = _old_forms()


class VariantWriter:
    """Rewrites corpus addresses in the harder spellings (see the module docstring)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def rewrite(self, address: CorpusAddress, town: str) -> CorpusAddress:
        """``address`` (written for a row whose 町域 is ``town``) in zero or more of the
        harder spellings; the expected codes stay those of the row."""
        text, cats = address.text, list(address.categories)
        rng = self._rng
        if "kyoto_street" in cats and _DIRECTION.search(text):
            text = _DIRECTION.sub(lambda m: rng.choice(_DIRECTION_FORMS[m.group()]), text, 1)
            cats.append("kyoto_forms")
        if rng.random() < 0.15:
            text, changed = self._old_form(text)
            if changed:
                cats.append("itaiji_table")
        if rng.random() < 0.05 and len(town) >= 3 and text.count(town) == 1:
            text = text.replace(town, self._typo(town), 1)
            cats.append("typo")
        return replace(address, text=text, categories=tuple(cats))

    def _old_form(self, text: str) -> tuple[str, bool]:
        spots = [i for i, ch in enumerate(text) if ch in _OLD_FORMS]
        if not spots:
            return text, False
        at = self._rng.choice(spots)
        variant = self._rng.choice(_OLD_FORMS[text[at]])
        return text[:at] + variant + text[at + 1 :], True

    def _typo(self, town: str) -> str:
        rng = self._rng
        at = rng.randrange(len(town))
        kind = rng.randrange(3)
        if kind == 0:  # another character typed
            other = rng.choice([k for k in _TYPO_KANJI if k != town[at]])
            return town[:at] + other + town[at + 1 :]
        if kind == 1:  # one dropped
            return town[:at] + town[at + 1 :]
        return town[: at + 1] + town[at] + town[at + 1 :]  # one typed twice


def tower_addresses(
    raw_rows: Iterable[Mapping[str, Any]], rng: random.Random, size: int
) -> list[CorpusAddress]:
    """``size`` addresses in high-rise buildings with a postal code per floor (their 町域 is the
    longest listed 町域 of the municipality the building's KEN_ALL name starts with)."""
    floors: list[Mapping[str, Any]] = []
    towns: dict[str, set[str]] = defaultdict(set)
    for raw in raw_rows:
        note = unicodedata.normalize("NFKC", raw.get("note") or "")
        name = unicodedata.normalize("NFKC", raw.get("neighborhood") or "")
        if _FLOOR_NOTE.match(note):
            floors.append(raw)
        elif name:
            towns[raw["jisx0402"]].add(name)
    out: list[CorpusAddress] = []
    for raw in rng.sample(floors, len(floors)):
        if len(out) == size:
            break
        name = unicodedata.normalize("NFKC", raw["neighborhood"])
        prefixes = [t for t in towns[raw["jisx0402"]] if name.startswith(t) and t != name]
        if not prefixes:
            continue
        town = max(prefixes, key=len)
        building = name[len(town) :]
        floor = _FLOOR_NOTE.match(unicodedata.normalize("NFKC", raw["note"]))
        level = floor.group(1) if floor else None
        numbers = f"{rng.randint(1, 4)}-{rng.randint(1, 20)}-{rng.randint(1, 30)}"
        where = f" {building} {level}階" if level else f" {building}"
        code = with_check_digit(raw["jisx0402"])
        out.append(
            CorpusAddress(
                f"{raw['prefecture']}{raw['city']}{town}{numbers}{where}",
                None,
                code,
                f"{code}:{raw['postal_code']}",
                ("tower_floor",),
            )
        )
    return out
