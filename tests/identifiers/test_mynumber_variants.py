"""The 個人番号 detector reads the forms a careless export or a free-text note takes
(issue 12, finding 4): context words in free text, U+2212 / ー / zero-width separators, double
spaces, non-ASCII digits. Each of these passed on main."""

from __future__ import annotations

import pytest

from renkei.identifiers.masking import mask_datum
from renkei.identifiers.mynumber import looks_like_my_number, my_number_check_digit

NUMBER = "12345678901" + str(my_number_check_digit("12345678901"))  # 123456789018
A, B, C = NUMBER[:4], NUMBER[4:8], NUMBER[8:]
ARABIC_INDIC = NUMBER.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
DEVANAGARI = NUMBER.translate(str.maketrans("0123456789", "०१२३४५६७८९"))


@pytest.mark.parametrize(
    "text",
    [
        f"マイナンバー:{NUMBER}",  # context word in free text, bare digits
        f"備考 マイナンバー：{A}{B}{C} 確認済",
        f"個人番号は{NUMBER}です",
        f"my number {NUMBER}",
        f"{A}\u2212{B}\u2212{C}",  # U+2212 MINUS SIGN between groups
        f"{A}ー{B}ー{C}",  # katakana prolonged sound mark as a dash
        f"{A}\u200b{B}\u200b{C}",  # zero-width spaces
        f"{A}  {B}  {C}",  # double spaces
        f"{A}\u3000\u3000{B}\u3000{C}",  # ideographic spaces
        ARABIC_INDIC,  # non-ASCII digits
        DEVANAGARI,
        f"連絡事項: {A}-{B}-{C} を控え",  # 4-4-4 grouped inside free text
        f"\ufeff{NUMBER}",  # a BOM in front
    ],
)
def test_refused_in_any_field(text: str) -> None:
    assert looks_like_my_number(text, "note")


@pytest.mark.parametrize(
    "text",
    [
        "注文番号 123456789018 の件",  # 12 digits in free text, no context, not grouped 4-4-4
        "電話 090-1234-5678",
        "〒064-0941 札幌市中央区旭ケ丘5丁目6番51号",
        "マイナンバーカードの申請予定",  # context without a number
        f"マイナンバー:{NUMBER[:11]}{(int(NUMBER[11]) + 1) % 10}",  # wrong check digit
        "1234-5678-9012-3456",  # a 16-digit card-like run
    ],
)
def test_not_refused(text: str) -> None:
    assert not looks_like_my_number(text, "note")


def test_a_free_text_note_is_masked_whole() -> None:
    masked, count = mask_datum({"note": f"マイナンバー:{A}\u2212{B}\u2212{C}"})
    assert count == 1 and NUMBER not in str(masked) and A not in str(masked)


def test_digits_inside_identifiers_are_not_a_number() -> None:
    """A UUID or a hex digest whose digits happen to group 4-4-4 with a valid check digit."""
    assert not looks_like_my_number("94dd0756-0391-4163-b9d9-388141259741", "event_id")
    assert not looks_like_my_number(f"e0a1b2c3-{A}-{B}-{C}-abcdef012345", "event_id")
    assert not looks_like_my_number(f"ab{NUMBER}cd", "note")
    assert looks_like_my_number(f"ID {A}-{B}-{C} 控え", "note")


def test_with_context_a_number_glued_to_letters_is_still_refused() -> None:
    assert looks_like_my_number(f"MN{NUMBER}", "my_number")
    assert looks_like_my_number(f"マイナンバーID{NUMBER}", "note")
