"""derived.evacuation-support: alerts × candidates, modes, protection, moves, lifting."""

from __future__ import annotations

from tests.stages import factories as f
from tests.stages.pipeline import EvacuationSim, Platform

REG = "std.registry.resident.events"
CARE = "std.welfare.care.certifications"
ALERTS = "std.disaster.area.alerts"
CONSENTED, NOT_CONSENTED, PROTECTED, HEALTHY = (
    "000000000000301",
    "000000000000302",
    "000000000000303",
    "000000000000304",
)


def town(platform: Platform) -> None:
    """Three candidates (one consented, one not, one protected) and a healthy resident, each at
    an address of its own in region A."""
    for n, rk in enumerate((CONSENTED, NOT_CONSENTED, PROTECTED, HEALTHY)):
        hh = f.household(f"{n:010d}")
        where = f.address(rest=f"{n + 1}番1号")
        platform.feed(
            REG, f.moved_in(rk, "2026-04-01", 1, who=f.person(given=f"P{n}"), hh=hh, where=where)
        )
    platform.feed(CARE, f.care(CONSENTED, "2026-05-01", 1, "25", consent=True))
    platform.feed(CARE, f.care(NOT_CONSENTED, "2026-05-01", 1, "23"))
    platform.feed(CARE, f.care(PROTECTED, "2026-05-01", 1, "23", consent=True))
    platform.feed(REG, f.protection_set(PROTECTED, "2026-05-02", 2))


def listed(platform: Platform, alert_id: str, region: str = f.REGION_A) -> dict:
    return platform.latest("derived.evacuation-support")[f"{alert_id}:{region}"]


def keys(record: dict) -> set[str]:
    return {p["resident_key"] for p in record["persons"]}


def everyone(platform: Platform, alert_id: str, region: str = f.REGION_A) -> set[str]:
    """Who an alert lists for ``region``: its 町域 list, plus the protected persons of it on the
    municipality-level list (never on the 町域 list)."""
    municipality = platform.latest("derived.evacuation-support")[f"{alert_id}:{f.MUNI}"]
    return keys(listed(platform, alert_id, region)) | keys(municipality)


def test_level_3_normal_mode_lists_only_consenting_candidates() -> None:
    platform = Platform()
    town(platform)
    platform.feed(ALERTS, f.alert("A1", "issued", 3, "2026-07-01", 1, regions=(f.REGION_A,)))
    record = listed(platform, "A1")
    assert record["mode"] == "normal" and record["status"] == "active"
    assert keys(record) == {CONSENTED}
    assert everyone(platform, "A1") == {CONSENTED, PROTECTED}
    assert record["count"] == 1
    f.assert_fits("derived.evacuation-support", record)


def test_level_4_disaster_mode_lists_every_candidate_and_withholds_protected_addresses() -> None:
    platform = Platform()
    town(platform)
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    record = listed(platform, "A1")
    assert record["mode"] == "disaster"
    assert keys(record) == {CONSENTED, NOT_CONSENTED}  # never on the 町域 list
    municipality = listed(platform, "A1", f.MUNI)
    assert municipality["region_code"] == f.MUNI and municipality["mode"] == "disaster"
    (protected,) = municipality["persons"]
    assert protected["resident_key"] == PROTECTED
    assert protected["address"] is None and protected["address_withheld"] is True
    assert protected["household_number"] == "" and protected["household_head_name"] is None
    assert f.ADDRESS_A["town"] not in repr(municipality) and f.REGION_A not in repr(municipality)
    others = record["persons"]
    assert all(p["address"]["region_code"] == f.REGION_A for p in others)
    assert all(p["household_head_name"] == p["name"] for p in others)
    f.assert_fits("derived.evacuation-support", record)
    f.assert_fits("derived.evacuation-support", municipality)


def test_operator_override_turns_on_disaster_mode_at_level_3() -> None:
    platform = Platform()
    platform.evacuation.disaster_override = True
    town(platform)
    platform.feed(ALERTS, f.alert("A1", "issued", 3, "2026-07-01", 1, regions=(f.REGION_A,)))
    assert listed(platform, "A1")["mode"] == "disaster"
    assert NOT_CONSENTED in keys(listed(platform, "A1"))


def test_list_is_kept_current_while_active() -> None:
    platform = Platform()
    town(platform)
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    first_sequence = listed(platform, "A1")["sequence"]
    platform.feed(
        REG,
        f.moved_within(CONSENTED, "2026-07-01", 3, where=f.ADDRESS_B, hh=f.household(f"{0:010d}")),
    )
    assert CONSENTED not in keys(listed(platform, "A1"))
    platform.feed(CARE, f.care(HEALTHY, "2026-07-01", 1, "25"))
    record = listed(platform, "A1")
    assert HEALTHY in keys(record)
    assert record["sequence"] > first_sequence


def test_lifted_emits_one_empty_record_and_nothing_after() -> None:
    platform = Platform()
    town(platform)
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    platform.feed(
        ALERTS, f.alert("A1", "lifted", 4, "2026-07-02", 2, regions=(f.REGION_A,), hour=6)
    )
    record = listed(platform, "A1")
    assert record["status"] == "lifted" and record["persons"] == [] and record["count"] == 0
    f.assert_fits("derived.evacuation-support", record)
    later = platform.feed(CARE, f.care(HEALTHY, "2026-07-03", 1, "25"))
    assert [r for r in later if r[0] == "derived.evacuation-support"] == []
    assert any(r[0] == "unified.resident" for r in later)


def test_redelivered_alert_and_stale_update_change_nothing() -> None:
    platform = Platform()
    town(platform)
    issued = f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,))
    platform.feed(ALERTS, issued)
    assert platform.feed(ALERTS, issued) == []
    older = f.alert("A1", "updated", 3, "2026-06-30", 0, regions=(f.REGION_A,))
    assert platform.feed(ALERTS, older) == []


def test_below_level_3_or_a_dropped_target_lifts_the_regions_list() -> None:
    platform = Platform()
    town(platform)
    platform.feed(
        REG,
        f.moved_within(
            NOT_CONSENTED, "2026-06-01", 3, where=f.ADDRESS_B, hh=f.household(f"{1:010d}")
        ),
    )
    both = (f.REGION_A, f.REGION_B)
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=both))
    assert keys(listed(platform, "A1", f.REGION_B)) == {NOT_CONSENTED}
    platform.feed(
        ALERTS, f.alert("A1", "updated", 4, "2026-07-01", 2, regions=(f.REGION_A,), hour=12)
    )
    assert listed(platform, "A1", f.REGION_B)["status"] == "lifted"
    assert listed(platform, "A1", f.REGION_A)["status"] == "active"
    platform.feed(
        ALERTS, f.alert("A1", "updated", 2, "2026-07-01", 3, regions=(f.REGION_A,), hour=13)
    )
    assert listed(platform, "A1", f.REGION_A)["status"] == "lifted"


def test_whole_municipality_alert_reaches_every_known_region_and_later_ones() -> None:
    platform = Platform()
    town(platform)
    platform.feed(ALERTS, f.alert("W1", "issued", 5, "2026-07-01", 1, whole=True))
    assert everyone(platform, "W1") == {CONSENTED, NOT_CONSENTED, PROTECTED}
    newcomer = "000000000000399"
    platform.feed(
        REG, f.moved_in(newcomer, "2026-07-01", 1, where=f.ADDRESS_B, hh=f.household("0000000399"))
    )
    platform.feed(CARE, f.care(newcomer, "2026-07-01", 1, "25"))
    assert keys(listed(platform, "W1", f.REGION_B)) == {newcomer}
    platform.feed(ALERTS, f.alert("W1", "lifted", 5, "2026-07-02", 2, whole=True))
    assert listed(platform, "W1")["status"] == "lifted"
    assert listed(platform, "W1", f.REGION_B)["status"] == "lifted"


def test_household_contact_names_the_head() -> None:
    platform = Platform()
    head, elder = "000000000000401", "000000000000402"
    platform.feed(
        REG,
        f.moved_in(
            head,
            "2026-04-01",
            1,
            who=f.person(family="佐藤", given="一郎"),
            hh=f.household("0000000401"),
        ),
    )
    platform.feed(
        REG,
        f.moved_in(
            elder,
            "2026-04-01",
            1,
            who=f.person(family="佐藤", given="ハナ"),
            hh=f.household("0000000401", head=False),
        ),
    )
    platform.feed(CARE, f.care(elder, "2026-05-01", 1, "25"))
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    person = listed(platform, "A1")["persons"][0]
    assert person["resident_key"] == elder
    assert person["household_head_name"] == "佐藤　一郎"


def test_replaying_facts_into_the_evacuation_stage_changes_nothing() -> None:
    platform = Platform()
    town(platform)
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    facts = [d for t, _, d in platform.log if t == "internal.resident.facts"]
    sim: EvacuationSim = platform.evacuation
    before = dict(sim.regions)
    for datum in facts:
        assert sim.feed_facts(datum) == []
    assert sim.regions == before


def test_moving_out_of_the_municipality_or_dying_takes_a_person_off_the_list() -> None:
    platform = Platform()
    town(platform)
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    platform.feed(REG, f.moved_out(CONSENTED, "2026-07-01", 3))
    platform.feed(REG, f.died(NOT_CONSENTED, "2026-07-01", 3))
    assert keys(listed(platform, "A1")) == set()
    assert everyone(platform, "A1") == {PROTECTED}


def test_consent_given_during_a_level_3_alert_re_emits_the_list() -> None:
    platform = Platform()
    town(platform)
    platform.feed(ALERTS, f.alert("A1", "issued", 3, "2026-07-01", 1, regions=(f.REGION_A,)))
    assert NOT_CONSENTED not in keys(listed(platform, "A1"))
    platform.feed(CARE, f.care(NOT_CONSENTED, "2026-07-01", 2, "23", consent=True))
    record = listed(platform, "A1")
    assert NOT_CONSENTED in keys(record) and record["mode"] == "normal"


def test_level_raised_from_3_to_4_switches_to_disaster_mode() -> None:
    platform = Platform()
    town(platform)
    platform.feed(ALERTS, f.alert("A1", "issued", 3, "2026-07-01", 1, regions=(f.REGION_A,)))
    platform.feed(
        ALERTS, f.alert("A1", "updated", 4, "2026-07-01", 2, regions=(f.REGION_A,), hour=11)
    )
    record = listed(platform, "A1")
    assert record["mode"] == "disaster" and record["level"] == 4
    assert everyone(platform, "A1") == {CONSENTED, NOT_CONSENTED, PROTECTED}
