"""Facts that change nothing the evacuation stage reads are not routed (``lists.facts_read``):
a household's growth re-emits every member's facts with a new ``household_size``, which no
list shows. The lists must be exactly those of routing every record."""

from __future__ import annotations

import random
from typing import Any

import pytest

from renkei.stages.evacuation import flow as evacuation_flow
from renkei.stages.evacuation.lists import facts_read
from tests.stages import factories as f
from tests.stages.pipeline import Platform

REG = "std.registry.resident.events"
CARE = "std.welfare.care.certifications"
CHECKUP = "std.health.checkup.results"
ALERTS = "std.disaster.area.alerts"
LISTS = "derived.evacuation-support"
WHERE = (f.ADDRESS_A, f.ADDRESS_B)


def _scenario(seed: int) -> list[tuple[str, dict[str, Any]]]:
    """Households growing member by member in two regions, care certifications (candidates,
    consent), checkups, moves between the regions, a head handing over, move-outs, protection
    set and lifted, and alerts issued and lifted in between — in an order drawn from ``seed``."""
    rng = random.Random(seed)
    events: list[tuple[str, dict[str, Any]]] = []
    seqs: dict[str, int] = {}

    def seq(key: str) -> int:
        seqs[key] = seqs.get(key, 0) + 1
        return seqs[key]

    day = 0

    def eff() -> str:
        nonlocal day
        day += 1
        return f"2026-{4 + day // 28:02d}-{1 + day % 28:02d}"

    residents: list[tuple[str, str, bool, dict[str, Any]]] = []
    for h in range(6):
        number = f"00000010{h:02d}"
        where = WHERE[h % 2]
        for m in range(rng.randint(1, 4)):
            key = f"0000000001{h:02d}{m:03d}"
            birth = rng.choice(["1940-01-02", "1948-05-05", "1985-03-03", "2018-07-07"])
            who = f.person(given=f"名{h}{m}", birth=birth)
            hh = f.household(number, head=m == 0)
            residents.append((key, number, m == 0, where))
            events.append((REG, f.moved_in(key, eff(), seq(key), who=who, where=where, hh=hh)))
            if rng.random() < 0.5:
                code = rng.choice(["12", "21", "23", "25"])
                events.append(
                    (CARE, f.care(key, eff(), seq(key), code, consent=rng.random() < 0.6))
                )
            if rng.random() < 0.3:
                events.append((CHECKUP, f.checkup(key, eff(), seq(key))))
        if h == 2:
            events.append((ALERTS, f.alert("A1", "issued", 4, eff(), 1, regions=(f.REGION_A,))))
        if h == 3:
            events.append((ALERTS, f.alert("A2", "issued", 3, eff(), 1, whole=True)))
    for key, number, head, where in rng.sample(residents, k=min(6, len(residents))):
        roll = rng.random()
        if roll < 0.3:
            other = WHERE[1] if where is WHERE[0] else WHERE[0]
            hh = f.household(number, head=head)
            events.append((REG, f.moved_within(key, eff(), seq(key), where=other, hh=hh)))
        elif roll < 0.5:
            events.append((REG, f.moved_out(key, eff(), seq(key))))
        elif roll < 0.7:
            events.append((REG, f.protection_set(key, eff(), seq(key))))
            events.append((REG, f.protection_lifted(key, eff(), seq(key))))
        elif roll < 0.85 and not head:  # the head hands over to this member
            hh = f.household(number, head=True)
            events.append((REG, f.moved_within(key, eff(), seq(key), where=where, hh=hh)))
        else:
            events.append((CARE, f.care(key, eff(), seq(key), "25", consent=True)))
    events.append((ALERTS, f.alert("A1", "lifted", 4, eff(), 2, regions=(f.REGION_A,))))
    return events


def _run(events: list[tuple[str, dict[str, Any]]]) -> tuple[list[Any], int]:
    platform = Platform()
    routed = 0
    handle = evacuation_flow.handle_facts

    def counting(routing: Any, facts: dict[str, Any]) -> Any:
        nonlocal routed
        messages = handle(routing, facts)
        routed += len(messages)
        return messages

    evacuation_flow.handle_facts = counting  # type: ignore[assignment]
    try:
        for topic, datum in events:
            platform.feed(topic, datum)
    finally:
        evacuation_flow.handle_facts = handle  # type: ignore[assignment]
    return [record for record in platform.log if record[0] == LISTS], routed


@pytest.mark.parametrize("seed", range(12))
def test_lists_are_those_of_routing_every_record(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _scenario(seed)
    lists, routed = _run(events)
    monkeypatch.setattr(evacuation_flow, "facts_read", lambda facts: None)  # route everything
    every_lists, every_routed = _run(events)
    assert lists == every_lists
    assert lists  # the scenario produces lists at all
    assert routed < every_routed  # and records were left unrouted


def test_only_what_the_stage_reads_decides() -> None:
    facts = {
        "resident_key": "1",
        "status": "residing",
        "region_code": f.REGION_A,
        "is_head": False,
        "household_size": 2,
        "lives_alone": False,
        "sequence": 3,
        "event_id": "e",
    }
    same = facts_read(facts)
    assert same is not None
    assert facts_read({**facts, "household_size": 3, "sequence": 4, "event_id": "f"}) == same
    assert facts_read({**facts, "candidate": True}) != same
    assert facts_read({**facts, "is_head": True}) is None  # a head is always routed
