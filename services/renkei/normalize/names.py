"""Personal names (氏名 shimei, written name) and their readings (フリガナ furigana, kana).

Both are NFKC-normalised, stripped, and every run of spaces becomes ONE full-width space
(U+3000), the separator registry systems put between family and given name. Control and
invisible format characters (zero-width space, BOM …) are removed; tabs and line breaks count
as spaces. Private-use characters (外字 gaiji, a municipality's own kanji) are kept as they are:
mapping them needs the municipality's character table, not a rule.

Readings are written in full-width katakana: half-width katakana (ｶﾞｯｺｳ) and hiragana are
converted, voiced-sound marks written separately (ｶﾞ, カ゛, ハ゜) are combined with their kana,
and a dash after a kana (ｰ, -, ―, ‐ …) becomes the long-vowel mark ー.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from renkei.normalize.errors import StandardizationError

_FULL_WIDTH_SPACE: Final = "\u3000"
_SPACING_CONTROLS: Final = frozenset("\t\n\r\v\f")
_REMOVED_CATEGORIES: Final = frozenset({"Cc", "Cf"})

# Spacing 濁点/半濁点 (dakuten/handakuten, voiced-sound marks): NFKC turns them into a space
# plus the combining mark, which would split the kana from its mark; map them first.
_SPACING_MARKS: Final = str.maketrans({"\u309b": "\u3099", "\u309c": "\u309a"})
_HIRAGANA_TO_KATAKANA: Final = str.maketrans(
    {chr(code): chr(code + 0x60) for code in range(0x3041, 0x3097)}
    | {"\u309d": "\u30fd", "\u309e": "\u30fe"}  # ゝゞ iteration marks → ヽヾ
)
_LONG_VOWEL: Final = "ー"
# Dashes legacy systems type for ー; after NFKC the half-width ｰ is already ー.
_DASHES: Final = frozenset("-‐‑‒–—―−─━")
_COMBINING_MARKS: Final = frozenset("\u3099\u309a")
_MIDDLE_DOT: Final = "・"  # separates the parts of foreign names
_IDEOGRAPH_NAMES: Final = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")


def normalize_name(text: str) -> str:
    """``text`` as a canonical name: NFKC, no control characters, spaces collapsed to U+3000.

    Raises :class:`StandardizationError` (field ``name``) when nothing is left.
    """
    name = _normalize_spacing(unicodedata.normalize("NFKC", text))
    if not name:
        raise StandardizationError("name", "empty")
    return name


def normalize_kana(text: str) -> str:
    """``text`` as a canonical reading in full-width katakana, spaces as in normalize_name.

    Raises :class:`StandardizationError` (field ``kana``) when nothing is left or when the text
    holds anything but kana, ー, ・ and spaces (kanji, latin letters, digits, stray marks).
    """
    folded = unicodedata.normalize("NFKC", text.translate(_SPACING_MARKS))
    katakana = unicodedata.normalize("NFC", folded.translate(_HIRAGANA_TO_KATAKANA))
    kana = _long_vowels(_normalize_spacing(katakana))
    if not kana:
        raise StandardizationError("kana", "empty")
    problem = _first_problem(kana)
    if problem is not None:
        raise StandardizationError("kana", problem)
    return kana


def _normalize_spacing(text: str) -> str:
    """Control/format characters removed, then whitespace runs → one U+3000, ends stripped."""
    kept = "".join(
        ch
        for ch in text
        if ch in _SPACING_CONTROLS or unicodedata.category(ch) not in _REMOVED_CATEGORIES
    )
    return _FULL_WIDTH_SPACE.join(kept.split())


def _is_katakana(ch: str) -> bool:
    """A full-width katakana letter, ー, or the iteration marks ヽヾ."""
    return "\u30a1" <= ch <= "\u30fa" or "\u30fc" <= ch <= "\u30fe"


def _long_vowels(text: str) -> str:
    """Dashes that follow a kana (or a ー already converted) become ー."""
    out: list[str] = []
    for ch in text:
        if ch in _DASHES and out and _is_katakana(out[-1]):
            ch = _LONG_VOWEL
        out.append(ch)
    return "".join(out)


def _first_problem(kana: str) -> str | None:
    """Why ``kana`` is not a reading, or None. Names a class of character, never the text."""
    for ch in kana:
        if _is_katakana(ch) or ch in (_MIDDLE_DOT, _FULL_WIDTH_SPACE):
            continue
        if ch in _COMBINING_MARKS:
            return "voiced-sound mark (濁点/半濁点) on a kana that cannot take one"
        name = unicodedata.name(ch, "")
        if name.startswith(_IDEOGRAPH_NAMES) or ch == "々":
            return "contains kanji; a reading must be kana only"
        if name.startswith("LATIN"):
            return "contains latin letters; a reading must be kana only"
        if ch.isdigit():
            return "contains digits; a reading must be kana only"
        return "contains characters that are not kana"
    return None
