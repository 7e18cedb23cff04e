"""Writing a Japan Post row as a legacy system would: the spellings of the address corpus.

Each form is a *category* the report counts failures by: ``fullwidth`` digits, ``kanji_numerals``
(三丁目, 百二十三番地), ``hyphen`` (3-2-1 for 3丁目2番1号), ``hyphen_variant`` (‐－−ー―),
``no_prefecture``, ``no_gun`` (倶知安町 for 虻田郡倶知安町), ``ward_dropped`` (札幌市旭ケ丘),
``oaza_added`` (大字豊田, 音別町字尺別), ``aza_dropped`` (a 小字 without its 字), ``ke_swap``
(ケ ↔ ヶ ↔ が, ノ ↔ の), ``spaces``, ``postal_prefix`` (〒064-0941 …), ``postal_argument``,
``stale_postal_argument`` (a wrong code passed beside text that resolves on its own),
``building``, ``kyoto_street`` (竹屋町通柳馬場西入和久屋町), ``bare_number`` (小菅村123番地),
``town_numerals`` (北1条東 for 北一条東 and back), ``itaiji`` (old kanji: 澤 for 沢, 嶋 for 島).
A form that would make the address ambiguous (dropping the prefecture of 府中市) is withheld.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Final

from renkei.normalize.address_corpus_rows import PostalRow, RowTable, StreetPlan
from renkei.normalize.address_text import fold

_FULL_WIDTH: Final = str.maketrans(
    {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "\u3000"}
)
_HYPHENS: Final = "‐－−ー―"
_KANJI: Final = "〇一二三四五六七八九"
_GUN: Final = re.compile(r"^.+?郡(.+[町村])$")
_WARD: Final = re.compile(r"^(.+?市)(.+区)$")
_OLD_TOWN: Final = re.compile(r"^(.+?[町村])(.+)$")
_BUILDINGS: Final = ("サンハイツ", "メゾン", "コーポ", "ハイツ", "レジデンス", "パークハウス")
_KANJI_NAME: Final = re.compile(r"^[\u4e00-\u9fff々ケノツ]{1,6}$")
_NUMERALS: Final = "0123456789〇一二三四五六七八九十百千"
_ENDS_IN_NUMERAL: Final = re.compile(f"[{_NUMERALS}]$")
_OLD_KANJI: Final = {
    "沢": "澤",
    "辺": "邊",
    "浜": "濱",
    "広": "廣",
    "島": "嶋",
    "竜": "龍",
    "桜": "櫻",
    "国": "國",
    "関": "關",
    "滝": "瀧",
    "峰": "峯",
    "栄": "榮",
}
_COUNTER: Final = r"(?=条|線|号|区|番町|丁目|地割)"
_KANJI_COUNT: Final = re.compile(rf"[一二三四五六七八九十]+{_COUNTER}")
_DIGIT_COUNT: Final = re.compile(rf"[0-9]+{_COUNTER}")
_KANJI_VALUE: Final = {ch: i for i, ch in enumerate(_KANJI)}
_KE_SWAPS: Final = {"ケ": "ヶ", "ヶ": "ケ", "が": "ケ", "ノ": "の", "の": "ノ"}


@dataclass(frozen=True, slots=True)
class CorpusAddress:
    """An address as written, the postal code passed beside it, and what it must resolve to."""

    text: str
    postal_code: str | None
    municipality_code: str
    region_code: str
    categories: tuple[str, ...]


class AddressWriter:
    """Writes rows in random legacy forms; counts the forms it withheld (ambiguous)."""

    def __init__(self, table: RowTable, rng: random.Random) -> None:
        self._table = table
        self._rng = rng
        self.withheld: Counter[str] = Counter()
        self._city_codes: dict[str, list[str]] = {}
        for row in table.rows:
            if len({r.postal_code for r in table.siblings[(row.municipality_code, row.town)]}) == 1:
                self._city_codes.setdefault(row.municipality_code, []).append(row.postal_code)

    def write(self, row: PostalRow, plan: StreetPlan) -> CorpusAddress:
        rng, cats = self._rng, list[str]()
        city = self._city(row, cats)
        prefecture = row.prefecture
        if rng.random() < 0.3:
            if len(self._table.name_prefectures[fold(city)]) == 1:
                prefecture = ""
                cats.append("no_prefecture")
            else:
                self.withheld["no_prefecture (name shared by prefectures)"] += 1
        town = self._town(row, plan, cats)
        parts = [prefecture, city, plan.street, town, self._koaza(row, plan, cats)]
        if plan.street:
            cats.append("kyoto_street")
        parts.append(self._numbers(row, plan, cats))
        if rng.random() < 0.25:
            parts.append(self._building(row.town))
            cats.append("building")
        text = self._join(parts, cats)
        if rng.random() < 0.2:
            text = text.translate(_FULL_WIDTH)
            cats.append("fullwidth")
        text, postal = self._postal(row, text, cats)
        return CorpusAddress(text, postal, row.municipality_code, row.region_code, tuple(cats))

    def _city(self, row: PostalRow, cats: list[str]) -> str:
        city = self._old_kanji(row.city, cats)
        if ("ケ" in city or "ヶ" in city) and self._rng.random() < 0.3:
            city = city.replace("ケ", "\0").replace("ヶ", "ケ").replace("\0", "ヶ")
            cats.append("ke_swap")
        if (gun := _GUN.match(city)) and self._rng.random() < 0.4 and city == row.city:
            cats.append("no_gun")
            return gun.group(1)
        if (ward := _WARD.match(city)) and self._rng.random() < 0.2 and city == row.city:
            towns = self._table.ward_towns[(row.prefecture, ward.group(1))]
            if towns[fold(row.town)] == 1 and not row.bare:
                cats.append("ward_dropped")
                return ward.group(1)
            self.withheld["ward_dropped (町域 name in several wards)"] += 1
        return city

    def _town(self, row: PostalRow, plan: StreetPlan, cats: list[str]) -> str:
        town, rng = row.town, self._rng
        if not town:
            cats.append("bare_number")
            return ""
        if rng.random() < 0.4 and any(ch in _KE_SWAPS for ch in town):
            if len(self._table.spellings[(row.municipality_code, fold(town))]) == 1:
                town = "".join(_KE_SWAPS.get(ch, ch) if rng.random() < 0.8 else ch for ch in town)
                cats.append("ke_swap")
            else:
                self.withheld["ke_swap (two 町域 differ only so)"] += 1
        if rng.random() < 0.5 and _KANJI_COUNT.search(town):
            town = _KANJI_COUNT.sub(lambda m: str(_kanji_value(m.group())), town)
            cats.append("town_numerals")
        elif rng.random() < 0.5 and _DIGIT_COUNT.search(town):
            town = _DIGIT_COUNT.sub(lambda m: to_kanji(int(m.group())), town)
            cats.append("town_numerals")
        town = self._old_kanji(town, cats)
        if plan.oaza:
            return "大字" + town
        if not plan.koaza and not plan.street and plan.chome is None and rng.random() < 0.3:
            old = _OLD_TOWN.match(town)
            keys = self._table.town_keys[row.municipality_code]
            if old and fold(old.group(1)) in keys:
                # 脇町 + 上ノ原 is also a 町域 脇町 with 小字 上ノ原: 脇町字上ノ原 is ambiguous.
                self.withheld["字 inside a name (the part before is a 町域)"] += 1
                old = None
            if old and rng.random() < 0.5:
                town = f"{old.group(1)}{rng.choice(('大字', '字'))}{old.group(2)}"
            else:
                town = "大字" + town
            cats.append("oaza_added")
        return town

    def _old_kanji(self, name: str, cats: list[str]) -> str:
        olds = [ch for ch in name if ch in _OLD_KANJI]
        if not olds or self._rng.random() >= 0.3:
            return name
        if "itaiji" not in cats:
            cats.append("itaiji")
        old = self._rng.choice(olds)
        return name.replace(old, _OLD_KANJI[old], 1)

    def _koaza(self, row: PostalRow, plan: StreetPlan, cats: list[str]) -> str:
        if not plan.koaza:
            return ""
        if _KANJI_NAME.match(plan.koaza) and self._rng.random() < 0.3:
            if fold(row.town + plan.koaza) in self._table.town_keys[row.municipality_code]:
                # 脇町 + 上ノ原 without 字 is the 町域 脇町上ノ原
                self.withheld["aza_dropped (名 + 小字 is another 町域)"] += 1
                return "字" + plan.koaza
            cats.append("aza_dropped")
            return plan.koaza
        return "字" + plan.koaza

    def _numbers(self, row: PostalRow, plan: StreetPlan, cats: list[str]) -> str:
        rng = self._rng
        # After a name ending in a numeral (与一, 東二) 漢数字 would run into it: not written so.
        kanji = (
            rng.random() < 0.2
            and not _ENDS_IN_NUMERAL.search(row.town + plan.koaza)
            and max(plan.first, plan.second or 0) < 10000  # 万 is not written in 番地
        )
        first, second = plan.first, plan.second
        if plan.chome is None:
            style = rng.randrange(1, 5) if second is not None else 0
            if kanji and style < 2:
                cats.append("kanji_numerals")
                return f"{to_kanji(first)}番地" + (to_kanji(second) if second else "")
            return self._hyphens(
                (
                    f"{first}番地",
                    f"{first}番地{second}",
                    f"{first}-{second}",
                    f"{first}番地の{second}",
                    f"{first}番{second}号",
                )[style],
                cats,
            )
        chome = to_kanji(plan.chome) if kanji else str(plan.chome)
        if kanji:
            cats.append("kanji_numerals")
        if second is None:
            return f"{chome}丁目{first}番" if rng.random() < 0.5 else f"{chome}丁目{first}"
        style = rng.randrange(4)
        if style == 3 and row.chome and not kanji:
            cats.append("hyphen")
            return self._hyphens(f"{plan.chome}-{first}-{second}", cats)
        if style == 1 and kanji:
            return f"{chome}丁目{to_kanji(first)}番{to_kanji(second)}号"
        shapes = (f"{first}-{second}", f"{first}番{second}号", f"{first}番地{second}")
        return f"{chome}丁目" + self._hyphens(shapes[style % 3], cats)

    def _hyphens(self, text: str, cats: list[str]) -> str:
        if "-" in text and self._rng.random() < 0.4:
            cats.append("hyphen_variant")
            return text.replace("-", self._rng.choice(_HYPHENS))
        return text

    def _building(self, town: str) -> str:
        rng = self._rng
        room = f"{rng.randint(1, 12)}{rng.randint(1, 10):02d}"
        if rng.random() < 0.2:
            return f" {room}号室"
        name = rng.choice(_BUILDINGS) + (town if rng.random() < 0.5 else "")
        return f"{' ' if rng.random() < 0.5 else ''}{name}{' ' if rng.random() < 0.3 else ''}{room}"

    def _join(self, parts: list[str], cats: list[str]) -> str:
        rng = self._rng
        if rng.random() >= 0.25:
            return "".join(parts)
        cats.append("spaces")
        spaced = [_space_inside(p, rng) if rng.random() < 0.3 else p for p in parts if p]
        joined = "".join(p + rng.choice(("", " ", "\u3000", "  ")) for p in spaced)
        return " " + joined if rng.random() < 0.2 else joined

    def _postal(self, row: PostalRow, text: str, cats: list[str]) -> tuple[str, str | None]:
        rng, code = self._rng, row.postal_code
        roll = rng.random()
        if roll < 0.15:
            cats.append("postal_prefix")
            shown = rng.choice(
                (f"〒{code[:3]}-{code[3:]} ", f"〒{code}", f"{code[:3]}-{code[3:]} ")
            )
            return shown + text, None
        if roll < 0.25:
            cats.append("postal_argument")
            return text, code
        others = [c for c in self._city_codes.get(row.municipality_code, ()) if c != code]
        unique = len(
            {r.postal_code for r in self._table.siblings[(row.municipality_code, row.town)]}
        )
        if roll < 0.3 and others and unique == 1 and not row.bare:
            cats.append("stale_postal_argument")
            return text, rng.choice(others)
        return text, None


def _space_inside(part: str, rng: random.Random) -> str:
    """A space somewhere in ``part`` but never inside a number."""
    spots = [
        i for i in range(1, len(part)) if not (part[i - 1] in _NUMERALS and part[i] in _NUMERALS)
    ]
    if not spots:
        return part
    spot = rng.choice(spots)
    return f"{part[:spot]} {part[spot:]}"


def _kanji_value(run: str) -> int:
    """十二 → 12, 二十 → 20, 三 → 3 (the numerals of 町域 names)."""
    if "十" not in run:
        return int("".join(str(_KANJI_VALUE[ch]) for ch in run))
    tens, _, ones = run.partition("十")
    return (_KANJI_VALUE[tens] if tens else 1) * 10 + (_KANJI_VALUE[ones] if ones else 0)


def to_kanji(number: int) -> str:
    """漢数字 with units: 3 → 三, 12 → 十二, 123 → 百二十三, 2004 → 二千四 (below 10000)."""
    if number == 0:
        return _KANJI[0]
    out = []
    for unit, mark in ((1000, "千"), (100, "百"), (10, "十")):
        digit, number = divmod(number, unit)
        if digit:
            out.append(("" if digit == 1 else _KANJI[digit]) + mark)
    if number:
        out.append(_KANJI[number])
    return "".join(out)
