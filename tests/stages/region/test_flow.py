"""unified.region: counts, moves between regions, migration, suppression, idempotency."""

from __future__ import annotations

from renkei.stages.region.state import K_THRESHOLD, suppress_small_cells
from tests.stages import factories as f
from tests.stages.pipeline import Platform, RegionSim

REG = "std.registry.resident.events"


def key(n: int) -> str:
    return f"{n:015d}"


def populate(
    platform: Platform,
    count: int,
    *,
    where: dict = f.ADDRESS_A,
    start: int = 1,
    birth: str = "1980-04-01",
    eff: str = "2026-04-01",
) -> None:
    for n in range(start, start + count):
        hh = f.household(f"{n:010d}")
        platform.feed(
            REG, f.moved_in(key(n), eff, 1, who=f.person(birth=birth), where=where, hh=hh)
        )


def region(platform: Platform, code: str) -> dict:
    return platform.latest("unified.region")[code]


def test_counts_per_town_area_and_municipality_with_suppression() -> None:
    platform = Platform()
    populate(platform, 12)
    populate(platform, 3, where=f.ADDRESS_B, start=100, birth="1940-01-01")
    town = region(platform, f.REGION_A)
    assert town["population"] == 12 and town["age_15_64"] == 12 and town["households"] == 12
    assert town["age_75_plus"] is None and "age_75_plus" in town["suppressed"]
    assert town["move_ins_today"] == 12 and town["move_ins_total"] == 12
    bands = {b["band"]: b["count"] for b in town["age_bands"]}
    assert bands["45-49"] == 12 and bands["0-4"] is None and "age_bands.0-4" in town["suppressed"]
    small = region(platform, f.REGION_B)
    assert small["population"] is None and small["evacuation_support_candidates"] is None
    municipality = region(platform, f.MUNI)
    assert municipality["population"] == 15 and municipality["move_ins_total"] == 15
    for datum in platform.latest("unified.region").values():
        f.assert_fits("unified.region", datum)
        assert datum["k_threshold"] == K_THRESHOLD


def test_moving_between_regions_removes_the_person_from_the_old_region() -> None:
    platform = Platform()
    populate(platform, 11)
    populate(platform, 10, where=f.ADDRESS_B, start=50)
    platform.feed(
        REG, f.moved_within(key(1), "2026-05-01", 2, where=f.ADDRESS_B, hh=f.household(f"{1:010d}"))
    )
    assert region(platform, f.REGION_A)["population"] == 10
    assert region(platform, f.REGION_B)["population"] == 11
    assert region(platform, f.MUNI)["population"] == 21
    assert region(platform, f.REGION_B)["move_ins_total"] == 10  # 転居 is not a 転入


def test_move_outs_and_deaths() -> None:
    platform = Platform()
    populate(platform, 25)
    for n in range(1, 12):
        platform.feed(REG, f.moved_out(key(n), "2026-06-01", 2))
    platform.feed(REG, f.died(key(20), "2026-06-01", 2))
    town = region(platform, f.REGION_A)
    assert town["population"] == 13
    assert town["move_outs_today"] == 11 and town["move_outs_total"] == 11
    assert str(town["day"]) == "2026-06-01"


def test_child_rearing_household_migration_counts_households_once() -> None:
    platform = Platform()
    for n in range(12):
        hh_number = f"{n:010d}"
        platform.feed(REG, f.moved_in(key(1000 + n), "2026-04-01", 1, hh=f.household(hh_number)))
        for c in range(2):  # two children each: still one household
            platform.feed(
                REG,
                f.moved_in(
                    key(2000 + 10 * n + c),
                    "2026-04-01",
                    1,
                    who=f.person(birth="2020-01-01"),
                    hh=f.household(hh_number, head=False),
                ),
            )
    town = region(platform, f.REGION_A)
    assert town["households_with_children_under_15"] == 12
    assert town["age_0_14"] == 24
    assert "net_migration_child_rearing_households" in town["suppressed"]  # no move-outs yet
    regions = platform.region.regions
    assert regions[f.REGION_A]["child_household_moves"] == [12, 0]


def test_replaying_facts_changes_nothing() -> None:
    platform = Platform()
    populate(platform, 12)
    facts = list(platform.latest("internal.resident.facts").values())
    before = dict(platform.region.regions)
    for datum in facts:
        assert platform.region.feed_facts(datum) == []
    assert platform.region.regions == before


def test_checkup_rates_and_indicators() -> None:
    platform = Platform()
    populate(platform, 20)
    for n in range(1, 11):
        platform.feed(
            "std.health.checkup.results", f.checkup(key(n), "2026-06-01", 1, metabolic="meets")
        )
    platform.feed(
        "std.economy.region.indicators",
        f.indicators(f.REGION_A, "2026-07-01", 1, "2026-06-30", {"事業所数": 128.0}),
    )
    platform.feed(
        "std.economy.region.indicators",
        f.indicators(f.REGION_A, "2026-07-02", 2, "2026-05-31", {"事業所数": 99.0}),
    )
    town = region(platform, f.REGION_A)
    assert town["checkup_fiscal_year"] == 2026 and town["checkup_participants"] == 10
    assert town["checkup_participation_rate"] == 0.5
    assert town["metabolic_syndrome_rate"] == 1.0
    assert [(i["name"], i["value"]) for i in town["indicators"]] == [("事業所数", 128.0)]


def test_suppression_is_one_rule_for_counts_rates_and_net_figures() -> None:
    figures = {name: 10 for name in ("population", "households")}
    figures.update(
        age_bands={"0-4": 9},
        net_migration_child_rearing_households=(12, 3),
        checkup_participation_rate=(5, 100),
        metabolic_syndrome_rate=(10, 20),
    )
    out = suppress_small_cells(figures)
    assert out["population"] == 10 and out["households"] == 10
    assert out["age_0_14"] is None and "age_0_14" in out["suppressed"]
    assert "age_bands.0-4" in out["suppressed"]
    assert out["net_migration_child_rearing_households"] is None
    assert out["checkup_participation_rate"] is None
    assert out["metabolic_syndrome_rate"] == 0.5


def test_region_sim_alone_dedups_redelivered_messages() -> None:
    platform = Platform()
    populate(platform, 1)
    facts = next(iter(platform.latest("internal.resident.facts").values()))
    sim = RegionSim()
    assert sim.feed_facts(facts) != []
    assert sim.feed_facts(facts) == []
