"""The part of an address after the 町域 name: 丁目, 小字, 番地・号 and the building.

Read from the normalised text (NFKC, dashes as ``-``) so the building keeps its spelling. Forms:
``5丁目6番51号``, ``5丁目6-51``, ``五丁目六番五十一号``, ``5-6-51`` (the first number is the
丁目 only where the 町域 has 丁目), ``字東123番地の4``, ``第3地割123``, ``123番地``; a space may
stand around any separator, and what follows the numbers (``サンハイツ201``, ``201号室``) is the
building. ``rest`` is the canonical 番地 part: an optional 小字 and the numbers joined by ``-``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from renkei.normalize.address_text import KANJI_NUMERAL_CHARS, fold, number_value

_NUM: Final = rf"(?:[0-9]+|[{KANJI_NUMERAL_CHARS}]+)"
_SEP: Final = r"(?:番 ?地 ?の|番 ?地|番 ?の|番|号 ?の|の|ノ|-)"
_COUNTED: Final = rf"[{KANJI_NUMERAL_CHARS}]+ ?(?:丁|番|号|-|の|ノ)"
_CHOME: Final = re.compile(rf"({_NUM}) ?丁 ?目 ?")
# 小字 before the 番地: 字 and a name (字東, 字6区), a 地割 (第3地割), or up to six kanji; a
# name ending in a numeral does not run into a 漢数字 番地 (四十三番地 is no 小字 四).
_KANJI_CHAR: Final = "\u4e00-\u9fff々ヶケノツ"
_PLAIN_KANJI: Final = rf"(?![番号])[{_KANJI_CHAR}]"
_KOAZA: Final = re.compile(
    rf"((?:字 ?)?第 ?[0-9]+ ?地 ?割"  # 第3地割
    rf"|(?:大字 ?)?字 ?.*?[^0-9 ]"  # 字東, 字6区
    rf"|(?!{_COUNTED})(?:{_PLAIN_KANJI} ?){{0,5}}?{_PLAIN_KANJI})"  # 東 (字 left out)
    rf"(?<![{KANJI_NUMERAL_CHARS}]) ?(?=[0-9]|{_COUNTED})"
)
_MAX_CHOME: Final = 60  # a first number above this is a 番地, never a 丁目
_AZA_PREFIX: Final = re.compile(r"(?:大字 ?)?(?:字 ?)?")
_SPACED_NUMERAL: Final = re.compile(rf"(?<=[{KANJI_NUMERAL_CHARS}]) (?=[{KANJI_NUMERAL_CHARS}])")
_BLOCK: Final = re.compile(rf"({_NUM})((?: ?{_SEP} ?{_NUM})*)(?: ?(?:号|番 ?地|番)(?! ?室))?")
_NUMBER: Final = re.compile(_NUM)
_UNLISTED_TOWN: Final = re.compile(rf"(?:大字 ?)?(?:字 ?)?([^0-9 ]+?) ?(?=[0-9]|{_COUNTED}|$)")
_STARTS_WITH_NUMBER: Final = re.compile(rf"[0-9]|{_COUNTED}")
_BUILDING_TRIM: Final = " 、,・/"


@dataclass(frozen=True, slots=True)
class StreetPart:
    """丁目 number, 小字 as written, 番地 numbers, canonical ``rest`` and the building."""

    chome: int | None
    koaza: str
    numbers: tuple[int, ...]
    rest: str
    building: str | None

    @property
    def koaza_key(self) -> str:
        """The 小字 folded for comparing with Japan Post's notes, without 大字 / 字."""
        key = fold(self.koaza)
        return key.removeprefix("大字").removeprefix("字")


def parse_street_part(
    tail: str, *, has_chome: bool, chome_only: bool, koaza_words: tuple[str, ...] = ()
) -> StreetPart:
    """Read ``tail`` (the text after the 町域 name) for a town with or without 丁目.

    ``koaza_words`` are the folded 小字 Japan Post lists for the town, longest first: one of
    them at the start is the 小字 even where the general pattern would cut it (字第2号532).
    """
    text = _SPACED_NUMERAL.sub("", tail.strip(" -"))
    chome: int | None = None
    koaza = ""
    if match := _CHOME.match(text):
        chome = number_value(match.group(1))
        text = text[match.end() :]
    elif known := _known_koaza(text, koaza_words):
        koaza, text = text[:known].replace(" ", ""), text[known:].lstrip()
    elif match := _KOAZA.match(text):
        koaza = match.group(1).replace(" ", "")
        text = text[match.end() :]
    numbers: tuple[int, ...] = ()
    if block := _BLOCK.match(text):
        numbers = tuple(number_value(n) for n in _NUMBER.findall(block.group(0)))
        hyphenated = block.group(2).lstrip().startswith("-")
        text = text[block.end() :]
        # "5-6-51": the first number is the 丁目 where the 町域 has 丁目. A town that also has a
        # part without 丁目 (日野市豊田) writes that part as 番地-号, so two numbers are not enough.
        needed = 2 if chome_only else 3
        if (
            chome is None
            and not koaza
            and has_chome
            and hyphenated
            and len(numbers) >= needed
            and numbers[0] <= _MAX_CHOME
        ):
            chome, numbers = numbers[0], numbers[1:]
    rest = koaza + "-".join(str(n) for n in numbers)
    building = " ".join(text.strip(_BUILDING_TRIM).split()) or None
    return StreetPart(chome, koaza, numbers, rest, building)


def _known_koaza(text: str, words: tuple[str, ...]) -> int:
    """Length of the text holding one of ``words`` (after an optional 大字 / 字), or 0."""
    if not words:
        return 0
    prefix = _AZA_PREFIX.match(text)
    start = prefix.end() if prefix else 0
    for word in words:
        for length in range(len(word), len(word) + 4):
            if start + length > len(text):
                break
            if fold(text[start : start + length]) == word:
                return start + length
    return 0


def split_unlisted_town(tail: str) -> tuple[str, str]:
    """(name, rest of the text) for a 町域 Japan Post does not list: the leading name up to the
    first number, without 大字 / 字."""
    text = tail.strip()
    if _STARTS_WITH_NUMBER.match(text):
        return "", text
    match = _UNLISTED_TOWN.match(text)
    if match is None:
        return "", text
    return match.group(1), text[match.end() :]
