"""Migration counts of a region (転入・転出), reconciled with what the facts say happened.

The resident stage sends, with every facts record, the resident's whole migration history
after corrections (``migrations``: each 転入 and 転出 with its corrected 異動日 and region).
A region keeps, in the resident's member entry, the moves it counted for that resident
(``moves``: direction, day, and the household whose child-rearing mark it took). Each message
compares the two: a move the facts no longer name is retracted from its day, a move they name
that was not counted is counted on its day. So a late filing, a corrected 異動日 (of a 転入 or a
転出, however long ago and wherever the resident lives now) and a corrected address all come
out as exactly the day changes a clean run would have made (docs/corrections.md).

Child-rearing household migration (子育て世帯の転入・転出): a household is counted once per
direction and day; the household's marks remember which residents hold each mark, so a
retracted move releases its mark and the count drops only when nobody holds it. A re-dated
move keeps whether it was counted as child-rearing (the decision made when it was first
counted), so re-dating never depends on how old the children are today.

Facts from a writer without ``migrations`` (null) keep the rules used before it: a 転入 counted
when a resident joins with event ``moved_in``, moved when ``moved_in_on`` is corrected, a
転出 counted when a resident leaves with ``moved_out``, a 転入 retracted when a correction takes
the resident away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from renkei.shared.values import municipality_of

Move = tuple[int, str]
"""(direction 0 = in / 1 = out, day)."""

DIRECTIONS = {"in": 0, "out": 1}


def move_targets(region_code: str) -> list[str]:
    """The region keys a move in ``region_code`` counts in: its 町域 and its municipality."""
    municipality = municipality_of(region_code)
    return [region_code] if municipality == region_code else [region_code, municipality]


def migration_history(facts: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """{region key: [[direction, day], ...]} of the facts' migrations (for routing)."""
    history: dict[str, list[list[Any]]] = {}
    for move in facts.get("migrations") or []:
        for target in move_targets(str(move["region_code"])):
            history.setdefault(target, []).append([move["direction"], str(move["day"])])
    return history


def _own_move(facts: dict[str, Any], move: Move) -> bool:
    """Whether ``move`` is the one the facts' own event reports (today's 転入 or 転出)."""
    kind = {"moved_in": 0, "moved_out": 1}.get(str(facts.get("event_type")))
    return kind is not None and move == (kind, str(facts["effective_date"]))


def _legacy_desired(
    counted: list[Move], was_member: bool, member: bool, facts: dict[str, Any]
) -> list[Move]:
    """The moves to count when the facts carry no ``migrations`` (the earlier rules)."""
    moves = list(counted)
    ins = [m for m in moves if m[0] == 0]
    event_type, moved_in_on = facts.get("event_type"), facts.get("moved_in_on")
    effective = str(facts["effective_date"])
    if member and not was_member:
        if event_type == "moved_in" or (event_type == "corrected" and moved_in_on):
            moves.append((0, str(moved_in_on or effective)))
    elif member and ins and moved_in_on and str(moved_in_on) != ins[-1][1]:
        moves.remove(ins[-1])
        moves.append((0, str(moved_in_on)))
    elif not member and was_member and event_type == "moved_out":
        moves.append((1, effective))
    elif not member and was_member and event_type == "corrected" and ins:
        moves.remove(ins[-1])
    return moves


def desired_moves(
    target: str,
    stored: dict[str, Any] | None,
    was_member: bool,
    member: bool,
    facts: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[Move]]:
    """(the moves counted for this resident here, the moves that should be)."""
    migrations = facts.get("migrations")
    desired: list[Move] | None = None
    if migrations is not None:
        desired = [
            (DIRECTIONS[str(m["direction"])], str(m["day"]))
            for m in migrations
            if target in move_targets(str(m["region_code"]))
        ]
    if stored is not None and "moves" not in stored:
        # an entry written before moves were kept: what it counted is taken from the facts
        # (all but the facts' own new move) and from the day it remembered its 転入 on
        in_day = stored.get("in_day") if was_member else None
        base = [m for m in (desired or []) if not _own_move(facts, m)]
        if in_day:
            base = [(0, str(in_day)), *[m for m in base if m[0] == 1]]
        counted: list[dict[str, Any]] = [{"d": d, "day": day, "hh": None} for d, day in base]
    else:
        counted = list((stored or {}).get("moves") or [])
    if desired is None:
        held = [(int(m["d"]), str(m["day"])) for m in counted]
        desired = _legacy_desired(held, was_member, member, facts)
    return counted, desired


Marks = dict[str, list[str]]
"""A household's child-rearing migration marks: mark (``in:<day>``) → resident keys holding it."""


def load_marks(value: dict[str, Any] | None) -> Marks:
    """The marks stored under a household key (an older list form: held by nobody known)."""
    marks = (value or {}).get("marks") or {}
    if isinstance(marks, list):
        return {str(m): ["?"] for m in marks}
    return {str(m): list(keys) for m, keys in marks.items()}


@dataclass
class Tally:
    """What reconciling one resident's moves does to a region (mutable while it runs)."""

    days: dict[str, list[int]]
    totals: list[int]
    child: list[int]
    marks: dict[str, Marks]
    """household number → its marks (every household read or written)."""
    changed_marks: set[str]
    touched: list[str]

    def count(self, move: Move, step: int) -> None:
        direction, day = move
        if step > 0 or day in self.days:
            counts = self.days.setdefault(day, [0, 0])
            counts[direction] = max(counts[direction] + step, 0)
        self.totals[direction] = max(self.totals[direction] + step, 0)
        self.touched.append(day)

    def mark(self, household: str, move: Move, resident: str, take: bool) -> None:
        marks = self.marks.setdefault(household, {})
        name = f"{'in' if move[0] == 0 else 'out'}:{move[1]}"
        holders = [k for k in marks.get(name, []) if k != resident]
        if take:
            if not holders and name not in marks:
                self.child[move[0]] += 1
            holders.append(resident)
        elif name in marks and not holders:
            self.child[move[0]] = max(self.child[move[0]] - 1, 0)
        if holders:
            marks[name] = holders
        else:
            marks.pop(name, None)
        self.changed_marks.add(household)


def child_rearing(facts: dict[str, Any]) -> bool:
    """Whether the resident's household has a child under 15 (or the resident is one)."""
    age = facts.get("age")
    return bool(facts.get("has_child_under_15")) or (age is not None and age < 15)


def reconcile(
    tally: Tally,
    counted: list[dict[str, Any]],
    desired: list[Move],
    facts: dict[str, Any],
    resident: str,
) -> list[dict[str, Any]]:
    """Retract the counted moves not desired, count the desired moves not counted; the moves
    now counted (for the member entry)."""
    remaining = list(desired)
    kept: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for entry in counted:
        move = (int(entry["d"]), str(entry["day"]))
        if move in remaining:
            remaining.remove(move)
            kept.append(entry)
        else:
            dropped.append(entry)
    for entry in dropped:
        move = (int(entry["d"]), str(entry["day"]))
        tally.count(move, -1)
        if entry.get("hh"):
            tally.mark(str(entry["hh"]), move, resident, take=False)
    household = str(facts.get("household_number") or "") or None
    for move in remaining:
        # a re-dated move keeps the household and child-rearing decision it was counted with
        same = next((e for e in dropped if int(e["d"]) == move[0]), None)
        if same is not None:
            dropped.remove(same)
            hh = same.get("hh")
        else:
            hh = household if child_rearing(facts) else None
        tally.count(move, +1)
        if hh:
            tally.mark(str(hh), move, resident, take=True)
        kept.append({"d": move[0], "day": move[1], "hh": hh})
    return sorted(kept, key=lambda e: (e["day"], e["d"]))


def households_of(facts: dict[str, Any], stored: dict[str, Any] | None) -> list[str]:
    """The households whose marks a message may change: the facts' and those of counted moves."""
    named = [str(facts.get("household_number") or "")]
    named += [str(m["hh"]) for m in (stored or {}).get("moves") or [] if m.get("hh")]
    return [h for h in dict.fromkeys(named) if h]


def new_tally(
    days: dict[str, list[int]],
    totals: tuple[int, int],
    child: tuple[int, int],
    marks: dict[str, Marks],
) -> Tally:
    """A tally over copies of a region's move figures."""
    return Tally(
        days={k: list(v) for k, v in days.items()},
        totals=list(totals),
        child=list(child),
        marks={h: dict(m) for h, m in marks.items()},
        changed_marks=set(),
        touched=[],
    )
