"""Detection of 個人番号 (My Number) and 住民票コード, which Renkei must never carry.

個人番号: 12 digits; weights 6,5,4,3,2,7,6,5,4,3,2 on the first 11 digits from the left;
r = sum mod 11; the 12th digit is 0 if r <= 1, else 11 − r. About 10 % of random 12-digit
strings pass the check, so a value is refused when it passes the check digit and looks like a
standalone number (the whole value, or grouped 4-4-4), or when the field's name or the text
around it says it is one (``マイナンバー: …``). Written forms are normalized first: full-width
and other non-ASCII digits, zero-width characters, U+2212 and ``ー`` as separators, double
spaces (``_normalized``).
"""

from __future__ import annotations

import re
import unicodedata

_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
# A run of digits with up to three separators between any two (spaces, double spaces, hyphens
# and dash-like marks, all mapped to "-" by _normalized), not touching another digit.
_RUN = re.compile(r"\d(?:[\s\-]{0,3}\d)*")
# Without context, a run touching a letter (directly or across one dash) is part of an
# identifier such as a UUID or a hex digest ("…a-0391-4163-4b…"), not a number on its own.
_STANDALONE_RUN = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9A-Za-z]-)\d(?:[\s\-]{0,3}\d)*(?!-?[0-9A-Za-z])"
)
_LONG_RUN = re.compile(r"\d(?:[\s\-]{0,3}\d){11}")
_SEPARATORS = re.compile(r"[\s\-]+")
# Dash-like marks written between digit groups: hyphen variants, U+2212 minus, katakana
# prolonged sound marks (ー, half-width ｰ), small and full-width hyphen-minus, bullets.
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−⁃ーｰ－﹣﹘", "-"))
# 住民票コード (11 digits) must be refused like a 個人番号 (DOMAIN.md), but 11 bare digits are
# also a mobile phone number (090…): it is recognised only in a field named for it.
_JUMINHYO = re.compile(r"(?<!\d)\d{11}(?!\d)")
_JUMINHYO_HINTS = ("juminhyo", "jyuminhyo", "住民票コード", "住民票番号", "resident_card_code")
_NAME_HINTS = (
    "mynumber",
    "my_number",
    "kojin_bango",
    "kojinbango",
    "individual_number",
    "個人番号",
    "マイナンバー",
)
_CONTEXT_HINTS = (*_NAME_HINTS, "my-number", "まいなんばー", "個人番号カード")


# Invisible format characters (zero-width space/joiners, BOM, soft hyphen, bidi marks) and
# non-ASCII decimal digits (\d matches every Unicode decimal digit; NFKC already made the
# full-width ones ASCII). One C-speed scan; a Python step only for what it finds.
_SPECIAL = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]|(?![0-9])\\d"
)


def _special(match: re.Match[str]) -> str:
    char = match.group(0)
    return str(unicodedata.decimal(char)) if char.isdecimal() else ""


def _normalized(value: str) -> str:
    """NFKC (full-width digits and marks → ASCII), format characters (zero-width spaces,
    joiners, BOM, soft hyphen) removed, any Unicode decimal digit (Arabic-Indic, Devanagari, …)
    as its ASCII digit, and dash-like marks as ``-``."""
    text = unicodedata.normalize("NFKC", value)
    if text.isascii():
        return text
    return _SPECIAL.sub(_special, text).translate(_DASHES)


def _twelve_digit_runs(text: str, pattern: re.Pattern[str]) -> list[tuple[str, bool]]:
    """(digits, grouped 4-4-4) of every run of exactly 12 digits in normalized text."""
    found = []
    for match in pattern.finditer(text):
        groups = [g for g in _SEPARATORS.split(match.group(0)) if g]
        digits = "".join(groups)
        if len(digits) == 12:
            found.append((digits, [len(g) for g in groups] == [4, 4, 4]))
    return found


def my_number_check_digit(first_eleven: str) -> int:
    """The check digit for the first 11 digits of a 個人番号."""
    total = sum(int(d) * w for d, w in zip(first_eleven, _WEIGHTS, strict=True))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_my_number(digits: str) -> bool:
    """True when ``digits`` is exactly 12 ASCII digits with a valid 個人番号 check digit."""
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    return my_number_check_digit(digits[:11]) == int(digits[11])


def looks_like_my_number(value: str, field_name: str = "") -> bool:
    """True when a text value should be refused as a 個人番号.

    The value is normalized first (NFKC, zero-width characters removed, non-ASCII digits and
    dash-like separators mapped: ``_normalized``). Then it is refused when a run of exactly 12
    digits with a valid check digit is
    - the whole value (bare, or grouped with spaces or dashes in any way);
    - grouped 4-4-4 anywhere in the text (how the card prints it);
    - anywhere in the text, when the field's name or the text itself says 個人番号 /
      マイナンバー / my number;
    or when the field's name says it is a 住民票コード and the value holds 11 digits.
    """
    text = _normalized(value)
    lowered = field_name.lower()
    candidates = (
        [(d, grouped) for d, grouped in _twelve_digit_runs(text, _RUN) if is_my_number(d)]
        if _LONG_RUN.search(text)
        else []
    )  # most text has no run of 12 digits: the checks below run only for the rest
    if candidates:
        if _RUN.fullmatch(text.strip()) is not None:
            return True
        if any(hint in lowered for hint in _NAME_HINTS) or _mentions_my_number(value):
            return True
        standalone = {d for d, grouped in _twelve_digit_runs(text, _STANDALONE_RUN) if grouped}
        if any(grouped and digits in standalone for digits, grouped in candidates):
            return True
    if any(hint in lowered for hint in _JUMINHYO_HINTS):
        return _JUMINHYO.search(text.replace("-", "").replace(" ", "")) is not None
    return False


def _mentions_my_number(value: str) -> bool:
    """Whether the text says 個人番号 / マイナンバー / my number (before dashes are mapped:
    the ー of マイナンバー is one)."""
    compact = "".join(unicodedata.normalize("NFKC", value).split()).lower()
    return any(hint in compact for hint in _CONTEXT_HINTS)
