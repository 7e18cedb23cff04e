"""Detection of 個人番号 (My Number) and 住民票コード, which Renkei must never carry.

個人番号: 12 digits; weights 6,5,4,3,2,7,6,5,4,3,2 on the first 11 digits from the left;
r = sum mod 11; the 12th digit is 0 if r <= 1, else 11 − r. About 10 % of random 12-digit
strings pass the check, so a value is refused when it passes the check digit and looks like a
standalone number (bare, full-width, or grouped 4-4-4), or when the field's name says it is one.
"""

from __future__ import annotations

import re
import unicodedata

_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
# 12 digits alone, or grouped 4-4-4 with spaces or hyphens (after NFKC: full-width → ASCII).
_CANDIDATE = re.compile(r"^\s*(\d{4})[\s\-‐－]?(\d{4})[\s\-‐－]?(\d{4})\s*$")
_EMBEDDED = re.compile(r"(?<!\d)(\d{4})[\s\-]?(\d{4})[\s\-]?(\d{4})(?!\d)")
# 住民票コード (11 digits) must be refused like a 個人番号 (DOMAIN.md), but 11 bare digits are
# also a mobile phone number (090…): it is recognised only in a field named for it.
_JUMINHYO = re.compile(r"(?<!\d)\d{11}(?!\d)")
_JUMINHYO_HINTS = ("juminhyo", "jyuminhyo", "住民票コード", "住民票番号", "resident_card_code")
_NAME_HINTS = (
    "mynumber",
    "my_number",
    "kojin_bango",
    "individual_number",
    "個人番号",
    "マイナンバー",
)


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

    A value is refused when, after NFKC (full-width digits become ASCII), it is a 12-digit number
    (bare or grouped 4-4-4) with a valid check digit; or when the field's name says it is a
    個人番号 and the value holds a 12-digit group anywhere with a valid check digit; or when
    the field's name says it is a 住民票コード and the value holds 11 digits.
    """
    text = unicodedata.normalize("NFKC", value)
    match = _CANDIDATE.match(text)
    if match and is_my_number("".join(match.groups())):
        return True
    lowered = field_name.lower()
    if any(hint in lowered for hint in _NAME_HINTS):
        return any(is_my_number("".join(m.groups())) for m in _EMBEDDED.finditer(text))
    if any(hint in lowered for hint in _JUMINHYO_HINTS):
        return _JUMINHYO.search(text.replace("-", "").replace(" ", "")) is not None
    return False
