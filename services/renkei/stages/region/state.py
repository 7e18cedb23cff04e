"""Region aggregates of the region stage (地域集計), maintained incrementally.

Keys ("targets"): each residing resident counts in its 町域 region (``011011:0640941``) and in
its municipality or ward (``011011``); both get a ``unified.region`` record.

Storage, chosen so that one change writes little: per target one ``RegionAggregate`` of
counters (a few hundred bytes), per (target, resident) a member entry holding the summary that
was added (so it can be subtracted when the resident changes or leaves, and its revision for
idempotency), per (target, household) the child-rearing migration marks. All live in the
partition of the target key (faust writes a table key's changelog to the current event's
partition).

Counting rules:
- population, age bands, households (= residing heads of household), households with a child
  under 15, candidates, checkup figures: from the summaries of the current members;
- move-ins / move-outs: facts whose ``event_type`` is moved_in (転入, domestic or from abroad)
  arriving in a target, or moved_out (転出) leaving it, on the facts' effective date
  (転居 within the municipality, births and deaths are not migration). Per day and running
  totals; days more than ``KEEP_DAYS`` before the latest are dropped from the per-day map;
- corrections and late filings (docs/corrections.md): a member entry remembers the day its
  move-in was counted (``in_day``). When the facts say the move-in happened on another day
  (``moved_in_on`` changed by a correction of the 異動日), the count moves from the old day to
  the new one; when a correction takes the resident out of the region (the address was wrong),
  the move-in counted there is retracted, and the region it is corrected to counts it on its
  day. Every day whose counts changed is reported (``changed_days``) so it can be re-emitted
  on its own, keyed ``<region_code>:<day>``; running totals follow;
- child-rearing household migration: a household is counted once per direction and effective
  date when a member moves in (or out) and the household has a child under 15 (or the member is
  one); net = in − out;
- checkup participation = residents aged 40–74 examined in the region's latest checkup fiscal
  year ÷ residents aged 40–74; metabolic syndrome rate = ``meets`` ÷ judged (meets, borderline,
  none) among those examined in that year.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# The suppression rule lives in privacy/protection.py; re-exported for existing importers.
from renkei.privacy.protection import COUNT_FIELDS as COUNT_FIELDS
from renkei.privacy.protection import K_THRESHOLD as K_THRESHOLD
from renkei.privacy.protection import RATE_FIELDS as RATE_FIELDS
from renkei.privacy.protection import suppress_small_cells as suppress_small_cells
from renkei.shared.values import municipality_of

KEEP_DAYS = 400
BANDS_5Y = (*(f"{lo}-{lo + 4}" for lo in range(0, 90, 5)), "90+")


def region_targets(facts: dict[str, Any]) -> list[str]:
    """The region keys a resident counts in: its 町域 and its municipality, while residing."""
    if facts.get("status") != "residing" or not facts.get("region_code"):
        return []
    region = str(facts["region_code"])
    municipality = municipality_of(region)
    return [region] if municipality == region else [region, municipality]


def band_5y(age: int) -> str:
    return "90+" if age >= 90 else BANDS_5Y[age // 5]


def band_3(age: int) -> str:
    if age < 15:
        return "age_0_14"
    if age < 65:
        return "age_15_64"
    return "age_65_74" if age < 75 else "age_75_plus"


def member_summary(facts: dict[str, Any]) -> dict[str, Any]:
    """What a region keeps of one resident's facts (no name, no address)."""
    checkup = facts.get("checkup") or {}
    return {
        "age": facts.get("age"),
        "head": bool(facts.get("is_head")),
        "child_household": bool(facts.get("has_child_under_15")),
        "candidate": bool(facts.get("candidate")),
        "checkup_fy": checkup.get("participated_fiscal_year"),
        "metabolic": checkup.get("metabolic_syndrome"),
    }


def contributions(summary: dict[str, Any] | None) -> Counter[str]:
    """The counters one member adds to its region."""
    counts: Counter[str] = Counter()
    if summary is None:
        return counts
    counts["population"] += 1
    age = summary.get("age")
    if age is not None:
        counts[f"band:{band_5y(age)}"] += 1
        counts[band_3(age)] += 1
    eligible = age is not None and 40 <= age <= 74
    counts["eligible_40_74"] += int(eligible)
    counts["households"] += int(summary["head"])
    counts["households_with_children_under_15"] += int(
        summary["head"] and summary["child_household"]
    )
    counts["candidates"] += int(summary["candidate"])
    year = summary.get("checkup_fy")
    if year is not None:
        counts[f"checkup:{year}:participants"] += 1
        counts[f"checkup:{year}:participants_40_74"] += int(eligible)
        judged = summary.get("metabolic") in ("meets", "borderline", "none")
        counts[f"checkup:{year}:judged"] += int(judged)
        counts[f"checkup:{year}:meets"] += int(summary.get("metabolic") == "meets")
    return counts


@dataclass(frozen=True)
class RegionAggregate:
    """Counters of one region key (JSON-serializable)."""

    region_code: str
    municipality_code: str | None = None
    counters: dict[str, int] = field(default_factory=dict)
    moves_by_day: dict[str, list[int]] = field(default_factory=dict)
    move_totals: tuple[int, int] = (0, 0)
    child_household_moves: tuple[int, int] = (0, 0)
    indicators: dict[str, dict[str, Any]] = field(default_factory=dict)
    as_of: str | None = None
    day: str | None = None
    revision: int = 0
    digest: str | None = None
    day_revisions: dict[str, int] = field(default_factory=dict)
    """day → revision of the last per-day record emitted for it."""

    def to_dict(self) -> dict[str, Any]:
        """Shallow: the state is never mutated in place, so sharing is safe (and cheap)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["move_totals"] = list(self.move_totals)
        data["child_household_moves"] = list(self.child_household_moves)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegionAggregate:
        values = dict(data)
        values["move_totals"] = tuple(values.get("move_totals") or (0, 0))
        values["child_household_moves"] = tuple(values.get("child_household_moves") or (0, 0))
        return cls(**values)


def _add(counters: dict[str, int], delta: Counter[str]) -> dict[str, int]:
    merged = Counter(counters)
    merged.update(delta)
    return {k: v for k, v in merged.items() if v != 0}


def later_date(current: str | None, candidate: str) -> str:
    return candidate if current is None or candidate > current else current


def _count_move(agg: RegionAggregate, day: str, direction: int, step: int = 1) -> RegionAggregate:
    """One move-in (direction 0) or move-out (1) on ``day`` (``step`` -1: retract one); old
    days are pruned. A retraction on a day already pruned changes the running total only."""
    days = {k: list(v) for k, v in agg.moves_by_day.items()}
    if step > 0 or day in days:
        counts = days.setdefault(day, [0, 0])
        counts[direction] = max(counts[direction] + step, 0)
    if days:
        latest = max(days)
        horizon = (dt.date.fromisoformat(latest) - dt.timedelta(days=KEEP_DAYS)).isoformat()
        days = {k: v for k, v in days.items() if k >= horizon}
    totals = list(agg.move_totals)
    totals[direction] = max(totals[direction] + step, 0)
    return dataclasses.replace(agg, moves_by_day=days, move_totals=(totals[0], totals[1]))


def changed_days(before: RegionAggregate, after: RegionAggregate) -> list[str]:
    """The days whose move counts differ between two states of a region (sorted)."""
    days = set(before.moves_by_day) | set(after.moves_by_day)
    return sorted(
        d
        for d in days
        if d in after.moves_by_day
        and before.moves_by_day.get(d, [0, 0]) != after.moves_by_day.get(d, [0, 0])
    )


@dataclass(frozen=True)
class MemberChange:
    """The result of applying one routed facts message to a region."""

    aggregate: RegionAggregate
    member: dict[str, Any]
    household_marks: list[str] | None = None
    """New child-rearing migration marks of the member's household (None: unchanged)."""


def _migration(
    agg: RegionAggregate, facts: dict[str, Any], marks: list[str], direction: int, day: str
) -> tuple[RegionAggregate, list[str] | None]:
    agg = _count_move(agg, day, direction)
    age = facts.get("age")
    child_rearing = bool(facts.get("has_child_under_15")) or (age is not None and age < 15)
    mark = f"{'in' if direction == 0 else 'out'}:{day}"
    if not child_rearing or mark in marks:
        return agg, None
    moves = list(agg.child_household_moves)
    moves[direction] += 1
    return dataclasses.replace(agg, child_household_moves=(moves[0], moves[1])), [*marks, mark]


def apply_member(
    agg: RegionAggregate,
    stored: dict[str, Any] | None,
    message: dict[str, Any],
    household_marks: list[str],
) -> MemberChange | None:
    """Apply one routed facts message (``routing.route_facts``); None when it is stale.

    ``stored`` is the member entry the region holds for this resident, ``household_marks`` the
    migration marks of the household named in the facts.
    """
    if stored is not None and int(message["rev"]) <= int(stored["rev"]):
        return None
    facts = message["facts"]
    was_member = bool(stored and stored.get("summary") is not None)
    member = bool(message["member"])
    summary = member_summary(facts) if member else None
    delta = contributions(summary)
    delta.subtract(contributions(stored.get("summary") if stored else None))
    effective = str(facts["effective_date"])
    agg = dataclasses.replace(
        agg,
        counters=_add(agg.counters, delta),
        municipality_code=agg.municipality_code or facts.get("municipality_code"),
        as_of=later_date(agg.as_of, effective),
        day=effective,
    )
    event_type = facts.get("event_type")
    moved_in_on = facts.get("moved_in_on")
    in_day: str | None = (stored or {}).get("in_day") if was_member else None
    marks = None
    if (
        member
        and not was_member
        and (event_type == "moved_in" or (event_type == "corrected" and moved_in_on))
    ):
        # a 転入 (or a correction that puts the 転入 here): counted on its 異動日
        in_day = str(moved_in_on or effective)
        agg, marks = _migration(agg, facts, household_marks, 0, in_day)
        agg = dataclasses.replace(agg, day=in_day)
    elif member and in_day and moved_in_on and str(moved_in_on) != in_day:
        # the 異動日 of the 転入 was corrected: the count moves to the corrected day
        agg = _count_move(agg, in_day, 0, -1)
        in_day = str(moved_in_on)
        agg = dataclasses.replace(_count_move(agg, in_day, 0), day=in_day)
    elif not member and was_member and event_type == "moved_out":
        agg, marks = _migration(agg, facts, household_marks, 1, effective)
        in_day = None
    elif not member and was_member and event_type == "corrected" and in_day:
        # corrected away (the address was wrong): the 転入 counted here never happened here
        agg = dataclasses.replace(_count_move(agg, in_day, 0, -1), day=in_day)
        in_day = None
    entry = {"rev": int(message["rev"]), "summary": summary, "in_day": in_day if member else None}
    return MemberChange(agg, entry, marks)
