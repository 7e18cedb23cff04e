"""Replay equivalence: the outputs after corrections and late filings, compacted to the latest
record per key, equal the outputs of a clean run over the corrected history — for
unified.resident, internal.resident.facts, unified.region, the per-day move figures and the
evacuation lists (docs/corrections.md says which fields are compared and why)."""

from __future__ import annotations

from typing import Any

import pytest

from renkei.shared.values import ENVELOPE
from renkei.stages.region.flow import DAILY_TOPIC
from tests.stages import factories as f
from tests.stages.corrections.helpers import corrected_original, correction
from tests.stages.pipeline import Platform, RegionSim

REG = "std.registry.resident.events"
CARE = "std.welfare.care.certifications"
ALERTS = "std.disaster.area.alerts"
LISTS = "derived.evacuation-support"

TODAY = ("day", "move_ins_today", "move_outs_today")
NOT_COMPARED = {
    # the envelope names the input that caused the record and the record's own revision: a
    # run with corrections has more inputs, so more revisions, by design
    "unified.resident": {*ENVELOPE, "recorded_through"},
    "internal.resident.facts": {*ENVELOPE, "event_type"},
    # ``day`` and its ``move_*_today`` are the day the last message touched (the per-day
    # records are the per-day state); ``as_of`` the latest effective date ever seen (it is not
    # moved back when a correction moves a date back)
    "unified.region": {*ENVELOPE, *TODAY},
    DAILY_TOPIC: {*ENVELOPE},
    LISTS: {*ENVELOPE, "correction", "updated_at"},
}


def key(n: int) -> str:
    return f"{n:015d}"


def move_in(n: int, eff: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("hh", f.household(f"{n:010d}"))
    return f.moved_in(key(n), eff, 1, **kw)


def histories() -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]:
    """(history as filed, with errors corrected later and a late filing; clean history)."""
    town = [move_in(n, f"2026-04-{n:02d}") for n in range(10, 22)]
    wrong_date = move_in(1, "2026-04-10")
    wrong_address = move_in(2, "2026-04-03")
    wrong_birth = move_in(3, "2026-04-03", who=f.person(birth="1951-08-01"))
    cares = [f.care(key(n), "2026-05-01", 1, "25") for n in (2, 5)]
    late = move_in(4, "2026-06-20", who=f.person(birth="1940-01-01"), recorded=f.at("2026-07-02"))
    alert = f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,))
    fixes = [
        correction(
            key(1),
            "2026-04-01",
            2,
            wrong_date["event_id"],
            f.at("2026-07-01", 12),
            date_corrected=True,
        ),
        correction(
            key(2),
            "2026-04-03",
            2,
            wrong_address["event_id"],
            f.at("2026-07-01", 12),
            address=f.ADDRESS_B,
        ),
        correction(
            key(3),
            "2026-04-03",
            2,
            wrong_birth["event_id"],
            f.at("2026-07-01", 12),
            person=f.person(birth="1951-03-01"),
        ),
    ]
    head = [(REG, e) for e in town] + [(REG, move_in(5, "2026-04-05"))]
    filed = [
        *head,
        (REG, wrong_date),
        (REG, wrong_address),
        (REG, wrong_birth),
        *[(CARE, c) for c in cares],
        (ALERTS, alert),
        *[(REG, fix) for fix in fixes],
        (REG, late),
    ]
    originals = (wrong_date, wrong_address, wrong_birth)
    clean = [
        *head,
        *[
            (REG, corrected_original(o, fix, date_corrected=fix is fixes[0]))
            for o, fix in zip(originals, fixes, strict=True)
        ],
        *[(CARE, c) for c in cares],
        (REG, late),
        (ALERTS, alert),
    ]
    return filed, clean


def compacted(platform: Platform, topic: str) -> dict[str, dict[str, Any]]:
    latest = platform.latest(topic)
    out = {
        k: {f: v for f, v in d.items() if f not in NOT_COMPARED[topic]} for k, d in latest.items()
    }
    for datum in out.values():
        if "suppressed" in datum:
            datum["suppressed"] = [name for name in datum["suppressed"] if name not in TODAY]
    return out


def run(history: list[tuple[str, dict[str, Any]]], k: int) -> Platform:
    platform = Platform(region=RegionSim(k=k))
    for topic, datum in history:
        platform.feed(topic, datum)
    return platform


@pytest.mark.parametrize("k", [1, 10])
@pytest.mark.parametrize("topic", sorted(NOT_COMPARED))
def test_corrected_run_compacts_to_the_clean_run(topic: str, k: int) -> None:
    filed, clean = histories()
    corrected, reference = run(filed, k), run(clean, k)
    assert compacted(corrected, topic) == compacted(reference, topic)
    assert compacted(reference, topic)  # the comparison is about something


def test_the_scenario_exercises_every_kind_of_change() -> None:
    filed, _ = histories()
    platform = run(filed, 1)
    lists = [d for t, _, d in platform.log if t == LISTS]
    corrections = [d["correction"] for d in lists if d["correction"]]
    assert {(c["added"], c["removed"]) for c in corrections} == {(0, 1), (1, 0)}
    # the 町域 list (every alert also gets its municipality list for protected persons, empty here)
    (final,) = [d for k, d in platform.latest(LISTS).items() if k.endswith(f":{f.REGION_A}")]
    municipality = [d for k, d in platform.latest(LISTS).items() if k.endswith(f":{f.MUNI}")]
    assert [d["persons"] for d in municipality] == [[]]
    assert {p["resident_key"] for p in final["persons"]} == {key(3), key(4), key(5)}
    daily = platform.latest(DAILY_TOPIC)
    assert daily[f"{f.REGION_A}:2026-04-10"]["move_ins"] == 1  # only resident 10 left there
    assert daily[f"{f.REGION_A}:2026-04-01"]["move_ins"] == 1
    assert daily[f"{f.REGION_A}:2026-04-03"]["move_ins"] == 1  # resident 3; 2 went to B
    assert daily[f"{f.REGION_B}:2026-04-03"]["move_ins"] == 1
