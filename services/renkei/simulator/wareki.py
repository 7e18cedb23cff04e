"""Dates as legacy registry systems write them: 和暦 (Japanese era) forms besides ISO.

Forms: ``iso`` "1980-04-01", ``kanji`` "昭和55年4月1日" (元年 for year 1), ``initial``
"S55.04.01", ``numeric`` "3550401" (era digit 1 明治 … 5 令和 + YYMMDD, as many 住記 systems
store it).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

DateStyle = Literal["iso", "kanji", "initial", "numeric"]

# (first day, name, initial, era digit)
_ERAS = (
    (dt.date(2019, 5, 1), "令和", "R", 5),
    (dt.date(1989, 1, 8), "平成", "H", 4),
    (dt.date(1926, 12, 25), "昭和", "S", 3),
    (dt.date(1912, 7, 30), "大正", "T", 2),
    (dt.date(1868, 10, 23), "明治", "M", 1),
)


def _era(day: dt.date) -> tuple[str, str, int, int]:
    """(name, initial, era digit, era year) of ``day``."""
    for start, name, initial, digit in _ERAS:
        if day >= start:
            return name, initial, digit, day.year - start.year + 1
    raise ValueError("dates before 明治 are not supported")


def format_date(day: dt.date, style: DateStyle) -> str:
    """``day`` written in ``style`` (see the module docstring)."""
    if style == "iso":
        return day.isoformat()
    name, initial, digit, year = _era(day)
    if style == "kanji":
        year_text = "元" if year == 1 else str(year)
        return f"{name}{year_text}年{day.month}月{day.day}日"
    if style == "initial":
        return f"{initial}{year:02d}.{day.month:02d}.{day.day:02d}"
    return f"{digit}{year:02d}{day.month:02d}{day.day:02d}"
