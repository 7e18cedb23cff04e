"""Municipality codes over time (全国地方公共団体コード with periods of validity).

A code is in force from ``valid_from`` (None: since before the data begins) to ``valid_to``
(None: still in force). When a merger (合併), a town becoming a city (市制施行) or a ward
reorganisation (区再編) retires a code, the code names its *successors* — several when its area
was split (浜松市北区 went to 中央区 and 浜名区 on 2024-01-01); a rename (改称: 篠山市 →
丹波篠山市) keeps the code and records the former name. Retired codes are never reused, so a
code names one area for all time.

Two questions every standardized event asks (both pure functions of the table):

- :meth:`Municipalities.code_on` — which code was in force for this area on the event's date
  (an event of 2023-06 in 浜松市中区 keeps 221317; a code written after its retirement becomes
  its successor);
- :meth:`Municipalities.current_codes` — today's code(s) for the area, following successors
  through every later change (aggregates and lists use these).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["FormerName", "Municipalities", "Municipality"]

_MAX_CHAIN = 32  # successor chains are short; this bounds a malformed (cyclic) table


@dataclass(frozen=True, slots=True)
class FormerName:
    """A name the code had until ``valid_to`` (a rename keeps the code)."""

    name: str
    valid_to: dt.date


@dataclass(frozen=True, slots=True)
class Municipality:
    """One code with its period of validity, names and successor / predecessor codes."""

    code: str
    prefecture: str
    name: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    successors: tuple[str, ...] = ()
    predecessors: tuple[str, ...] = ()
    former_names: tuple[FormerName, ...] = ()
    change_kind: str | None = None
    sources: tuple[str, ...] = ()

    def in_force_on(self, day: dt.date) -> bool:
        """Whether the code was in force on ``day``."""
        started = self.valid_from is None or self.valid_from <= day
        return started and (self.valid_to is None or day <= self.valid_to)

    def name_on(self, day: dt.date) -> str:
        """The name the code had on ``day`` (its former name before a rename)."""
        for former in sorted(self.former_names, key=lambda f: f.valid_to):
            if day <= former.valid_to:
                return former.name
        return self.name


@dataclass(frozen=True)
class Municipalities:
    """The code table of one reference release, by code."""

    by_code: Mapping[str, Municipality] = field(default_factory=dict)

    @classmethod
    def of(cls, municipalities: Iterable[Municipality]) -> Municipalities:
        return cls({m.code: m for m in municipalities})

    def __len__(self) -> int:
        return len(self.by_code)

    def get(self, code: str) -> Municipality | None:
        return self.by_code.get(code)

    def current_codes(self, code: str, today: dt.date) -> tuple[str, ...]:
        """Today's codes for the area of ``code``: itself while in force, else its successors
        (followed through later changes), main one first. A code the table does not know is
        taken as in force (the table lists changes; an unknown code has had none)."""
        found: list[str] = []
        frontier = [code]
        for _ in range(_MAX_CHAIN):
            following: list[str] = []
            for current in frontier:
                entry = self.by_code.get(current)
                if entry is None or entry.valid_to is None or today <= entry.valid_to:
                    found.append(current)
                elif entry.successors:
                    following.extend(entry.successors)
                else:
                    found.append(current)  # retired with no successor recorded: keep it
            if not following:
                break
            frontier = following
        return tuple(dict.fromkeys(found))

    def code_on(self, code: str, day: dt.date, prefer: Iterable[str] = ()) -> str:
        """The code in force on ``day`` for the area of ``code``.

        ``code`` in force that day: itself. Retired before ``day``: its successor in force that
        day. Not yet in force on ``day`` (a new ward written for an older event): its
        predecessor in force that day. Where several fit (a split ward), the one in ``prefer``
        (the codes the address's postal code or 町域 belongs to) wins, else the main one.
        """
        preferred = set(prefer)
        entry = self.by_code.get(code)
        if entry is None or entry.in_force_on(day):
            return code
        step = "successors" if entry.valid_to is not None and day > entry.valid_to else "back"
        frontier = [code]
        for _ in range(_MAX_CHAIN):
            following: list[str] = []
            for current in frontier:
                item = self.by_code.get(current)
                if item is None:
                    continue
                following.extend(item.successors if step == "successors" else item.predecessors)
            if not following:
                return code
            fitting = [c for c in following if (m := self.by_code.get(c)) and m.in_force_on(day)]
            if fitting:
                chosen = [c for c in fitting if c in preferred] or fitting
                return chosen[0]
            frontier = following
        return code
