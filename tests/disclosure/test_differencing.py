"""Differencing between consecutive snapshots: one resident changed, what do the figures say?

The attacks of the issue, reproduced: a neighbour's checkup moving a metabolic-syndrome rate
from 12/40 to 13/41, a protected resident moving in with a child, and the set of cells that
moved pointing at the one who changed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from renkei.disclosure.microdata import Person, person_from_facts
from renkei.disclosure.perturbation import DEFAULT_ALPHA, noise, noise_probability, perturbed
from renkei.disclosure.release import DisclosureRules, Release, release_table
from renkei.disclosure.table import TOTAL, UNALLOCATED, Cell, SnapshotTable, build_table, cell_name
from renkei.privacy.protection import suppress_small_cells

TOWN = "011011:0640941"
OTHER = "011011:0640942"
DAY = dt.date(2026, 10, 1)
AT = dt.datetime(2026, 10, 1, 15, 0, tzinfo=dt.UTC)
K = 10


def _residents(town: str, count: int, age: int, tag: str, **facts: object) -> list[Person]:
    return [
        Person(f"{tag}{i:04d}", "011011", town, age, **facts)  # type: ignore[arg-type]
        for i in range(count)
    ]


def _neighbourhood() -> list[Person]:
    """TOWN: 40 judged (12 meet) among 60 residents aged 40–74; OTHER: a bigger 町域."""
    people = _residents(TOWN, 12, 55, "m", checkup_fy=2026, metabolic="meets", head=True)
    people += _residents(TOWN, 28, 60, "n", checkup_fy=2026, metabolic="none")
    people += _residents(TOWN, 20, 45, "u")
    people += _residents(OTHER, 90, 35, "o", head=True, child_household=True)
    people += _residents(OTHER, 60, 70, "p", checkup_fy=2026, metabolic="borderline")
    return people


def _release(people: list[Person], secret: bytes = b"s" * 32) -> Release:
    table = build_table("011011", people)
    return release_table(table, DisclosureRules(), secret, recorded_at=AT, reference_date=DAY)


def _shown(release: Release) -> dict[Cell, int]:
    return dict(release.shown)


NEIGHBOUR = Person("neighbour", "011011", TOWN, 58)


def test_the_unperturbed_figures_give_the_neighbour_away() -> None:
    """What unified.region shows today: 12/40 → 13/41 says she meets, 12/40 → 12/41 not."""

    def rate(meets: int, judged: int) -> float | None:
        figures = {"age_bands": {}, "net_migration_child_rearing_households": (0, 0)}
        figures |= {"checkup_participation_rate": (0, 0)}
        figures["metabolic_syndrome_rate"] = (meets, judged)
        return suppress_small_cells(figures, K)["metabolic_syndrome_rate"]  # type: ignore[no-any-return]

    assert rate(13, 41) != rate(12, 41)


def _hypotheses() -> tuple[SnapshotTable, SnapshotTable, SnapshotTable]:
    before = _neighbourhood()
    meets = Person("neighbour", "011011", TOWN, 58, checkup_fy=2026, metabolic="meets")
    not_meets = Person("neighbour", "011011", TOWN, 58, checkup_fy=2026, metabolic="none")
    return (
        build_table("011011", [*before, NEIGHBOUR]),
        build_table("011011", [*before, meets]),
        build_table("011011", [*before, not_meets]),
    )


def test_the_rate_attack_12_of_40_to_13_of_41() -> None:
    before, meets, not_meets = _hypotheses()
    numerator, denominator = (TOWN, "metabolic_meets"), (TOWN, "checkup_judged")
    assert (before.value(numerator), before.value(denominator)) == (12, 40)
    assert (meets.value(numerator), meets.value(denominator)) == (13, 41)
    assert (not_meets.value(numerator), not_meets.value(denominator)) == (12, 41)
    # The attacker's rule: "the published numerator went up, so she meets". Over many
    # secrets (the attacker does not know ours), how often is it right?
    right = 0
    trials = 600
    seen: dict[str, Counter[int]] = {"meets": Counter(), "none": Counter()}
    for n in range(trials):
        secret = f"secret-{n}".encode()
        old = perturbed(12, K, secret, before.digest, cell_name(numerator), DEFAULT_ALPHA)
        truth = "meets" if n % 2 else "none"
        table = meets if truth == "meets" else not_meets
        new = perturbed(
            table.value(numerator), K, secret, table.digest, cell_name(numerator), DEFAULT_ALPHA
        )
        seen[truth][new] += 1
        right += (new > old) == (truth == "meets")
    # Unperturbed the rule is always right; perturbed it is a guess that often fails.
    assert right / trials < 0.75
    # And no published value is possible under one answer only (both have mass everywhere
    # the other has, within sampling).
    common = set(seen["meets"]) & set(seen["none"])
    mass = sum(seen["meets"][v] for v in common) / sum(seen["meets"].values())
    assert mass > 0.9


def test_which_cells_moved_does_not_point_at_the_one_who_changed() -> None:
    before, meets, _ = _hypotheses()
    first = _release([*_neighbourhood(), NEIGHBOUR])
    examined = Person("neighbour", "011011", TOWN, 58, checkup_fy=2026, metabolic="meets")
    second = _release([*_neighbourhood(), examined])
    a, b = _shown(first), _shown(second)
    common = set(a) & set(b)
    untouched = [c for c in common if before.value(c) == meets.value(c)]
    moved = [c for c in untouched if a[c] != b[c]]
    # With a cell key from the cell's own records (ABS), none of these would move, and the few
    # cells that did would be hers. Here a change anywhere re-keys the whole table.
    assert len(untouched) >= 8
    assert len(moved) / len(untouched) > 0.4


def test_the_same_data_gives_the_same_snapshot() -> None:
    """Nothing changed, nothing moves: no fresh draw for an attacker to average."""
    people = [*_neighbourhood(), NEIGHBOUR]
    assert _shown(_release(people)) == _shown(_release(list(reversed(people))))


def test_a_protected_resident_moving_in_with_her_child_touches_no_town() -> None:
    base = _neighbourhood()
    facts = {
        "status": "residing",
        "region_code": TOWN,
        "protected": True,
        "is_head": True,
        "has_child_under_15": True,
    }
    mother = person_from_facts({**facts, "resident_key": "dv-1", "birth_date": "1990-05-01"}, DAY)
    child = person_from_facts(
        {**facts, "resident_key": "dv-2", "birth_date": "2020-05-01", "is_head": False}, DAY
    )
    assert mother is not None and child is not None and mother.town is None
    before = build_table("011011", base)
    after = build_table("011011", [*base, mother, child])
    for town in before.towns:
        for column in ("population", "households", "households_with_children_under_15"):
            assert before.value((town, column)) == after.value((town, column)), (town, column)
    assert after.value((UNALLOCATED, "population")) == 2
    assert after.value((TOTAL, "population")) == before.value((TOTAL, "population")) + 2
    release = _release([*base, mother, child])
    codes = [r["region_code"] for r in release.record["regions"]]
    assert UNALLOCATED not in codes and codes[-1] == "011011"
    assert all(cell[0] != UNALLOCATED for cell in release.shown)


def test_the_noise_is_the_two_sided_geometric_distribution() -> None:
    draws = Counter(noise(b"k" * 32, "digest", f"cell-{i}") for i in range(20000))
    for z in (-2, -1, 0, 1, 2):
        assert abs(draws[z] / 20000 - noise_probability(z)) < 0.015, z
    mean = sum(z * n for z, n in draws.items()) / 20000
    assert abs(mean) < 0.05
