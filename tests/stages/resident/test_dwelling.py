"""支援措置 covers everyone at the protected address and the named persons, before the first
output (issue 12, findings 1 and 2): through the resident → evacuation flow, no broker."""

from __future__ import annotations

import json
from typing import Any

from renkei.schemas.compat import explain
from tests.stages import factories as f
from tests.stages.pipeline import Platform

REG = "std.registry.resident.events"
CARE = "std.welfare.care.certifications"
ALERTS = "std.disaster.area.alerts"
DAUGHTER, MOTHER, NEIGHBOUR, SISTER = (
    "000000000000601",
    "000000000000602",
    "000000000000603",
    "000000000000604",
)
HOME = f.address(rest="8番8号")
ELSEWHERE = f.address(rest="2番2号")
FORBIDDEN_HOME = (HOME["address_text"], HOME["town"], f.REGION_A)


def _shows(record: dict[str, Any], *texts: str) -> list[str]:
    """Which of ``texts`` appear anywhere in ``record`` (empty: none)."""
    text = json.dumps(record, ensure_ascii=False, default=str)
    return [t for t in texts if t in text]


def _outputs_of(platform: Platform, key: str) -> list[dict[str, Any]]:
    return [d for t, k, d in platform.log if t == "unified.resident" and k == key]


def _split_household_at_one_address(platform: Platform) -> None:
    """世帯分離 at one address: the daughter (applicant) and her mother in two households."""
    platform.feed(
        REG,
        f.moved_in(
            DAUGHTER,
            "2026-04-01",
            1,
            who=f.person(given="美咲", birth="1990-01-01", sex="female"),
            where=HOME,
            hh=f.household("7000000601"),
        ),
    )
    platform.feed(
        REG,
        f.moved_in(
            MOTHER,
            "2026-04-01",
            1,
            who=f.person(given="和子", birth="1940-01-01", sex="female"),
            where=HOME,
            hh=f.household("7000000602"),
        ),
    )
    platform.feed(CARE, f.care(MOTHER, "2026-05-01", 1, "25", consent=True))
    platform.feed(
        REG, f.moved_in(NEIGHBOUR, "2026-04-01", 1, where=ELSEWHERE, hh=f.household("7000000603"))
    )
    platform.feed(CARE, f.care(NEIGHBOUR, "2026-05-01", 1, "25", consent=True))


def test_the_mother_at_the_protected_address_is_covered_whatever_her_household() -> None:
    platform = Platform()
    _split_household_at_one_address(platform)
    platform.feed(REG, f.protection_set(DAUGHTER, "2026-06-01", 2))
    mother = platform.latest("unified.resident")[MOTHER]
    assert mother["address"] is None and mother["address_redacted"] and mother["protected"]
    assert mother["region_code"] == f.MUNI
    assert mother["household"]["household_number"] == ""
    assert _shows(mother, *FORBIDDEN_HOME, "7000000602") == []
    neighbour = platform.latest("unified.resident")[NEIGHBOUR]
    assert neighbour["address"]["address_text"] == ELSEWHERE["address_text"]  # not covered


def test_alert_lists_the_mother_at_municipality_level_without_address_or_household() -> None:
    platform = Platform()
    _split_household_at_one_address(platform)
    platform.feed(REG, f.protection_set(DAUGHTER, "2026-06-01", 2))
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    lists = platform.latest("derived.evacuation-support")
    town = lists[f"A1:{f.REGION_A}"]
    assert [p["resident_key"] for p in town["persons"]] == [NEIGHBOUR]
    municipality = lists[f"A1:{f.MUNI}"]
    assert municipality["region_code"] == f.MUNI
    (mother,) = municipality["persons"]  # her safety first: listed, at a level that hides her
    assert mother["resident_key"] == MOTHER and mother["address_withheld"] is True
    assert mother["address"] is None and mother["household_number"] == ""
    assert mother["household_head_name"] is None
    assert _shows(municipality, *FORBIDDEN_HOME, "7000000602", "7000000601") == []
    f.assert_fits("derived.evacuation-support", municipality)


def test_a_protected_person_is_never_on_a_town_list() -> None:
    """Main kept her on the 町域 list with her household number and head name."""
    platform = Platform()
    _split_household_at_one_address(platform)
    platform.feed(CARE, f.care(DAUGHTER, "2026-05-01", 1, "25"))
    platform.feed(REG, f.protection_set(DAUGHTER, "2026-06-01", 2))
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    for key, record in platform.latest("derived.evacuation-support").items():
        for person in record["persons"]:
            if person["resident_key"] in (DAUGHTER, MOTHER):
                assert key == f"A1:{f.MUNI}"
                assert person["household_number"] == "" and person["household_head_name"] is None


def test_an_alert_elsewhere_in_the_municipality_does_not_list_her() -> None:
    platform = Platform()
    _split_household_at_one_address(platform)
    platform.feed(REG, f.protection_set(DAUGHTER, "2026-06-01", 2))
    platform.feed(ALERTS, f.alert("B1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_B,)))
    municipality = platform.latest("derived.evacuation-support")[f"B1:{f.MUNI}"]
    assert municipality["persons"] == [] and municipality["status"] == "active"


def test_a_named_person_at_another_address_is_covered() -> None:
    platform = Platform()
    _split_household_at_one_address(platform)
    platform.feed(
        REG, f.moved_in(SISTER, "2026-04-01", 1, where=f.ADDRESS_B, hh=f.household("7000000604"))
    )
    assert platform.latest("unified.resident")[SISTER]["address"] is not None
    platform.feed(REG, f.protection_set(DAUGHTER, "2026-06-01", 2, named=(SISTER,)))
    sister = platform.latest("unified.resident")[SISTER]
    assert sister["address"] is None and sister["protected"]
    assert sister["household"]["household_number"] == ""
    platform.feed(REG, f.protection_lifted(DAUGHTER, "2026-09-01", 3))
    assert platform.latest("unified.resident")[SISTER]["address"] is not None


def test_moving_into_a_protected_address_never_publishes_it() -> None:
    """The mother joins her protected daughter later: not even her first record has it."""
    platform = Platform()
    platform.feed(
        REG,
        f.moved_in(
            DAUGHTER,
            "2026-04-01",
            1,
            where=HOME,
            hh=f.household("7000000601"),
            protection=f.protected_status(),
        ),
    )
    platform.feed(
        REG, f.moved_in(MOTHER, "2026-06-01", 1, where=HOME, hh=f.household("7000000602"))
    )
    mother = _outputs_of(platform, MOTHER)
    assert mother and all(r["address"] is None for r in mother)
    assert not any(_shows(r, *FORBIDDEN_HOME) for r in mother)


def test_a_protection_stated_with_the_move_in_is_known_before_the_first_output() -> None:
    """Main published the full address on the move-in and redacted only on the later
    protection_set: now the move-in's own ``protection`` redacts the very first record."""
    platform = Platform()
    platform.feed(
        REG,
        f.moved_in(
            DAUGHTER,
            "2026-04-01",
            1,
            where=HOME,
            hh=f.household("7000000601"),
            protection=f.protected_status(),
        ),
    )
    records = _outputs_of(platform, DAUGHTER)
    assert records and all(r["address"] is None and r["protected"] for r in records)
    facts = [d for t, k, d in platform.log if t == "internal.resident.facts" and k == DAUGHTER]
    assert facts and all(d["protected"] for d in facts)


def test_an_address_without_a_stated_status_is_withheld_until_one_is_stated() -> None:
    platform = Platform()
    platform.feed(
        REG,
        f.moved_in(
            NEIGHBOUR,
            "2026-04-01",
            1,
            where=ELSEWHERE,
            hh=f.household("7000000603"),
            protection=None,
        ),
    )
    first = platform.latest("unified.resident")[NEIGHBOUR]
    assert first["address"] is None and first["address_redacted"]
    assert first["protected"] is False  # withheld, yet nobody says she is protected
    platform.feed(
        REG,
        f.moved_within(NEIGHBOUR, "2026-05-01", 2, where=f.ADDRESS_B, hh=f.household("7000000603")),
    )
    stated = platform.latest("unified.resident")[NEIGHBOUR]
    assert stated["address"]["address_text"] == f.ADDRESS_B["address_text"]


def test_every_output_waits_for_the_address_answer() -> None:
    """Until the address group has answered, the resident stage emits nothing at all."""
    from renkei.stages.resident import flow as resident_flow

    residents: dict[str, Any] = {}
    result = resident_flow.handle_registry_event(
        residents, f.moved_in(MOTHER, "2026-04-01", 1, where=HOME)
    )
    assert result.outputs == []
    assert any(m.get("scope") == "address" for _, m in result.messages)


def test_the_protection_fields_keep_the_schemas_full_transitive() -> None:
    """Reading with and without ``protection`` / ``named_resident_keys`` works both ways."""
    for topic in ("registry.resident.events", "std.registry.resident.events"):
        new = f.spec(topic).schema
        old = json.loads(json.dumps(new))
        detail = next(x for x in old["fields"] if x["name"] == "detail")
        for branch in detail["type"]:
            names = [x["name"] for x in branch["fields"]]
            branch["fields"] = [
                x
                for x in branch["fields"]
                if x["name"] not in ("protection", "named_resident_keys")
            ]
            assert len(branch["fields"]) < len(names) or branch["name"] not in (
                "MovedIn",
                "MovedWithin",
                "Born",
                "Corrected",
                "ProtectionSet",
            )
        assert explain("FULL_TRANSITIVE", new, [old]) == [], topic
