"""parse_date: every legacy 和暦 / 西暦 form, era boundaries, refusals, and round trips over
every day from the start of 明治 to 2030 (the simulator's styles and this test's own)."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterator

import pytest

from renkei.normalize.dates import parse_date
from renkei.normalize.errors import StandardizationError
from renkei.simulator.wareki import DateStyle, format_date

D = dt.date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 西暦
        ("2026-04-01", D(2026, 4, 1)),
        ("2026/4/1", D(2026, 4, 1)),
        ("2026.4.1", D(2026, 4, 1)),
        ("20260401", D(2026, 4, 1)),
        ("2026年4月1日", D(2026, 4, 1)),
        ("2026年4月1", D(2026, 4, 1)),
        ("西暦2026年4月1日", D(2026, 4, 1)),
        ("２０２６－０４－０１", D(2026, 4, 1)),
        ("２０２６ー０４ー０１", D(2026, 4, 1)),
        ("２０２６／４／１", D(2026, 4, 1)),
        ("二〇二六年四月一日", D(2026, 4, 1)),
        ("二千二十六年四月一日", D(2026, 4, 1)),
        ("千九百八十年十月十日", D(1980, 10, 10)),
        (" 2026 - 04 - 01 ", D(2026, 4, 1)),
        # era names
        ("昭和55年4月1日", D(1980, 4, 1)),
        ("昭和５５年４月１日", D(1980, 4, 1)),
        ("昭和 55 年 4 月 1 日", D(1980, 4, 1)),
        ("昭\u3000和５５年\u3000４月１日", D(1980, 4, 1)),
        ("平成31年4月30日", D(2019, 4, 30)),
        ("令和元年5月1日", D(2019, 5, 1)),
        ("令和1年5月1日", D(2019, 5, 1)),
        ("令和08年10月03日", D(2026, 10, 3)),
        ("大正元年7月30日", D(1912, 7, 30)),
        ("明治45年7月29日", D(1912, 7, 29)),
        ("昭和55.4.1", D(1980, 4, 1)),
        # 漢数字
        ("昭和五十五年四月一日", D(1980, 4, 1)),
        ("昭和五五年四月一日", D(1980, 4, 1)),
        ("平成十二年十二月三十一日", D(2000, 12, 31)),
        ("平成一〇年一〇月一〇日", D(1998, 10, 10)),
        ("平成一○年一○月一○日", D(1998, 10, 10)),  # ○ (white circle) typed for 〇
        ("平成二十年二月二十九日", D(2008, 2, 29)),
        ("令和元年五月一日", D(2019, 5, 1)),
        # abbreviated kanji and squared era characters
        ("昭55.4.1", D(1980, 4, 1)),
        ("平元年1月8日", D(1989, 1, 8)),
        ("明1/1/25", D(1868, 1, 25)),
        ("大15-12-24", D(1926, 12, 24)),
        ("令8.10.3", D(2026, 10, 3)),
        ("㍻31.4.30", D(2019, 4, 30)),
        ("㋿元年5月1日", D(2019, 5, 1)),
        ("㍼64年1月7日", D(1989, 1, 7)),
        # letters, either case, full-width, with or without a dot after the letter
        ("S55.04.01", D(1980, 4, 1)),
        ("S55/4/1", D(1980, 4, 1)),
        ("s55-4-1", D(1980, 4, 1)),
        ("R08.10.03", D(2026, 10, 3)),
        ("r8.10.3", D(2026, 10, 3)),
        ("H1.1.8", D(1989, 1, 8)),
        ("H元.1.8", D(1989, 1, 8)),
        ("h31.4.30", D(2019, 4, 30)),
        ("T01.07.30", D(1912, 7, 30)),
        ("t15.12.24", D(1926, 12, 24)),
        ("M45.07.29", D(1912, 7, 29)),
        ("S.55.4.1", D(1980, 4, 1)),
        ("Ｓ５５．０４．０１", D(1980, 4, 1)),
        ("ｓ５５ー４ー１", D(1980, 4, 1)),
        ("S550401", D(1980, 4, 1)),
        ("R081003", D(2026, 10, 3)),
        ("S55年4月1日", D(1980, 4, 1)),
        # digit-coded eras: era digit + YYMMDD
        ("3550401", D(1980, 4, 1)),
        ("3550301", D(1980, 3, 1)),
        ("1010125", D(1868, 1, 25)),
        ("2150725", D(1926, 7, 25)),
        ("4010108", D(1989, 1, 8)),
        ("5081003", D(2026, 10, 3)),
        ("３５５０４０１", D(1980, 4, 1)),
        ("355 04 01", D(1980, 4, 1)),
    ],
)
def test_accepts_every_legacy_form(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


# (era as written, first day, last day) — the last day is the day before the next era began.
BOUNDARIES = [
    ("明治", D(1868, 1, 25), D(1912, 7, 29)),
    ("大正", D(1912, 7, 30), D(1926, 12, 24)),
    ("昭和", D(1926, 12, 25), D(1989, 1, 7)),
    ("平成", D(1989, 1, 8), D(2019, 4, 30)),
    ("令和", D(2019, 5, 1), None),
]
ERA_START_YEAR = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}


def _kanji(era: str, day: dt.date) -> str:
    return f"{era}{day.year - ERA_START_YEAR[era] + 1}年{day.month}月{day.day}日"


@pytest.mark.parametrize(("era", "first", "last"), BOUNDARIES)
def test_era_boundaries(era: str, first: dt.date, last: dt.date | None) -> None:
    assert parse_date(_kanji(era, first)) == first
    with pytest.raises(StandardizationError, match="before the era began"):
        parse_date(_kanji(era, first - dt.timedelta(days=1)))
    if last is not None:
        assert parse_date(_kanji(era, last)) == last
        with pytest.raises(StandardizationError, match="after the era ended"):
            parse_date(_kanji(era, last + dt.timedelta(days=1)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明治元年1月25日", D(1868, 1, 25)),  # counted from the start of 慶応4
        ("明治元年10月23日", D(1868, 10, 23)),  # the day the era was proclaimed
        ("明治45年7月29日", D(1912, 7, 29)),
        ("大正元年7月30日", D(1912, 7, 30)),
        ("大正15年12月24日", D(1926, 12, 24)),
        ("昭和元年12月25日", D(1926, 12, 25)),
        ("昭和元年12月31日", D(1926, 12, 31)),
        ("昭和2年1月1日", D(1927, 1, 1)),
        ("昭和64年1月7日", D(1989, 1, 7)),
        ("平成元年1月8日", D(1989, 1, 8)),
        ("平成31年4月30日", D(2019, 4, 30)),
        ("令和元年5月1日", D(2019, 5, 1)),
        ("令和2年1月1日", D(2020, 1, 1)),
        ("2019-04-30", D(2019, 4, 30)),  # 西暦 has no era boundary
    ],
)
def test_boundary_table_accepted(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("明治元年1月24日", "before the era began"),
        ("M01.01.01", "before the era began"),
        ("明治45年7月30日", "after the era ended"),
        ("明治46年1月1日", "past the end of the era"),
        ("大正元年7月29日", "before the era began"),
        ("大正15年12月25日", "after the era ended"),
        ("大正16年1月1日", "past the end of the era"),
        ("T16.01.01", "past the end of the era"),
        ("昭和元年12月24日", "before the era began"),
        ("昭和64年1月8日", "after the era ended"),
        ("昭和65年1月1日", "past the end of the era"),
        ("3650101", "past the end of the era"),
        ("平成元年1月7日", "before the era began"),
        ("平成1年1月7日", "before the era began"),
        ("4010107", "before the era began"),
        ("平成31年5月1日", "after the era ended"),
        ("平成32年1月1日", "past the end of the era"),
        ("令和元年4月30日", "before the era began"),
        ("R01.04.30", "before the era began"),
        ("令和0年5月1日", "era year 0"),
        ("昭和〇年1月1日", "era year 0"),
        ("S00.01.01", "era year 0"),
        ("3000101", "era year 0"),
    ],
)
def test_boundary_table_refused(text: str, reason: str) -> None:
    with pytest.raises(StandardizationError, match=reason):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \u3000 ", "empty"),
        ("2026-02-30", "no such calendar date"),
        ("2025年2月29日", "no such calendar date"),
        ("令和7年2月29日", "no such calendar date"),
        ("平成二十年二月三十日", "no such calendar date"),
        ("S55.13.01", "no such calendar date"),
        ("S55.04.31", "no such calendar date"),
        ("3550230", "no such calendar date"),
        ("20260230", "no such calendar date"),
        ("0000-00-00", "no such calendar date"),
        ("2026-04-00", "no such calendar date"),
        ("6550401", "era digit"),
        ("0550401", "era digit"),
        ("550401", "not a recognised"),  # no era: ambiguous
        ("26/4/1", "not a recognised"),
        ("2026/4-1", "not a recognised"),  # mixed separators
        ("2026-04-01T00:00", "not a recognised"),
        ("X55.04.01", "not a recognised"),
        ("天保3年1月1日", "not a recognised"),
        ("昭和55年", "not a recognised"),
        ("昭和五五十年一月一日", "malformed kanji numeral"),
        ("昭和十十年一月一日", "malformed kanji numeral"),
        ("unknown", "not a recognised"),
        ("٢٠٢٦-٠٤-٠١", "not a recognised"),  # only ASCII or full-width digits
    ],
)
def test_refuses_impossible_and_garbage(text: str, reason: str) -> None:
    with pytest.raises(StandardizationError, match=reason) as caught:
        parse_date(text)
    assert caught.value.field == "date"
    assert caught.value.reasons == [("date", caught.value.reason)]


@pytest.mark.parametrize(
    "text", ["2026-02-30", "S55.13.01", "3650101", "平成元年1月7日", "大正16年1月1日", "abc"]
)
def test_error_text_never_holds_the_value(text: str) -> None:
    with pytest.raises(StandardizationError) as caught:
        parse_date(text)
    message = str(caught.value)
    for token in re.findall(r"\w{2,}", text):
        assert token not in message


def _every_day(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


SIMULATOR_STYLES: list[DateStyle] = ["iso", "kanji", "initial", "numeric"]


@pytest.mark.parametrize("style", SIMULATOR_STYLES)
def test_round_trips_every_simulator_date(style: DateStyle) -> None:
    # The simulator counts 明治 from its proclamation (1868-10-23) and writes nothing earlier.
    for day in _every_day(D(1868, 10, 23), D(2030, 12, 31)):
        assert parse_date(format_date(day, style)) == day, style


# This test's own formatter: independent era table, more legacy styles, random noise.
_ERAS = (
    (D(2019, 5, 1), "令和", "R", 5),
    (D(1989, 1, 8), "平成", "H", 4),
    (D(1926, 12, 25), "昭和", "S", 3),
    (D(1912, 7, 30), "大正", "T", 2),
    (D(1868, 1, 25), "明治", "M", 1),
)
_KANJI_DIGITS = "〇一二三四五六七八九"
_FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def _era(day: dt.date) -> tuple[str, str, int, int]:
    for start, name, initial, digit in _ERAS:
        if day >= start:
            return name, initial, digit, day.year - start.year + 1
    raise AssertionError("before 明治")


def _kanji_units(n: int) -> str:
    """55 → 五十五, 10 → 十, 12 → 十二, 20 → 二十."""
    tens, ones = divmod(n, 10)
    text = "" if tens == 0 else ("十" if tens == 1 else _KANJI_DIGITS[tens] + "十")
    return text + (_KANJI_DIGITS[ones] if ones or not text else "")


def _kanji_positional(n: int) -> str:
    """10 → 一〇, 2026 → 二〇二六."""
    return "".join(_KANJI_DIGITS[int(ch)] for ch in str(n))


def _kanji_full(day: dt.date) -> str:
    name, _, _, year = _era(day)
    y = "元" if year == 1 else _kanji_units(year)
    return f"{name}{y}年{_kanji_units(day.month)}月{_kanji_units(day.day)}日"


def _kanji_zero(day: dt.date) -> str:
    name, _, _, year = _era(day)
    y, m, d = (_kanji_positional(n) for n in (year, day.month, day.day))
    return f"{name}{y}年{m}月{d}日"


def _abbreviated(day: dt.date) -> str:
    name, _, _, year = _era(day)
    return f"{name[0]}{year}.{day.month}.{day.day}"


def _letter_lower_dash(day: dt.date) -> str:
    _, initial, _, year = _era(day)
    return f"{initial.lower()}{year}-{day.month}-{day.day}"


def _letter_slash(day: dt.date) -> str:
    _, initial, _, year = _era(day)
    return f"{initial}{year:02d}/{day.month:02d}/{day.day:02d}"


def _letter_compact(day: dt.date) -> str:
    _, initial, _, year = _era(day)
    return f"{initial}{year:02d}{day.month:02d}{day.day:02d}"


def _digit_coded(day: dt.date) -> str:
    _, _, digit, year = _era(day)
    return f"{digit}{year:02d}{day.month:02d}{day.day:02d}"


def _era_digits(day: dt.date) -> str:
    name, _, _, year = _era(day)
    return f"{name}{'元' if year == 1 else year}年{day.month}月{day.day}日"


STYLES: dict[str, Callable[[dt.date], str]] = {
    "kanji numerals": _kanji_full,
    "kanji positional": _kanji_zero,
    "era digits": _era_digits,
    "abbreviated kanji": _abbreviated,
    "letter lower dash": _letter_lower_dash,
    "letter slash": _letter_slash,
    "letter compact": _letter_compact,
    "digit coded": _digit_coded,
    "western slash": lambda d: f"{d.year}/{d.month}/{d.day}",
    "western compact": lambda d: d.strftime("%Y%m%d"),
    "western kanji": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "western kanji numerals": lambda d: (
        f"{_kanji_positional(d.year)}年{_kanji_units(d.month)}月{_kanji_units(d.day)}日"
    ),
}


def _noisy(text: str, rng: random.Random) -> str:
    """``text`` with random full-width characters and spaces, as hand-typed data has."""
    out: list[str] = []
    for ch in text:
        if rng.random() < 0.3:
            ch = ch.translate(_FULL_WIDTH)
        out.append(ch)
        if rng.random() < 0.1:
            out.append(rng.choice([" ", "\u3000", "  "]))
    return rng.choice(["", " ", "\u3000"]) + "".join(out)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_round_trips_every_day_in_legacy_styles(style: str) -> None:
    rng = random.Random(f"renkei-dates-{style}")
    formatter = STYLES[style]
    for day in _every_day(D(1868, 1, 25), D(2030, 12, 31)):
        text = _noisy(formatter(day), rng)
        assert parse_date(text) == day, (style, day)


def test_own_formatter_agrees_with_the_simulator_after_proclamation() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        day = D(1868, 10, 23) + dt.timedelta(days=rng.randrange(59_000))
        assert _era_digits(day) == format_date(day, "kanji")
        assert _digit_coded(day) == format_date(day, "numeric")
