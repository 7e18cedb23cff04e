"""Dates as legacy department systems write them: 和暦 (wareki, Japanese era dates) and 西暦
(seireki, Western / Gregorian dates), parsed into :class:`datetime.date`.

Accepted forms (spaces anywhere, full-width digits and letters, 漢数字 kanji numerals):

- 西暦: ``2026-04-01``, ``2026/4/1``, ``2026.4.1``, ``20260401``, ``2026年4月1日``
  (an optional leading ``西暦``).
- 和暦 with the era as a name (明治 大正 昭和 平成 令和), an abbreviated kanji (明 大 昭 平 令),
  a letter (M T S H R, either case, optionally followed by a dot) or one of the squared era
  characters (㍾ ㍽ ㍼ ㍻ ㋿); the year as digits or 元 (gan, "first": 元年 = year 1); then
  ``年月日`` or one separator (``.`` ``/`` ``-``) used twice: ``昭和55年4月1日``,
  ``昭和五十五年四月一日``, ``S55.04.01``, ``s55-4-1``, ``H元.5.1``. A letter or name followed
  by exactly six digits (``S550401``) is read as YYMMDD.
- Digit-coded era, as many 住記 (resident registry) systems store dates: seven digits, the era
  digit (1 明治, 2 大正, 3 昭和, 4 平成, 5 令和) then YYMMDD: ``3550401``.

Era rules: an era's year 1 is the Western year of its first day, and a date is accepted only
between the era's first day and the day before the next era began. 明治 is counted from the
start of 慶応4 (1868-01-25), as the era was proclaimed retroactively, so 明治元年 dates are accepted
from 1868-01-25. Dates before 1873 were lunisolar in reality; like every legacy system (and
the simulator) this module reads month and day as Gregorian.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from renkei.normalize.errors import StandardizationError

FIELD: Final = "date"


@dataclass(frozen=True)
class Era:
    """One Japanese era: its name, letter, digit code and the dates it covers."""

    name: str
    initial: str
    digit: int
    first_day: dt.date
    next_first_day: dt.date | None  # None: the current era

    @property
    def last_year(self) -> int | None:
        """The last era year that exists (明治45, 大正15 …); None for the current era."""
        if self.next_first_day is None:
            return None
        return self.next_first_day.year - self.first_day.year + 1


ERAS: Final[tuple[Era, ...]] = (
    Era("明治", "M", 1, dt.date(1868, 1, 25), dt.date(1912, 7, 30)),
    Era("大正", "T", 2, dt.date(1912, 7, 30), dt.date(1926, 12, 25)),
    Era("昭和", "S", 3, dt.date(1926, 12, 25), dt.date(1989, 1, 8)),
    Era("平成", "H", 4, dt.date(1989, 1, 8), dt.date(2019, 5, 1)),
    Era("令和", "R", 5, dt.date(2019, 5, 1), None),
)


def _era_marks() -> dict[str, Era]:
    marks: dict[str, Era] = {}
    for era in ERAS:
        for mark in (era.name, era.name[0], era.initial, era.initial.lower()):
            marks[mark] = era
    return marks


_BY_MARK: Final = _era_marks()
_BY_DIGIT: Final = {era.digit: era for era in ERAS}

_ERA_MARK = "明治|大正|昭和|平成|令和|[明大昭平令MTSHRmtshr]"
_YEAR = "元|[0-9]{1,2}"
_WESTERN_SEPARATED = re.compile(r"([0-9]{4})([./-])([0-9]{1,2})\2([0-9]{1,2})")
_WESTERN_KANJI = re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日?")
_WESTERN_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_ERA_SEPARATED = re.compile(rf"({_ERA_MARK})\.?({_YEAR})([./-])([0-9]{{1,2}})\3([0-9]{{1,2}})")
_ERA_KANJI = re.compile(rf"({_ERA_MARK})({_YEAR})年([0-9]{{1,2}})月([0-9]{{1,2}})日?")
_ERA_COMPACT = re.compile(rf"({_ERA_MARK})\.?([0-9]{{2}})([0-9]{{2}})([0-9]{{2}})")
_DIGIT_CODED = re.compile(r"([0-9])([0-9]{2})([0-9]{2})([0-9]{2})")

# Dash-like characters people type as the separator (ー the long-vowel mark among them).
_DASHES: Final = str.maketrans(dict.fromkeys("ー‐‑‒–—―−─", "-"))
_KANJI_DIGITS: Final = {
    "〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_KANJI_UNITS: Final = {"十": 10, "百": 100, "千": 1000}
_KANJI_RUN = re.compile(f"[{''.join(_KANJI_DIGITS)}{''.join(_KANJI_UNITS)}]+")


def parse_date(text: str) -> dt.date:
    """The calendar date ``text`` denotes, in any 和暦 or 西暦 form of the module docstring.

    Raises :class:`StandardizationError` (field ``date``) for empty or unrecognised text, an
    impossible calendar date, era year 0, a year past an era's end, or a date outside its era.
    """
    cleaned = _clean(text)
    if not cleaned:
        raise StandardizationError(FIELD, "empty")
    for pattern, build in _FORMS:
        match = pattern.fullmatch(cleaned)
        if match is not None:
            return build(match)
    raise StandardizationError(FIELD, "not a recognised 和暦 or 西暦 date form")


def _clean(text: str) -> str:
    """NFKC (full-width → ASCII, ㍻ → 平成), no whitespace, dashes as ``-``, kanji numerals
    as digits."""
    folded = unicodedata.normalize("NFKC", text)
    compact = "".join(folded.split()).translate(_DASHES).removeprefix("西暦")
    return _KANJI_RUN.sub(_kanji_run_to_digits, compact)


def _kanji_run_to_digits(match: re.Match[str]) -> str:
    """One run of 漢数字 as ASCII digits: positional (一〇, 二〇二六) or with units (五十五)."""
    run = match.group()
    if not any(ch in _KANJI_UNITS for ch in run):
        return "".join(str(_KANJI_DIGITS[ch]) for ch in run)
    total, pending, last_unit = 0, 0, 10_000
    for ch in run:
        unit = _KANJI_UNITS.get(ch)
        if unit is None:
            if pending:  # two digits in a row, as in 五五十
                raise StandardizationError(FIELD, "malformed kanji numeral")
            pending = _KANJI_DIGITS[ch]
            continue
        if unit >= last_unit:  # units must descend: 千 … 百 … 十
            raise StandardizationError(FIELD, "malformed kanji numeral")
        total += (pending or 1) * unit
        pending, last_unit = 0, unit
    return str(total + pending)


def _western(match: re.Match[str]) -> dt.date:
    year, month, day = (int(part) for part in match.groups())
    return _calendar_date(year, month, day)


def _western_separated(match: re.Match[str]) -> dt.date:
    year, _, month, day = match.groups()
    return _calendar_date(int(year), int(month), int(day))


def _era_named(match: re.Match[str]) -> dt.date:
    mark, year, month, day = match.groups()
    return _era_date(_BY_MARK[mark], year, int(month), int(day))


def _era_separated(match: re.Match[str]) -> dt.date:
    mark, year, _, month, day = match.groups()
    return _era_date(_BY_MARK[mark], year, int(month), int(day))


def _digit_coded(match: re.Match[str]) -> dt.date:
    digit, year, month, day = match.groups()
    era = _BY_DIGIT.get(int(digit))
    if era is None:
        raise StandardizationError(FIELD, "era digit must be 1 (明治) to 5 (令和)")
    return _era_date(era, year, int(month), int(day))


def _era_date(era: Era, year_text: str, month: int, day: int) -> dt.date:
    """The date of era year ``year_text`` (digits or 元), checked against the era's span."""
    era_year = 1 if year_text == "元" else int(year_text)
    if era_year == 0:
        raise StandardizationError(FIELD, "era year 0 does not exist (the first year is 元年)")
    last_year = era.last_year
    if last_year is not None and era_year > last_year:
        raise StandardizationError(FIELD, "era year past the end of the era")
    date = _calendar_date(era.first_day.year + era_year - 1, month, day)
    if date < era.first_day:
        raise StandardizationError(FIELD, "date before the era began")
    if era.next_first_day is not None and date >= era.next_first_day:
        raise StandardizationError(FIELD, "date after the era ended")
    return date


def _calendar_date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise StandardizationError(FIELD, "no such calendar date") from exc


_FORMS: Final[tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], dt.date]], ...]] = (
    (_WESTERN_SEPARATED, _western_separated),
    (_WESTERN_KANJI, _western),
    (_WESTERN_COMPACT, _western),
    (_ERA_SEPARATED, _era_separated),
    (_ERA_KANJI, _era_named),
    (_ERA_COMPACT, _era_named),
    (_DIGIT_CODED, _digit_coded),
)
