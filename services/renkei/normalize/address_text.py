"""Text forms of addresses: normalisation for reading and folding into lookup keys.

Two strings matter. The *normalised* text (NFKC: full-width digits and letters to ASCII,
half-width kana to full-width; every dash between digits as ``-``; runs of spaces as one) keeps
what was written and is where the 丁目・番地 part and the building name are read from. The
*key* folds away the spelling differences of legacy systems and Japan Post, so that a name and
its variants compare equal:

- ケ / ヶ / ヵ / が / ガ (旭ケ丘, 旭ヶ丘, 旭が丘) → ケ; の / 之 / ノ → ノ; ツ / ッ / つ → ツ;
- old or variant kanji (旧字体・異体字) → their 新字体: the whole table of the 常用漢字表 and
  人名用漢字 (``data/kanji-variants.tsv``, 381 characters: 澤 → 沢, 國 → 国, 廣 → 広, 櫻 → 桜 …)
  plus the JIS / vendor variants old systems type (髙 → 高, 﨑 → 崎, 𠮷 → 吉, 嶋 → 島 …);
- 漢数字 (kanji numerals) before a counter (条, 線, 丁目, 番, 号, 地割, 区 …) → digits, so
  北一条東 and 北1条東 meet;
- no spaces at all.

:func:`fold_with_positions` also says where each key character came from in the normalised text,
so a match on the key can be cut out of the text as written.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Final

KANJI_DIGITS: Final = "〇一二三四五六七八九"
KANJI_NUMERAL_CHARS: Final = KANJI_DIGITS + "十百千"
_KANJI_DIGIT_VALUE: Final = {ch: value for value, ch in enumerate(KANJI_DIGITS)}
_KANJI_UNIT_VALUE: Final = {"十": 10, "百": 100, "千": 1000}

# Dashes legacy systems type between numbers; ー (long vowel) only counts between digits.
_DASHES: Final = str.maketrans(dict.fromkeys("‐‑‒–—―−─━﹣", "-"))
_LONG_VOWEL_BETWEEN_DIGITS: Final = re.compile(r"(?<=[0-9])\s*[ー一]\s*(?=[0-9])")
_SPACES: Final = re.compile(r"\s+")
_LEADING_POSTAL: Final = re.compile(r"^〒?\s*([0-9]{3})\s*-?\s*([0-9]{4})(?![0-9])[\s,、]*")

_VARIANTS: Final = {
    "ケ": "ヶヵがガ",
    "ノ": "の之",
    "ツ": "ッつ",
    "沢": "澤",
    "辺": "邊邉",
    "浜": "濱",
    "広": "廣",
    "島": "嶋嶌",
    "館": "舘",
    "竜": "龍",
    "桧": "檜",
    "富": "冨",
    "条": "條",
    "国": "國",
    "関": "關",
    "曽": "曾",
    "薮": "藪",
    "篭": "籠",
    "槙": "槇",
    "滝": "瀧",
    "峰": "峯",
    "真": "眞",
    "栄": "榮",
    "桜": "櫻",
    "浅": "淺",
    "高": "髙",
    "崎": "﨑嵜",
    "場": "塲",
    "荘": "莊",
    "穂": "穗",
    "増": "增",
    "恵": "惠",
    "徳": "德",
    "駅": "驛",
    "静": "靜",
    "児": "兒",
    "黒": "黑",
    "円": "圓",
    "寿": "壽",
    "当": "當",
    "与": "與",
    "豊": "豐",
    "蔵": "藏",
    "県": "縣",
    "万": "萬",
    "吉": "𠮷",
    "鉄": "鐵",
    "会": "會",
}
_VARIANT_TABLE: Final = Path(__file__).resolve().parent / "data" / "kanji-variants.tsv"


def _table_variants() -> dict[str, str]:
    """variant → canonical of ``data/kanji-variants.tsv`` (旧字体 and 異体字 → 新字体)."""
    pairs: dict[str, str] = {}
    for line in _VARIANT_TABLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            variant, canonical, _source = line.split("\t")
            pairs[variant] = canonical
    return pairs


_TABLE_FOLDS: Final = _table_variants()
_HAND_FOLDS: Final = {
    variant: canonical for canonical, variants in _VARIANTS.items() for variant in variants
}
_FOLD: Final = str.maketrans(_TABLE_FOLDS | _HAND_FOLDS)
_KANA_FOLDS: Final = frozenset("ケノツ")
_KANJI_FOLD: Final = str.maketrans(
    _TABLE_FOLDS
    | {
        variant: canonical
        for canonical, variants in _VARIANTS.items()
        if canonical not in _KANA_FOLDS
        for variant in variants
    }
)
# A kanji numeral is a number where a counter follows (or 第 precedes); elsewhere it is part of
# a name (九十九里, 千代田, 五十嵐) and stays as it is.
_COUNTED_KANJI_NUMERAL: Final = re.compile(
    rf"(?<=第)[{KANJI_NUMERAL_CHARS}]+"
    rf"|[{KANJI_NUMERAL_CHARS}]+(?=丁目|丁|条|線|番|号|地割|区|ノ|町内|-)"
)


def normalize_text(text: str) -> str:
    """NFKC, dashes between numbers as ``-``, whitespace runs as one space, stripped."""
    normal = unicodedata.normalize("NFKC", text).translate(_DASHES)
    normal = _SPACES.sub(" ", normal).strip()
    return _LONG_VOWEL_BETWEEN_DIGITS.sub("-", normal)


def split_leading_postal(normal: str) -> tuple[str, str | None]:
    """``〒064-0941 札幌市…`` → (``札幌市…``, ``0640941``); text without one is returned as is."""
    match = _LEADING_POSTAL.match(normal)
    if match is None:
        return normal, None
    return normal[match.end() :], match.group(1) + match.group(2)


def clean_postal_code(value: str | None) -> str | None:
    """A postal code as 7 ASCII digits (``〒064-0941``, ``０６４０９４１`` …), None if malformed."""
    if not value:
        return None
    digits = re.sub(r"[\s〒-]", "", normalize_text(value))
    return digits if len(digits) == 7 and digits.isascii() and digits.isdigit() else None


def kanji_numeral_value(run: str) -> int:
    """The value of a 漢数字 run: positional (二〇三 → 203) or with units (百二十三 → 123)."""
    if not any(ch in _KANJI_UNIT_VALUE for ch in run):
        return int("".join(str(_KANJI_DIGIT_VALUE[ch]) for ch in run))
    total, pending = 0, 0
    for ch in run:
        unit = _KANJI_UNIT_VALUE.get(ch)
        if unit is None:
            pending = pending * 10 + _KANJI_DIGIT_VALUE[ch]
        else:
            total += (pending or 1) * unit
            pending = 0
    return total + pending


def number_value(token: str) -> int:
    """ASCII digits or a 漢数字 run as an int."""
    return int(token) if token.isascii() else kanji_numeral_value(token)


def _numeral_key(run: str) -> tuple[str, int]:
    """(replacement, leading characters kept) for a counted 漢数字 run.

    A run with a unit (十百千) or 〇, or of one character, is one number. Longer runs of bare
    digits are rare as numbers (一五 for 15) but common where a name ends in a numeral and the
    丁目 follows (与一 + 五丁目): only the last character is taken as the number then.
    """
    if len(run) == 1 or "〇" in run or any(ch in _KANJI_UNIT_VALUE for ch in run):
        return str(kanji_numeral_value(run)), 0
    return run[:-1] + str(_KANJI_DIGIT_VALUE[run[-1]]), len(run) - 1


def _numeral_sub(match: re.Match[str]) -> str:
    return _numeral_key(match.group())[0]


def fold_kanji_variants(text: str) -> str:
    """Only the 異体字 of :func:`fold` (嶋 → 島), keeping kana spellings (日の出 ≠ 日之出)."""
    return text.translate(_KANJI_FOLD)


def fold(text: str) -> str:
    """The lookup key of ``text`` (already NFKC-normalised): see the module docstring."""
    compact = text.translate(_FOLD).replace(" ", "")
    return _COUNTED_KANJI_NUMERAL.sub(_numeral_sub, compact)


def fold_with_positions(normal: str) -> tuple[str, list[int]]:
    """The key of ``normal`` and, for each key character, its index in ``normal``.

    The list has one extra entry, ``len(normal)``, so ``positions[end]`` is valid for a match
    that runs to the end of the key.
    """
    folded = normal.translate(_FOLD)
    if " " in folded:
        origin = [i for i, ch in enumerate(folded) if ch != " "]
        compact = folded.replace(" ", "")
    else:
        origin, compact = list(range(len(folded))), folded
    chars: list[str] = []
    positions: list[int] = []
    last = 0
    for match in _COUNTED_KANJI_NUMERAL.finditer(compact):
        start = match.start()
        replacement, kept = _numeral_key(match.group())
        chars.append(compact[last:start])
        positions.extend(origin[last : start + kept])
        chars.append(replacement)
        positions.extend([origin[start + kept]] * (len(replacement) - kept))
        last = match.end()
    if last == 0:
        return compact, [*origin, len(normal)]
    chars.append(compact[last:])
    positions.extend(origin[last:])
    positions.append(len(normal))
    return "".join(chars), positions
