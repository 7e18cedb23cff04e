"""A correction or a late filing that changes who is on a released list re-issues the list as a
new version carrying ``correction`` (docs/corrections.md)."""

from __future__ import annotations

from typing import Any

from tests.stages import factories as f
from tests.stages.corrections.helpers import correction
from tests.stages.pipeline import Platform

REG = "std.registry.resident.events"
CARE = "std.welfare.care.certifications"
ALERTS = "std.disaster.area.alerts"
TOPIC = "derived.evacuation-support"
LISTED, ELDER, LATE = "000000000000401", "000000000000402", "000000000000403"


def listed(platform: Platform, alert_id: str = "A1", region: str = f.REGION_A) -> dict[str, Any]:
    return platform.latest(TOPIC)[f"{alert_id}:{region}"]


def keys(record: dict[str, Any]) -> set[str]:
    return {p["resident_key"] for p in record["persons"]}


def lists_in(records: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [d for t, _, d in records if t == TOPIC]


def town(platform: Platform) -> dict[str, Any]:
    """A care-level candidate and a resident of 74 living alone (no candidate yet); an alert of
    level 4 issued 2026-07-01 09:00 for region A. Returns the 74-year-old's move-in."""
    platform.feed(REG, f.moved_in(LISTED, "2026-04-01", 1, hh=f.household("0000000001")))
    platform.feed(CARE, f.care(LISTED, "2026-05-01", 1, "25"))
    elder = f.moved_in(
        ELDER, "2026-04-01", 1, who=f.person(birth="1951-08-01"), hh=f.household("0000000002")
    )
    platform.feed(REG, elder)
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    assert keys(listed(platform)) == {LISTED}
    assert listed(platform)["correction"] is None
    return elder


def test_a_birth_date_corrected_across_75_adds_the_person_by_a_corrected_version() -> None:
    platform = Platform()
    elder = town(platform)
    released = listed(platform)["sequence"]
    fix = correction(
        ELDER,
        "2026-04-01",
        2,
        elder["event_id"],
        f.at("2026-07-01", 12),
        person=f.person(birth="1951-03-01"),
    )
    (record,) = lists_in(platform.feed(REG, fix))
    assert keys(record) == {LISTED, ELDER}
    assert record["persons"][0]["resident_key"] == ELDER  # 75: aged_75_alone
    assert "aged_75_alone" in record["persons"][0]["support_reasons"]
    assert record["sequence"] == released + 1
    assert record["correction"] == {"corrects_sequence": released, "added": 1, "removed": 0}
    f.assert_fits(TOPIC, record)


def test_an_address_correction_takes_a_wrongly_listed_person_off_by_a_corrected_version() -> None:
    platform = Platform()
    platform.feed(REG, f.moved_in(ELDER, "2026-04-01", 1, hh=f.household("0000000002")))
    platform.feed(CARE, f.care(ELDER, "2026-05-01", 1, "25"))
    first = f.moved_in(LISTED, "2026-04-01", 1, hh=f.household("0000000001"))
    platform.feed(REG, first)
    platform.feed(CARE, f.care(LISTED, "2026-05-01", 1, "25"))
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    released = listed(platform)
    assert keys(released) == {LISTED, ELDER}
    fix = correction(
        LISTED, "2026-04-01", 2, first["event_id"], f.at("2026-07-01", 12), address=f.ADDRESS_B
    )
    (record,) = lists_in(platform.feed(REG, fix))
    assert keys(record) == {ELDER} and record["count"] == 1
    assert record["correction"] == {
        "corrects_sequence": released["sequence"],
        "added": 0,
        "removed": 1,
    }


def test_a_late_move_in_filed_after_the_alert_is_added_by_a_corrected_version() -> None:
    platform = Platform()
    town(platform)
    released = listed(platform)["sequence"]
    late = f.moved_in(
        LATE,
        "2026-06-20",  # moved in before the alert, filed after it
        1,
        who=f.person(birth="1940-01-01"),
        hh=f.household("0000000003"),
        recorded=f.at("2026-07-02"),
    )
    (record,) = lists_in(platform.feed(REG, late))
    assert LATE in keys(record)
    assert record["correction"] == {"corrects_sequence": released, "added": 1, "removed": 0}


def test_a_change_after_the_issue_is_an_ordinary_update_not_a_correction() -> None:
    platform = Platform()
    town(platform)
    moved = f.moved_within(LISTED, "2026-07-01", 2, where=f.ADDRESS_B, hh=f.household("0000000001"))
    (record,) = lists_in(platform.feed(REG, moved))
    assert keys(record) == set() and record["correction"] is None


def test_a_correction_that_changes_no_one_on_the_list_is_no_corrected_version() -> None:
    platform = Platform()
    platform.feed(REG, f.moved_in(ELDER, "2026-04-01", 1, hh=f.household("0000000002")))
    first = f.moved_in(LISTED, "2026-04-01", 1, hh=f.household("0000000001"))
    platform.feed(REG, first)
    platform.feed(CARE, f.care(LISTED, "2026-05-01", 1, "25"))
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    fix = correction(
        LISTED,
        "2026-04-01",
        2,
        first["event_id"],
        f.at("2026-07-01", 12),
        person=f.person(given="健二"),
    )
    (record,) = lists_in(platform.feed(REG, fix))  # the name changed: a new version
    assert record["persons"][0]["name"].endswith("健二")
    assert record["correction"] is None  # same persons: the list is current, nobody added


def test_a_correction_after_the_lifting_re_issues_the_lifted_list_with_the_correction() -> None:
    platform = Platform()
    elder = town(platform)
    active = listed(platform)["sequence"]
    lift = f.alert("A1", "lifted", 4, "2026-07-02", 2, regions=(f.REGION_A,), hour=6)
    platform.feed(ALERTS, lift)
    lifted = listed(platform)
    assert lifted["status"] == "lifted" and lifted["correction"] is None
    fix = correction(
        ELDER,
        "2026-04-01",
        2,
        elder["event_id"],
        f.at("2026-07-03"),
        person=f.person(birth="1951-03-01"),
    )
    (record,) = lists_in(platform.feed(REG, fix))
    assert record["status"] == "lifted" and record["persons"] == [] and record["count"] == 0
    assert record["sequence"] == lifted["sequence"] + 1
    # the version released while the alert was active should have named one more person
    assert record["correction"] == {"corrects_sequence": active, "added": 1, "removed": 0}
    f.assert_fits(TOPIC, record)
    # nothing further: the same person again, or an ordinary change after the lifting
    assert lists_in(platform.feed(CARE, f.care(ELDER, "2026-07-05", 1, "25"))) == []
    assert lists_in(platform.feed(CARE, f.care(LISTED, "2026-07-05", 2, "21"))) == []
