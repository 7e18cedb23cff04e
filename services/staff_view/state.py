"""The view's state, folded from the two topics: pure, no Kafka, no web.

- ``unified.region``: the latest record per region key;
- ``derived.evacuation-support``: the current list per ``<alert_id>:<region_code>``; a list
  with status ``lifted`` (or a tombstone) removes it, so an alert is active while at least one
  of its region lists is.

Both topics carry a per-key ``sequence`` that the producing stage increases strictly; a record
whose sequence is not above the last one seen for its key is ignored (a redelivery or a replay
of older history), and that memory outlives a removal, so a replayed old "active" record
cannot bring back a lifted list.

Protected residents (支援措置 / 抑止): the stage already sends their address as null with
``address_withheld`` true. Defence in depth: the address is dropped here again on arrival
whenever ``address_withheld`` is set, so it is never stored, served or rendered.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

REGION_TOPIC = "unified.region"
EVACUATION_TOPIC = "derived.evacuation-support"


@dataclass
class LatestByKey:
    """The latest record per key, ordered by the records' own per-key ``sequence``."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)
    applied: int = 0
    ignored: int = 0

    def accept(self, key: str, value: dict[str, Any] | None) -> bool:
        """Whether ``value`` is newer than what was seen for ``key`` (and remember it).

        A tombstone (None) always counts: compaction removed the key's history."""
        if value is None:
            return True
        sequence = int(value["sequence"])
        if sequence <= self.sequences.get(key, -1):
            self.ignored += 1
            return False
        self.sequences[key] = sequence
        self.applied += 1
        return True


@dataclass
class RegionBoard(LatestByKey):
    """``unified.region``: latest figures per region code."""

    def apply(self, key: str, value: dict[str, Any] | None) -> bool:
        """Fold one record (JSON form; None = tombstone). True if the state changed."""
        if not self.accept(key, value):
            return False
        if value is None:
            return self.records.pop(key, None) is not None
        self.records[key] = value
        return True


@dataclass
class ListBoard(LatestByKey):
    """``derived.evacuation-support``: active lists per list key."""

    def apply(self, key: str, value: dict[str, Any] | None) -> bool:
        """Fold one record (JSON form; None = tombstone). True if the state changed."""
        if not self.accept(key, value):
            return False
        if value is None or value["status"] != "active":
            return self.records.pop(key, None) is not None
        self.records[key] = withhold_protected_addresses(value)
        return True

    def alerts(self) -> dict[str, list[dict[str, Any]]]:
        """Active lists grouped by alert id."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for item in self.records.values():
            grouped.setdefault(str(item["alert_id"]), []).append(item)
        return grouped

    def withheld_households(self) -> set[str]:
        """Household numbers of every person whose address is withheld, across active lists.

        Family at the same address share the 支援措置 in practice; a household member's
        address would show the protected person's, so the page hides it too."""
        return {
            str(person["household_number"])
            for item in self.records.values()
            for person in item.get("persons", [])
            if person.get("address_withheld")
        }


def withhold_protected_addresses(value: dict[str, Any]) -> dict[str, Any]:
    """A copy of a list record in which no person flagged ``address_withheld`` has an address."""
    cleaned = copy.deepcopy(value)
    for person in cleaned.get("persons", []):
        if person.get("address_withheld"):
            person["address"] = None
    return cleaned


@dataclass
class ViewState:
    """Everything the page shows, as folded so far."""

    regions: RegionBoard = field(default_factory=RegionBoard)
    lists: ListBoard = field(default_factory=ListBoard)

    def apply(self, topic: str, key: str | None, value: dict[str, Any] | None) -> bool:
        """Fold one record of ``topic`` (a contract topic name). True if the state changed."""
        board: RegionBoard | ListBoard = self.regions if topic == REGION_TOPIC else self.lists
        if key is None:
            key = str((value or {}).get("region_code" if board is self.regions else "list_key"))
        return board.apply(key, value)
