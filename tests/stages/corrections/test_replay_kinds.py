"""Replay equivalence per kind of correction (docs/corrections.md, "Kinds of correction"):
a corrected move-out date, a corrected move-in date after a later 転居, a re-dated move-in of a
child-rearing household, and a correction that moves valid time back before days already
emitted. Each kind runs twice — the history as filed (error, later correction) and the clean
history (filed right) — and the compacted outputs are compared as in ``test_replay.py``.

A day retracted to zero keeps a record with zero counts (suppressed, so it reads like a small
count): the comparison drops such days from the corrected run after checking that the region
really holds zero moves for them, and that the clean run has no record for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from renkei.stages.region.flow import DAILY_TOPIC
from renkei.stages.region.state import RegionAggregate
from tests.stages import factories as f
from tests.stages.corrections.helpers import corrected_original, correction
from tests.stages.corrections.test_replay import ALERTS, NOT_COMPARED, REG, compacted, key, run
from tests.stages.pipeline import Platform

Event = tuple[str, dict[str, Any]]
History = list[Event]
FIXED = f.at("2026-07-01", 12)


def move_in(n: int, eff: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("hh", f.household(f"{n:010d}"))
    return f.moved_in(key(n), eff, 1, **kw)


def town() -> History:
    """Twelve residents moving into region A on 04-10 … 04-21: every kind's days have company."""
    return [(REG, move_in(n, f"2026-04-{n:02d}")) for n in range(10, 22)]


def alert() -> Event:
    return (ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))


def move_out_date() -> tuple[History, History]:
    """Resident 6 (a care-level-5 candidate) moved out on 05-12; the 転出 was filed as 05-20."""
    arrive = move_in(6, "2026-04-06")
    care = f.care(key(6), "2026-04-07", 1, "25")
    leave = f.moved_out(key(6), "2026-05-20", 2)
    fix = correction(key(6), "2026-05-12", 3, leave["event_id"], FIXED, date_corrected=True)
    head: History = [*town(), (REG, arrive), ("std.welfare.care.certifications", care)]
    filed = [*head, (REG, leave), alert(), (REG, fix)]
    clean = [*head, (REG, corrected_original(leave, fix, date_corrected=True)), alert()]
    return filed, clean


def move_in_date_after_move_within() -> tuple[History, History]:
    """Resident 7 moved into A on 04-07 (filed as 04-15), then moved within the municipality
    to B on 05-01; the 転入 date is corrected after the 転居."""
    arrive = move_in(7, "2026-04-15")
    within = f.moved_within(key(7), "2026-05-01", 2, where=f.ADDRESS_B, hh=f.household("7"))
    fix = correction(key(7), "2026-04-07", 3, arrive["event_id"], FIXED, date_corrected=True)
    filed = [*town(), (REG, arrive), (REG, within), alert(), (REG, fix)]
    clean = [
        *town(),
        (REG, corrected_original(arrive, fix, date_corrected=True)),
        (REG, within),
        alert(),
    ]
    return filed, clean


def child_household_dates() -> tuple[History, History]:
    """A parent (8) and child (9, aged 6) of one household moved in on 04-18, filed as 04-20:
    the household's child-rearing move-in moves with them."""
    household = "0000000808"
    parent = move_in(8, "2026-04-20", hh=f.household(household))
    child = move_in(
        9, "2026-04-20", who=f.person(birth="2020-01-01"), hh=f.household(household, False)
    )
    fixes = [
        correction(key(n), "2026-04-18", 2, e["event_id"], FIXED, date_corrected=True)
        for n, e in ((8, parent), (9, child))
    ]
    filed = [*town(), (REG, parent), (REG, child), alert(), *[(REG, x) for x in fixes]]
    clean = [
        *town(),
        *[
            (REG, corrected_original(e, x, date_corrected=True))
            for e, x in zip((parent, child), fixes, strict=True)
        ],
        alert(),
    ]
    return filed, clean


def date_moved_back() -> tuple[History, History]:
    """The latest move the region had seen (resident 30 on 06-25) really happened on 04-12:
    valid time moves back before days already emitted, and ``as_of`` with it."""
    arrive = move_in(30, "2026-06-25")
    fix = correction(key(30), "2026-04-12", 2, arrive["event_id"], FIXED, date_corrected=True)
    filed = [*town(), (REG, arrive), alert(), (REG, fix)]
    clean = [*town(), (REG, corrected_original(arrive, fix, date_corrected=True)), alert()]
    return filed, clean


KINDS: dict[str, Callable[[], tuple[History, History]]] = {
    "move-out date": move_out_date,
    "move-in date after 転居": move_in_date_after_move_within,
    "child-rearing household": child_household_dates,
    "date moved back": date_moved_back,
}


def zero_days(platform: Platform, reference: Platform) -> set[str]:
    """Day keys the corrected run retracted to zero (checked against the region state) and the
    clean run never emitted."""
    clean = reference.latest(DAILY_TOPIC)
    zero = set()
    for day_key, datum in platform.latest(DAILY_TOPIC).items():
        if day_key in clean:
            continue
        agg = RegionAggregate.from_dict(platform.region.regions[datum["region_code"]])
        assert agg.moves_by_day[str(datum["day"])] == [0, 0], day_key
        assert datum["move_ins"] is None and datum["move_outs"] is None  # suppressed, as 1..k-1
        zero.add(day_key)
    return zero


@pytest.mark.parametrize("k", [1, 10])
@pytest.mark.parametrize("topic", sorted(NOT_COMPARED))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_compacts_to_the_clean_run(kind: str, topic: str, k: int) -> None:
    filed, clean = KINDS[kind]()
    corrected, reference = run(filed, k), run(clean, k)
    got = compacted(corrected, topic)
    if topic == DAILY_TOPIC:
        for day_key in zero_days(corrected, reference):
            del got[day_key]
    assert got == compacted(reference, topic)
    assert compacted(reference, topic)


def _days(platform: Platform, produced_from: int) -> dict[str, dict[str, Any]]:
    return {k: d for t, k, d in platform.log[produced_from:] if t == DAILY_TOPIC}


def _replay_to_fix(kind: str) -> tuple[Platform, int, Event]:
    """The filed history run up to (not including) its last correction; the log position and
    that correction."""
    filed, _ = KINDS[kind]()
    platform = run(filed[:-1], 1)
    return platform, len(platform.log), filed[-1]


def test_a_corrected_move_out_date_re_emits_both_days_and_keeps_the_totals() -> None:
    platform, mark, fix = _replay_to_fix("move-out date")
    totals = platform.latest("unified.region")[f.REGION_A]["move_outs_total"]
    platform.feed(*fix)
    days = _days(platform, mark)
    expected = {f"{r}:{d}" for r in (f.REGION_A, f.MUNI) for d in ("2026-05-12", "2026-05-20")}
    assert set(days) == expected
    assert days[f"{f.REGION_A}:2026-05-12"]["move_outs"] == 1
    assert days[f"{f.REGION_A}:2026-05-20"]["move_outs"] is None  # zero, kept, suppressed
    assert platform.latest("unified.region")[f.REGION_A]["move_outs_total"] == totals == 1


def test_a_move_in_re_dated_after_a_move_within_reaches_the_region_it_was_counted_in() -> None:
    platform, mark, fix = _replay_to_fix("move-in date after 転居")
    platform.feed(*fix)
    days = _days(platform, mark)
    assert days[f"{f.REGION_A}:2026-04-07"]["move_ins"] == 1
    assert days[f"{f.REGION_A}:2026-04-15"]["move_ins"] == 1  # resident 15 only
    assert days[f"{f.MUNI}:2026-04-07"]["move_ins"] == 1
    assert not any(k.startswith(f"{f.REGION_B}:") for k in days)  # B never counted the 転入


def test_a_re_dated_child_rearing_move_in_moves_the_household_count_once() -> None:
    platform = run(child_household_dates()[0], 1)
    region = RegionAggregate.from_dict(platform.region.regions[f.REGION_A])
    assert region.child_household_moves == (1, 0)
    marks = platform.region.regions[f"{f.REGION_A}|household|0000000808"]["marks"]
    assert set(marks) == {"in:2026-04-18"}  # 04-20 released by both, 04-18 taken


def test_as_of_moves_back_with_the_latest_valid_date() -> None:
    platform, _, fix = _replay_to_fix("date moved back")
    assert str(platform.latest("unified.region")[f.REGION_A]["as_of"]) == "2026-06-25"
    platform.feed(*fix)
    assert str(platform.latest("unified.region")[f.REGION_A]["as_of"]) == "2026-04-21"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_leaves_the_raw_region_figures_of_a_clean_run(kind: str) -> None:
    """Below the suppression: the unsuppressed per-day counts, running totals and child-rearing
    household moves of every region equal the clean run's (zero days aside)."""
    filed, clean = KINDS[kind]()
    corrected, reference = run(filed, 1), run(clean, 1)

    def raw(platform: Platform) -> dict[str, tuple[Any, ...]]:
        out = {}
        for region_key, value in platform.region.regions.items():
            if "|" in region_key:
                continue
            agg = RegionAggregate.from_dict(value)
            days = {d: c for d, c in agg.moves_by_day.items() if any(c)}
            out[region_key] = (days, agg.move_totals, agg.child_household_moves, agg.as_of)
        return out

    assert raw(corrected) == raw(reference)
