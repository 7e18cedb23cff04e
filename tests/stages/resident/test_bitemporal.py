"""unified.resident in valid time and record time: date corrections, history as recorded."""

from __future__ import annotations

import datetime as dt
import itertools

from renkei.stages.resident.state import (
    ResidentState,
    apply_registry,
    record_times,
    registry_history,
    view_as_recorded,
)
from tests.stages import factories as f
from tests.stages.corrections.helpers import correction
from tests.stages.pipeline import Platform

KEY = "000000012345678"
REG = "std.registry.resident.events"


def build(*events: dict) -> ResidentState:
    state = ResidentState(resident_key=KEY)
    for event in events:
        state = apply_registry(state, event)
    return state


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def test_a_corrected_move_date_refolds_the_move_at_the_corrected_date() -> None:
    original = f.moved_in(KEY, "2026-04-10", 1)
    fix = correction(
        KEY, "2026-04-01", 2, original["event_id"], f.at("2026-04-20"), date_corrected=True
    )
    for order in itertools.permutations([original, fix]):
        view = build(*order).view
        assert view.moved_in_on == "2026-04-01"
        assert view.last_effective_date == "2026-04-01"
    assert build(original).view.moved_in_on == "2026-04-10"


def test_a_date_correction_reorders_the_target_against_later_events() -> None:
    moved_in = f.moved_in(KEY, "2026-04-01", 1)
    move = f.moved_within(KEY, "2026-04-10", 2, where=f.ADDRESS_B)
    other = f.moved_within(KEY, "2026-04-20", 3, where=f.address(rest="9番9号"))
    # the 転居 to B really happened after the 転居 to 9番9号: B is the current address
    fix = correction(
        KEY, "2026-04-25", 4, move["event_id"], f.at("2026-05-01"), date_corrected=True
    )
    assert build(moved_in, move, other).view.address["rest"] == "9番9号"
    assert build(moved_in, move, other, fix).view.address["region_code"] == f.REGION_B


def test_the_registry_view_can_be_read_as_of_any_record_time() -> None:
    original = f.moved_in(KEY, "2026-04-01", 1, recorded=f.at("2026-04-02"))
    late = f.moved_within(KEY, "2026-04-05", 2, where=f.ADDRESS_B, recorded=f.at("2026-04-25"))
    fix = correction(
        KEY,
        "2026-04-01",
        3,
        original["event_id"],
        f.at("2026-04-20"),
        person=f.person(given="健二"),
    )
    log = list(build(original, late, fix).registry_log)
    before_fix = view_as_recorded(log, iso(f.at("2026-04-10")))
    assert before_fix.person["given_name"] == "健一"
    assert before_fix.address["region_code"] == f.REGION_A  # the late 転居 is not known yet
    after_fix = view_as_recorded(log, iso(f.at("2026-04-20")))
    assert after_fix.person["given_name"] == "健二"
    assert after_fix.address["region_code"] == f.REGION_A
    assert view_as_recorded(log, iso(f.at("2026-04-25"))).address["region_code"] == f.REGION_B
    assert view_as_recorded(log, iso(f.at("2026-04-01"))).status is None  # nothing recorded
    history = registry_history(log)
    assert [t for t, _ in history] == record_times(log) and len(history) == 3
    assert history[-1][1] == build(original, late, fix).view


def test_unified_resident_carries_valid_time_and_record_time() -> None:
    platform = Platform()
    original = f.moved_in(KEY, "2026-04-10", 1, recorded=f.at("2026-04-11"))
    platform.feed(REG, original)
    first = platform.latest("unified.resident")[KEY]
    assert first["valid_from"] == dt.date(2026, 4, 10)
    assert first["recorded_through"] == f.at("2026-04-11")
    fix = correction(
        KEY, "2026-04-01", 2, original["event_id"], f.at("2026-04-20"), date_corrected=True
    )
    platform.feed(REG, fix)
    resident = platform.latest("unified.resident")[KEY]
    assert resident["valid_from"] == dt.date(2026, 4, 1)
    assert resident["recorded_through"] == f.at("2026-04-20")
    assert resident["sequence"] == first["sequence"] + 1
    f.assert_fits("unified.resident", resident)
    facts = platform.latest("internal.resident.facts")[KEY]
    assert facts["moved_in_on"] == dt.date(2026, 4, 1)
    f.assert_fits("internal.resident.facts", facts)


def test_a_correction_that_changes_no_content_emits_nothing() -> None:
    platform = Platform()
    original = f.moved_in(KEY, "2026-04-10", 1)
    platform.feed(REG, original)
    same = correction(
        KEY, "2026-04-10", 2, original["event_id"], f.at("2026-04-20"), person=f.person()
    )
    assert platform.feed(REG, same) == []
