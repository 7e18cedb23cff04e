"""Synthetic identifiers (never 12 bare digits) and 和暦 date forms."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from renkei.identifiers.mynumber import looks_like_my_number
from renkei.simulator.identifiers import IdentifierIssuer, modulus11_check_digit
from renkei.simulator.wareki import format_date


def test_modulus11_check_digit_weights_two_to_seven_from_the_right() -> None:
    # 1*7 + 2*6 + 3*5 + 4*4 + 5*3 + 6*2 = 77, 77 mod 11 = 0 → 0
    assert modulus11_check_digit("123456") == 0
    # 1*2 = 2 → 11 - 2 = 9
    assert modulus11_check_digit("000001") == 9


def test_identifiers_have_their_lengths_and_check_digits() -> None:
    issuer = IdentifierIssuer(random.Random(3))
    keys = [issuer.resident_key() for _ in range(200)]
    households = [issuer.household_number() for _ in range(200)]
    assert all(len(k) == 15 and k.isdigit() for k in keys)
    assert all(len(h) == 10 and h.isdigit() for h in households)
    assert all(int(k[-1]) == modulus11_check_digit(k[:-1]) for k in keys + households)
    assert len(set(keys)) == 200
    values = keys + households + [issuer.insured_number() for _ in range(200)]
    assert not any(looks_like_my_number(v) for v in values)


def test_event_ids_are_uuid4_from_the_seed() -> None:
    first = [IdentifierIssuer(random.Random(9)).event_id() for _ in range(2)]
    assert first[0] == first[1]
    assert first[0][14] == "4"


@pytest.mark.parametrize(
    ("day", "style", "text"),
    [
        (dt.date(1980, 4, 1), "iso", "1980-04-01"),
        (dt.date(1980, 4, 1), "kanji", "昭和55年4月1日"),
        (dt.date(1980, 4, 1), "initial", "S55.04.01"),
        (dt.date(1980, 4, 1), "numeric", "3550401"),
        (dt.date(1989, 1, 7), "kanji", "昭和64年1月7日"),
        (dt.date(1989, 1, 8), "kanji", "平成元年1月8日"),
        (dt.date(2019, 5, 1), "initial", "R01.05.01"),
        (dt.date(1925, 2, 3), "numeric", "2140203"),
    ],
)
def test_wareki_forms(day: dt.date, style: str, text: str) -> None:
    assert format_date(day, style) == text  # type: ignore[arg-type]


def test_office_time_is_within_hours_on_a_working_day_and_never_before_now() -> None:
    from renkei.simulator.envelope import office_time

    rng = random.Random(5)
    saturday = dt.date(2026, 4, 4)
    monday = office_time(rng, saturday)
    assert monday.date() == dt.date(2026, 4, 6) and dt.time(8, 45) <= monday.time()
    # half a second before closing on Monday: the next working day
    almost_closed = dt.datetime(2026, 4, 6, 17, 14, 59, 500_000)
    assert office_time(rng, saturday, almost_closed).date() == dt.date(2026, 4, 7)
    evening = dt.datetime(2026, 4, 7, 12, 0)
    assert office_time(rng, dt.date(2026, 4, 7), evening) > evening
