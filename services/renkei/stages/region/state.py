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
- corrections and late filings (docs/corrections.md): every facts record carries the
  resident's whole migration history after corrections (``migrations``), and the routing sends
  it to every region a move of it was (or is no longer) counted in. A member entry remembers
  the moves counted for the resident (``moves``); ``migration.reconcile`` retracts those the
  facts no longer name and counts those not yet counted, so a late filing, a corrected 異動日
  of a 転入 or a 転出 and a corrected address change exactly the days a clean run would have.
  Every day whose counts changed is reported (``changed_days``) so it can be re-emitted on its
  own, keyed ``<region_code>:<day>``; running totals follow. A day retracted to zero keeps a
  record with zero (suppressed) counts;
- child-rearing household migration: a household is counted once per direction and day when
  a member moves in (or out) and the household has a child under 15 (or the member is one);
  net = in − out. The household's marks name the residents holding them, so a retracted or
  re-dated move releases its mark (``migration.py``);
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
from renkei.stages.region.migration import Marks, desired_moves, new_tally, reconcile

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
    member_dates: dict[str, int] = field(default_factory=dict)
    """as-of date → how many current members' facts hold from it (for :func:`region_as_of`)."""
    indicators_as_of: str | None = None
    """The latest effective date of the indicators held."""

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


def region_as_of(agg: RegionAggregate) -> str | None:
    """The latest valid date the region's figures reflect: its current members' as-of dates,
    the days with moves counted and its indicators. A state function, so a correction that
    moves valid time back moves it back too (an aggregate with nothing of these keeps the
    ``as_of`` it had)."""
    dates = [d for d, n in agg.member_dates.items() if n > 0]
    dates += [d for d, counts in agg.moves_by_day.items() if any(counts)]
    dates += [agg.indicators_as_of] if agg.indicators_as_of else []
    return max(dates) if dates else agg.as_of


def _member_dates(dates: dict[str, int], before: str | None, after: str | None) -> dict[str, int]:
    merged = Counter(dates)
    if before:
        merged[before] -= 1
    if after:
        merged[after] += 1
    return {d: n for d, n in merged.items() if n > 0}


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
    household_marks: dict[str, Marks] = field(default_factory=dict)
    """New child-rearing migration marks of the households whose marks changed."""


def _prune(days: dict[str, list[int]]) -> dict[str, list[int]]:
    if not days:
        return days
    horizon = (dt.date.fromisoformat(max(days)) - dt.timedelta(days=KEEP_DAYS)).isoformat()
    return {k: v for k, v in days.items() if k >= horizon}


def apply_member(
    agg: RegionAggregate,
    stored: dict[str, Any] | None,
    message: dict[str, Any],
    household_marks: dict[str, Marks],
) -> MemberChange | None:
    """Apply one routed facts message (``routing.route_facts``); None when it is stale.

    ``stored`` is the member entry the region holds for this resident, ``household_marks`` the
    migration marks of the households :func:`migration.households_of` names.
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
    counted, desired = desired_moves(agg.region_code, stored, was_member, member, facts)
    tally = new_tally(agg.moves_by_day, agg.move_totals, agg.child_household_moves, household_marks)
    moves = reconcile(tally, counted, desired, facts, str(message["resident_key"]))
    member_as_of = str(facts.get("as_of") or effective) if member else None
    agg = dataclasses.replace(
        agg,
        counters=_add(agg.counters, delta),
        municipality_code=agg.municipality_code or facts.get("municipality_code"),
        day=tally.touched[-1] if tally.touched else effective,
        moves_by_day=_prune(tally.days),
        move_totals=(tally.totals[0], tally.totals[1]),
        child_household_moves=(tally.child[0], tally.child[1]),
        member_dates=_member_dates(agg.member_dates, (stored or {}).get("as_of"), member_as_of),
    )
    agg = dataclasses.replace(agg, as_of=region_as_of(agg))
    entry = {"rev": int(message["rev"]), "summary": summary, "moves": moves, "as_of": member_as_of}
    marks = {h: tally.marks[h] for h in sorted(tally.changed_marks)}
    return MemberChange(agg, entry, marks)
