import random

import pytest

from renkei.identifiers.mynumber import is_my_number, looks_like_my_number, my_number_check_digit


def _valid(first_eleven: str) -> str:
    return first_eleven + str(my_number_check_digit(first_eleven))


def test_check_digit_matches_the_official_algorithm() -> None:
    # Computed by hand: weights 6,5,4,3,2,7,6,5,4,3,2 on 12345678901.
    digits = "12345678901"
    total = sum(int(d) * w for d, w in zip(digits, (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=False))
    r = total % 11
    expected = 0 if r <= 1 else 11 - r
    assert my_number_check_digit(digits) == expected == 8
    assert is_my_number("123456789018")
    assert not is_my_number("123456789017")


def test_about_one_in_ten_random_numbers_pass() -> None:
    rng = random.Random(1)
    hits = sum(is_my_number(f"{rng.randrange(10**12):012d}") for _ in range(20000))
    assert 1500 < hits < 2500


@pytest.mark.parametrize(
    "text",
    [
        "123456789018",
        "1234 5678 9018",
        "1234-5678-9018",
        "１２３４５６７８９０１８",
        " 123456789018 ",
    ],
)
def test_forms_of_a_valid_number_are_detected(text: str) -> None:
    assert looks_like_my_number(text)


@pytest.mark.parametrize(
    "text", ["123456789017", "000000012345678", "12345678901", "電話 03-1234-5678"]
)
def test_other_values_pass(text: str) -> None:
    assert not looks_like_my_number(text)


def test_field_name_hint_finds_a_number_inside_text() -> None:
    assert looks_like_my_number("番号は123456789018です", field_name="個人番号")
    assert not looks_like_my_number("番号は123456789018です", field_name="note")


@pytest.mark.parametrize(
    ("value", "field", "refused"),
    [
        ("12345678901", "juminhyo_code", True),
        ("１２３４５６７８９０１", "住民票コード", True),
        ("1234-5678-901", "juminhyo_code", True),
        ("12345678901", "phone", False),  # 11 bare digits are also a mobile number
        ("09012345678", "tel", False),
        ("1234567890", "juminhyo_code", False),
    ],
)
def test_a_juminhyo_code_is_refused_in_a_field_named_for_it(
    value: str, field: str, refused: bool
) -> None:
    assert looks_like_my_number(value, field) is refused
