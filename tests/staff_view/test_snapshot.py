"""What the page is given: suppressed shown as suppressed, labels, hidden addresses, totals."""

from __future__ import annotations

import copy
import json
from typing import Any

from renkei.schemas.catalogue import Catalogue
from staff_view.follow import CatchUp
from staff_view.places import RegionNames
from staff_view.settings import StaffViewSettings
from staff_view.snapshot import elderly_rate, snapshot
from staff_view.state import EVACUATION_TOPIC, REGION_TOPIC, ViewState


def _state(catalogue: Catalogue) -> ViewState:
    state = ViewState()
    for name in ("town_area_suppressed", "ward_totals"):
        state.apply(REGION_TOPIC, None, copy.deepcopy(catalogue.get(REGION_TOPIC).examples[name]))
    for name in ("flood_level4_disaster_mode", "level3_normal_mode_consented"):
        state.apply(
            EVACUATION_TOPIC, None, copy.deepcopy(catalogue.get(EVACUATION_TOPIC).examples[name])
        )
    return state


def _figures(region: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["field"]: f for f in region["figures"]}


def test_suppressed_counts_are_marked_not_zero(catalogue: Catalogue) -> None:
    view = snapshot(_state(catalogue), RegionNames())
    town = next(r for r in view["regions"] if r["region_code"] == "011011:0640941")
    figures = _figures(town)
    assert figures["population"] == {
        "field": "population",
        "label": "人口",
        "kind": "count",
        "value": 2322,
        "suppressed": False,
    }
    # move_ins_today is not shown; net migration is suppressed in the example, but not a column
    assert "move_ins_today" in town["suppressed"]
    assert figures["checkup_participation_rate"]["value"] == 0.316
    ward = next(r for r in view["regions"] if r["region_code"] == "011011")
    assert ward["scope"] == "municipality" and town["scope"] == "town"
    # the ward is named after the city of its 町域 (Japan Post data)
    assert town["name"] == "札幌市中央区 旭ケ丘" and ward["name"] == "札幌市中央区（全域）"


def test_null_without_suppression_is_missing_not_suppressed() -> None:
    region = {"region_code": "011011:0640941", "population": None, "suppressed": []}
    assert elderly_rate(region) == {"value": None, "suppressed": False}
    region = {
        "region_code": "011011:0640941",
        "population": 40,
        "age_65_74": None,
        "age_75_plus": 12,
        "suppressed": ["age_65_74"],
    }
    assert elderly_rate(region) == {"value": None, "suppressed": True}
    region.update(age_65_74=10, suppressed=[])
    assert elderly_rate(region) == {"value": 0.55, "suppressed": False}


def test_alerts_are_grouped_labelled_and_ordered_by_level(catalogue: Catalogue) -> None:
    view = snapshot(_state(catalogue), RegionNames())
    assert [a["level"] for a in view["alerts"]] == [4, 3]
    flood = view["alerts"][0]
    assert flood["hazard_label"] == "洪水" and flood["information_name"] == "避難指示"
    assert flood["mode"] == "disaster" and "49条の11第3項" in flood["mode_label"]
    assert (flood["region_count"], flood["person_count"]) == (1, 2)
    [listed] = flood["lists"]
    assert listed["count"] == 2 and [p["name"] for p in listed["persons"]] == [
        "小川　キヨ",
        "石井　翔太",
    ]
    first = listed["persons"][0]
    assert first["address"] == "神奈川県相模原市中央区水郷田名3丁目12番4号"
    assert first["support_reason_labels"] == ["75歳以上のみの世帯", "要介護3〜5"]
    assert first["sex_label"] == "女"
    landslide = view["alerts"][1]
    # building (方書) is appended to the recorded address text
    assert landslide["lists"][0]["persons"][0]["address"].endswith("旭ケ丘ハイツ203号室")
    assert view["totals"] == {
        "regions": 2,
        "active_alerts": 2,
        "active_lists": 2,
        "listed_persons": 3,
    }


def test_no_address_of_a_protected_person_or_their_household_is_given(
    catalogue: Catalogue,
) -> None:
    state = _state(catalogue)
    example = catalogue.get(EVACUATION_TOPIC).examples["flood_level4_disaster_mode"]
    leaked = copy.deepcopy(example)
    (protected,) = [p for p in leaked["persons"] if p["address_withheld"]]
    protected["address"] = {**leaked["persons"][0]["address"], "address_text": "秘密の住所1-1"}
    # a family member at the same address, not flagged, listed in another alert
    relative = {
        **copy.deepcopy(leaked["persons"][0]),
        "resident_key": "000000017320509",
        "name": "石井　真由美",
        "household_number": protected["household_number"],
        "address_withheld": False,
    }
    relative["address"]["address_text"] = "世帯の住所2-2"
    other = {
        **leaked,
        "alert_id": "A-2",
        "list_key": "A-2:141526:2520246",
        "persons": [relative],
        "count": 1,
    }
    state.apply(EVACUATION_TOPIC, None, leaked)
    state.apply(EVACUATION_TOPIC, None, other)
    document = json.dumps(snapshot(state, RegionNames()), ensure_ascii=False)
    assert "秘密の住所" not in document and "世帯の住所" not in document
    assert "resident_key" not in document
    persons = [
        p
        for a in snapshot(state, RegionNames())["alerts"]
        for lst in a["lists"]
        for p in lst["persons"]
    ]
    hidden = {p["name"]: p["address_hidden"] for p in persons if p["address"] is None}
    assert hidden == {
        "石井　翔太": "住所非表示（支援措置）",
        "石井　真由美": "住所非表示（同一世帯に支援措置の対象者）",
    }


def test_catch_up_waits_for_the_end_offsets_or_idleness() -> None:
    catch_up = CatchUp(idle_seconds=10)
    assert not catch_up.loaded(0.0)  # not started
    catch_up.start({0: 3, 1: 0, 2: 1}, now=100.0)
    assert not catch_up.loaded(101.0)
    catch_up.seen(0, 2, now=102.0)
    assert not catch_up.loaded(103.0)  # partition 2 not reached
    catch_up.seen(2, 0, now=104.0)
    assert catch_up.loaded(104.0)
    stuck = CatchUp(idle_seconds=10)
    stuck.start({0: 5}, now=0.0)
    stuck.seen(0, 3, now=1.0)  # offset 4 never arrives (undecodable, skipped)
    assert not stuck.loaded(10.9) and stuck.loaded(11.0)
    empty = CatchUp(idle_seconds=10)
    empty.start({}, now=0.0)
    assert empty.loaded(0.0)


def test_settings_come_from_the_staff_view_prefix(monkeypatch: Any) -> None:
    monkeypatch.setenv("RENKEI_STAFF_VIEW_PORT", "7399")
    monkeypatch.setenv("RENKEI_STAFF_VIEW_REFRESH_SECONDS", "30")
    settings = StaffViewSettings()
    assert (settings.bind, settings.port, settings.refresh_seconds) == ("127.0.0.1", 7399, 30)
    monkeypatch.delenv("RENKEI_STAFF_VIEW_PORT")
    assert StaffViewSettings().port == 8090
