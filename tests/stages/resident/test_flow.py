"""The resident stage end to end in memory: household views, idempotency, replay, corrections."""

from __future__ import annotations

import itertools
import random

from renkei.shared.values import ENVELOPE
from renkei.stages.resident.household import HouseholdState, apply_membership, household_views
from tests.stages import factories as f
from tests.stages.pipeline import ResidentSim

REG = "std.registry.resident.events"
CARE = "std.welfare.care.certifications"
CHECKUP = "std.health.checkup.results"
PARENT, CHILD, ELDER = "000000000000101", "000000000000102", "000000000000201"
HH = f.household("0001023454", head=True)
HH_CHILD = f.household("0001023454", head=False)


def family_events() -> list[tuple[str, dict]]:
    return [
        (REG, f.moved_in(PARENT, "2026-04-01", 1, hh=HH)),
        (
            REG,
            f.moved_in(
                CHILD, "2026-04-01", 1, who=f.person(given="花", birth="2018-05-05"), hh=HH_CHILD
            ),
        ),
        (CHECKUP, f.checkup(PARENT, "2026-06-01", 1)),
        (
            REG,
            f.moved_in(
                ELDER,
                "2026-04-01",
                1,
                who=f.person(given="トシ", birth="1942-03-18"),
                hh=f.household("0009999999"),
                where=f.ADDRESS_B,
            ),
        ),
        (CARE, f.care(ELDER, "2026-07-01", 1, "12", consent=True)),
    ]


def latest(records: list[tuple[str, str, dict]], topic: str) -> dict[str, dict]:
    return {key: datum for t, key, datum in records if t == topic}


def content(datum: dict) -> dict:
    return {k: v for k, v in datum.items() if k not in ENVELOPE and k != "event_type"}


def run(events: list[tuple[str, dict]], sim: ResidentSim | None = None) -> tuple[ResidentSim, list]:
    sim = sim or ResidentSim()
    records = []
    for topic, event in events:
        records += sim.feed(topic, event)
    return sim, records


def test_household_view_reaches_every_member() -> None:
    _, records = run(family_events())
    unified = latest(records, "unified.resident")
    assert unified[PARENT]["household"]["household_size"] == 2
    assert unified[PARENT]["household"]["has_child_under_15"] is True
    assert unified[CHILD]["household"]["lives_alone"] is False
    assert unified[ELDER]["household"]["lives_alone"] is True
    facts = latest(records, "internal.resident.facts")
    assert facts[ELDER]["candidate_reasons"] == ["aged_75_alone"]  # a household of one aged 84
    assert facts[PARENT]["candidate"] is False
    for topic in ("unified.resident", "internal.resident.facts"):
        for datum in latest(records, topic).values():
            f.assert_fits(topic, datum)


def test_redelivering_or_replaying_every_input_emits_nothing() -> None:
    events = family_events()
    sim, _ = run(events)
    before = {k: dict(v) for k, v in sim.residents.items()}
    _, again = run(events, sim)
    assert again == []
    assert sim.residents == before


def test_any_arrival_order_converges_to_the_same_profiles() -> None:
    events = family_events()
    finals = []
    rng = random.Random(7)
    for _ in range(12):
        shuffled = events[:]
        rng.shuffle(shuffled)
        _, records = run(shuffled)
        finals.append({k: content(v) for k, v in latest(records, "unified.resident").items()})
    assert all(final == finals[0] for final in finals)


def test_a_person_leaving_the_household_updates_the_others() -> None:
    sim, _ = run(family_events())
    records = sim.feed(REG, f.moved_out(CHILD, "2026-08-01", 2))
    unified = latest(records, "unified.resident")
    assert unified[CHILD]["status"] == "moved_out"
    assert unified[PARENT]["household"]["household_size"] == 1
    assert unified[PARENT]["household"]["has_child_under_15"] is False


def test_a_correction_re_emits_what_it_changes() -> None:
    original = f.moved_in(PARENT, "2026-04-01", 1, who=f.person(given="健ー"), hh=HH)
    sim, _ = run([(REG, original)])
    fix = f.corrected(PARENT, "2026-04-01", 2, original["event_id"], person=f.person(given="健一"))
    records = sim.feed(REG, fix)
    unified = latest(records, "unified.resident")[PARENT]
    assert unified["given_name"] == "健一"
    assert unified["event_id"] == str(fix["event_id"])
    assert sim.feed(REG, fix) == []


def test_protection_redacts_the_unified_profile_of_every_later_output() -> None:
    sim, _ = run(family_events())
    records = sim.feed(REG, f.protection_set(PARENT, "2026-08-01", 2))
    records += sim.feed(CHECKUP, f.checkup(PARENT, "2026-09-01", 2, metabolic="meets"))
    unified = [d for t, _, d in records if t == "unified.resident" and d["resident_key"] == PARENT]
    assert len(unified) == 2
    assert all(d["address"] is None and d["address_redacted"] for d in unified)
    assert all(f.ADDRESS_A["address_text"] not in repr(d) for d in unified)


def test_household_step_ignores_stale_and_foreign_messages() -> None:
    household = HouseholdState(household_key="011011:1")
    join = {"resident_key": PARENT, "rev": 2, "member": {"age": 40, "is_head": True}}
    household = apply_membership(household, {**join, "household_key": "011011:1"})
    stale = {**join, "rev": 1, "member": None, "household_key": "011011:1"}
    assert apply_membership(household, stale) is household
    household, views = household_views(household, {"event_id": "x"})
    assert [key for key, _ in views] == [PARENT]
    assert household_views(household, {"event_id": "y"}) == (household, [])


def test_internal_traffic_stays_bounded() -> None:
    """The household loop ends: a view never changes a membership."""
    sim, _ = run(family_events())
    assert sim.internal_messages < 20


def test_all_permutations_of_a_move_and_correction_agree() -> None:
    original = f.moved_in(PARENT, "2026-04-01", 1, hh=HH)
    move = f.moved_within(PARENT, "2026-06-01", 2, where=f.ADDRESS_B, hh=HH)
    fix = f.corrected(PARENT, "2026-04-01", 3, original["event_id"], person=f.person(given="X"))
    results = []
    for order in itertools.permutations([original, move, fix]):
        _, records = run([(REG, e) for e in order])
        results.append(content(latest(records, "unified.resident")[PARENT]))
    assert all(r == results[0] for r in results)
    assert results[0]["given_name"] == "X" and results[0]["region_code"] == f.REGION_B
