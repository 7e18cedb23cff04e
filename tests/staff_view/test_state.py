"""Folding the two topics into the view's state: latest region per key, active lists."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from renkei.schemas.catalogue import Catalogue
from staff_view.state import EVACUATION_TOPIC, REGION_TOPIC, ListBoard, RegionBoard, ViewState


@pytest.fixture
def region(catalogue: Catalogue) -> dict[str, Any]:
    return copy.deepcopy(catalogue.get(REGION_TOPIC).examples["town_area_suppressed"])


@pytest.fixture
def active(catalogue: Catalogue) -> dict[str, Any]:
    return copy.deepcopy(catalogue.get(EVACUATION_TOPIC).examples["flood_level4_disaster_mode"])


@pytest.fixture
def lifted(catalogue: Catalogue) -> dict[str, Any]:
    return copy.deepcopy(catalogue.get(EVACUATION_TOPIC).examples["flood_level4_lifted"])


def _with(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(record), **changes}


def test_latest_region_record_per_key_wins_by_sequence(region: dict[str, Any]) -> None:
    board = RegionBoard()
    key = region["region_code"]
    assert board.apply(key, _with(region, sequence=5, population=100))
    assert board.apply(key, _with(region, sequence=7, population=120))
    # a redelivered or replayed older record changes nothing
    assert not board.apply(key, _with(region, sequence=6, population=999))
    assert not board.apply(key, _with(region, sequence=7, population=999))
    assert board.records[key]["population"] == 120
    assert (board.applied, board.ignored) == (2, 2)
    other = _with(region, region_code="011011", sequence=1, population=5000)
    assert board.apply("011011", other)
    assert sorted(board.records) == ["011011", key]


def test_region_tombstone_removes_the_key(region: dict[str, Any]) -> None:
    board = RegionBoard()
    board.apply(region["region_code"], region)
    assert board.apply(region["region_code"], None)
    assert board.records == {}


def test_a_list_is_active_until_lifted_and_a_replay_cannot_revive_it(
    active: dict[str, Any], lifted: dict[str, Any]
) -> None:
    board = ListBoard()
    key = active["list_key"]
    assert board.apply(key, active)  # sequence 1, active, 2 persons
    assert list(board.alerts()) == [active["alert_id"]]
    assert board.records[key]["count"] == 2
    assert board.apply(key, lifted)  # sequence 2, lifted
    assert board.records == {} and board.alerts() == {}
    assert not board.apply(key, active)  # sequence 1 again: a replay of older history
    assert board.records == {}


def test_list_updates_replace_contents_and_alerts_group_their_regions(
    active: dict[str, Any],
) -> None:
    board = ListBoard()
    board.apply(active["list_key"], active)
    shorter = _with(active, sequence=2, count=1, persons=active["persons"][:1])
    board.apply(active["list_key"], shorter)
    assert [p["resident_key"] for p in board.records[active["list_key"]]["persons"]] == [
        "000000014142135"
    ]
    second_region = _with(
        active, list_key=f"{active['alert_id']}:141526:2520247", region_code="141526:2520247"
    )
    board.apply(second_region["list_key"], second_region)
    other_alert = _with(active, alert_id="X-2", list_key="X-2:141526:2520246")
    board.apply(other_alert["list_key"], other_alert)
    grouped = board.alerts()
    assert sorted(grouped) == sorted([active["alert_id"], "X-2"])
    assert len(grouped[active["alert_id"]]) == 2 and len(grouped["X-2"]) == 1


def test_a_protected_persons_address_is_never_stored_even_if_sent(
    active: dict[str, Any],
) -> None:
    """Defence in depth: a list that wrongly carries the address of a person flagged
    address_withheld (an upstream bug) is stored without it."""
    leaked = copy.deepcopy(active)
    protected = leaked["persons"][1]
    protected["address"] = copy.deepcopy(leaked["persons"][0]["address"])
    protected["address"]["address_text"] = "神奈川県相模原市中央区水郷田名9丁目9番9号"
    board = ListBoard()
    board.apply(leaked["list_key"], leaked)
    stored = board.records[leaked["list_key"]]["persons"]
    assert stored[1]["address_withheld"] is True and stored[1]["address"] is None
    assert stored[0]["address"]["address_text"].endswith("3丁目12番4号")
    assert "9丁目9番9号" not in repr(board.records)
    assert protected["address"] is not None  # the caller's record was not mutated
    assert board.withheld_households() == {"0001310457"}


def test_view_state_routes_by_topic_and_falls_back_to_the_value_key(
    region: dict[str, Any], active: dict[str, Any]
) -> None:
    state = ViewState()
    assert state.apply(REGION_TOPIC, None, region)
    assert state.apply(EVACUATION_TOPIC, active["list_key"], active)
    assert list(state.regions.records) == [region["region_code"]]
    assert list(state.lists.records) == [active["list_key"]]
