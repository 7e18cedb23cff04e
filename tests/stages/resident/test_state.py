"""ResidentState: event-time order, corrections, protection, idempotency, JSON round trip."""

from __future__ import annotations

import itertools
import json

import pytest

from renkei.stages.resident.state import ResidentState, apply_care, apply_checkup, apply_registry
from tests.stages import factories as f

KEY = "000000012345678"


def build(*events: dict) -> ResidentState:
    state = ResidentState(resident_key=KEY)
    for event in events:
        state = apply_registry(state, event)
    return state


def test_std_datums_of_the_factories_fit_the_std_schemas() -> None:
    f.assert_fits("std.registry.resident.events", f.moved_in(KEY, "2026-10-01", 1))
    f.assert_fits("std.registry.resident.events", f.protection_set(KEY, "2026-10-01", 1))
    f.assert_fits("std.health.checkup.results", f.checkup(KEY, "2026-10-01", 1))
    f.assert_fits("std.welfare.care.certifications", f.care(KEY, "2026-10-01", 1))
    f.assert_fits("std.disaster.area.alerts", f.alert("a-1", "issued", 4, "2026-10-01", 1))
    f.assert_fits(
        "std.economy.region.indicators",
        f.indicators(f.REGION_A, "2026-10-01", 1, "2026-09-30", {"事業所数": 12}),
    )


def test_moved_in_makes_a_residing_resident_with_age_at_the_effective_date() -> None:
    state = build(f.moved_in(KEY, "2026-03-31", 1, who=f.person(birth="1980-04-01")))
    assert state.view.status == "residing"
    assert state.view.address == f.ADDRESS_A | {"chome": 5}
    assert state.age() == 45  # birthday on 04-01 not reached on 03-31
    assert build(f.moved_in(KEY, "2026-04-01", 1, who=f.person(birth="1980-04-01"))).age() == 46


def test_applying_an_event_twice_changes_nothing() -> None:
    event = f.moved_in(KEY, "2026-10-01", 1)
    once = build(event)
    assert apply_registry(once, event) is once
    assert apply_registry(once, dict(event)) is once


def test_every_arrival_order_gives_the_same_state() -> None:
    events = [
        f.moved_in(KEY, "2026-01-10", 1),
        f.moved_within(KEY, "2026-03-01", 2, where=f.ADDRESS_B),
        f.protection_set(KEY, "2026-04-01", 3),
        f.care(KEY, "2026-05-01", 1),
    ]
    results = set()
    for order in itertools.permutations(events):
        state = ResidentState(resident_key=KEY)
        for event in order:
            apply = apply_care if "care_level_code" in event else apply_registry
            state = apply(state, event)
        results.add(json.dumps(state.to_dict(), sort_keys=True, ensure_ascii=False))
    assert len(results) == 1


def test_a_late_event_applies_into_history_not_over_the_present() -> None:
    state = build(
        f.moved_in(KEY, "2026-01-10", 1),
        f.moved_within(KEY, "2026-06-01", 3, where=f.ADDRESS_B),
    )
    late = f.moved_within(KEY, "2026-03-01", 2, where=f.address(postal="0640953", town="X"))
    state = apply_registry(state, late)
    assert state.view.address["region_code"] == f.REGION_B  # June's move is still the latest
    assert len(state.registry_log) == 3


def test_same_effective_date_orders_by_recorded_time_then_sequence() -> None:
    first = f.moved_within(KEY, "2026-06-01", 5, where=f.ADDRESS_A, recorded=f.at("2026-06-02"))
    second = f.moved_within(KEY, "2026-06-01", 4, where=f.ADDRESS_B, recorded=f.at("2026-06-03"))
    assert build(second, first).view.address["region_code"] == f.REGION_B


def test_a_correction_replaces_the_superseded_events_values_where_it_sits_in_history() -> None:
    original = f.moved_in(KEY, "2026-01-10", 1, who=f.person(given="健ー"))
    fixed = f.person(given="健一")
    correction = f.corrected(KEY, "2026-01-10", 3, original["event_id"], person=fixed)
    later = f.moved_within(KEY, "2026-02-01", 2, where=f.ADDRESS_B)
    for order in itertools.permutations([original, correction, later]):
        state = build(*order)
        assert state.view.person["given_name"] == "健一"
        assert state.view.address["region_code"] == f.REGION_B  # the correction left it alone


def test_a_correction_of_an_address_in_the_past_does_not_undo_a_later_move() -> None:
    original = f.moved_in(KEY, "2026-01-10", 1)
    later = f.moved_within(KEY, "2026-02-01", 2, where=f.ADDRESS_B)
    fix = f.corrected(KEY, "2026-01-10", 3, original["event_id"], address=f.address(rest="1番1号"))
    assert build(original, later, fix).view.address["region_code"] == f.REGION_B
    assert build(original, fix).view.address["rest"] == "1番1号"


def test_a_correction_before_its_target_waits_and_a_correction_of_a_correction_chains() -> None:
    original = f.moved_in(KEY, "2026-01-10", 1, who=f.person(given="A"))
    first = f.corrected(KEY, "2026-01-10", 2, original["event_id"], person=f.person(given="B"))
    second = f.corrected(KEY, "2026-01-10", 3, first["event_id"], person=f.person(given="C"))
    pending = build(second, first)
    assert pending.view.person is None
    assert apply_registry(pending, original).view.person["given_name"] == "C"


def test_protection_follows_event_time_and_is_not_lifted_by_valid_until() -> None:
    state = build(
        f.moved_in(KEY, "2026-01-10", 1),
        f.protection_set(KEY, "2026-02-01", 2, until="2026-03-01"),
        f.moved_within(KEY, "2027-01-01", 3, where=f.ADDRESS_B),
    )
    assert state.view.protected  # valid_until passed long ago: only protection_lifted lifts
    lifted = apply_registry(state, f.protection_lifted(KEY, "2026-12-01", 4))
    assert not lifted.view.protected
    again = apply_registry(lifted, f.protection_set(KEY, "2026-12-15", 5))
    assert again.view.protected


def test_move_out_and_death_set_the_status_and_death_stops_the_age() -> None:
    moved = build(f.moved_in(KEY, "2026-01-10", 1), f.moved_out(KEY, "2026-05-01", 2))
    assert moved.view.status == "moved_out"
    assert moved.view.address["region_code"] == f.REGION_A  # the last address is kept
    dead = build(
        f.moved_in(KEY, "2026-01-10", 1, who=f.person(birth="1950-06-01")),
        f.died(KEY, "2026-05-01", 2),
    )
    dead = apply_checkup(dead, f.checkup(KEY, "2027-08-01", 1))  # a late record after death
    assert dead.view.status == "deceased"
    assert dead.age() == 75


def test_a_returning_resident_is_residing_again() -> None:
    state = build(
        f.moved_in(KEY, "2026-01-10", 1),
        f.moved_out(KEY, "2026-05-01", 2),
        f.moved_in(KEY, "2026-09-01", 3, where=f.ADDRESS_B),
    )
    assert state.view.status == "residing"
    assert state.view.address["region_code"] == f.REGION_B


@pytest.mark.parametrize("apply,make", [(apply_checkup, f.checkup), (apply_care, f.care)])
def test_only_the_latest_checkup_or_certification_is_kept(apply, make) -> None:  # type: ignore[no-untyped-def]
    newer, older = make(KEY, "2026-09-01", 2), make(KEY, "2026-05-01", 1)
    state = apply(ResidentState(resident_key=KEY), newer)
    assert apply(state, older) is state
    assert apply(state, newer) is state
    assert state.to_dict()[apply.__name__.removeprefix("apply_")]["event_id"] == str(
        newer["event_id"]
    )


def test_state_round_trips_through_json() -> None:
    state = build(f.moved_in(KEY, "2026-01-10", 1), f.protection_set(KEY, "2026-02-01", 2))
    state = apply_care(
        apply_checkup(state, f.checkup(KEY, "2026-06-01", 1)), f.care(KEY, "2026-07-01", 1)
    )
    text = json.dumps(state.to_dict(), ensure_ascii=False)
    back = ResidentState.from_dict(json.loads(text))
    assert back.to_dict() == state.to_dict()
    assert back.view == state.view
