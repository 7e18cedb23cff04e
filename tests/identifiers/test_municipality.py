import pytest

from renkei.identifiers.municipality import (
    is_valid_municipality_code,
    municipality_check_digit,
    municipality_code_problem,
    with_check_digit,
)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("131016", "千代田区"),
        ("131041", "新宿区"),
        ("141500", "相模原市"),
        ("011002", "札幌市"),
        ("011011", "札幌市中央区"),
    ],
)
def test_known_codes_are_valid(code: str, name: str) -> None:
    assert is_valid_municipality_code(code), name
    assert with_check_digit(code[:5]) == code


def test_remainder_zero_and_one_follow_the_rule() -> None:
    # remainder 0 -> 11 - 0 = 11 -> last digit 1; remainder 1 -> 10 -> 0
    bodies = {municipality_check_digit(f"{n:05d}"): n for n in range(0, 2000)}
    assert set(bodies) <= set(range(10))
    assert municipality_check_digit("00000") == 1


@pytest.mark.parametrize("code", ["131017", "13101", "1310160", "１３１０１６", "abcdef"])
def test_wrong_codes_are_refused_with_a_reason(code: str) -> None:
    assert not is_valid_municipality_code(code)
    assert municipality_code_problem(code)
