"""``renkei bench state``: the synthetic changelog records and the projection (pure logic)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from renkei.bench.state import Sample, StateOptions, changelog_topic, figures, synthetic
from renkei.cli.bench_state_cmd import state


def test_a_synthetic_record_replaces_the_identifier_in_key_and_value_keeping_its_length() -> None:
    template = (b'"000000513680112"', b'{"resident_id":"000000513680112","name":"x"}')
    key, value = synthetic(template, 42)
    assert key == b'"000000000000042"'
    assert value == b'{"resident_id":"000000000000042","name":"x"}'
    assert len(value) == len(template[1])
    assert synthetic(template, 43)[0] != key


def test_synthetic_identifiers_are_distinct_over_a_range() -> None:
    template = (b'"H000001234"', b"{}")
    keys = {synthetic(template, n)[0] for n in range(10_000)}
    assert len(keys) == 10_000
    assert synthetic(template, 7)[0] == b'"H000000007"'
    with pytest.raises(ValueError, match="does not fit"):
        synthetic(template, 10**9)


def test_a_hashed_household_key_gets_a_hex_identifier_of_the_same_length() -> None:
    template = (
        b'"addr:141097:39cebf4ad0b854bce7d1a0b6"',
        b'{"k":"addr:141097:39cebf4ad0b854bce7d1a0b6"}',
    )
    key, value = synthetic(template, 361)
    assert key == b'"addr:141097:000000000000000000000169"'
    assert value == b'{"k":"addr:141097:000000000000000000000169"}'


def test_the_changelog_topic_is_fausts_name_for_the_resident_stage() -> None:
    assert changelog_topic("bench-1.", "residents") == "bench-1.renkei-resident-residents-changelog"


def _sample() -> Sample:
    residents = [(f'"{n:015d}"'.encode(), b"{}") for n in range(10)]
    households = [(f'"H{n:09d}"'.encode(), b"{}") for n in range(4)]
    return Sample({"residents": residents, "households": households})


def test_the_slope_and_its_projection_to_four_million() -> None:
    runs = [
        {"residents": 250_000, "peak_rss_mb": 400},
        {"residents": 1_000_000, "peak_rss_mb": 1000},
    ]
    results = figures(StateOptions((250_000, 1_000_000), 10, "141097", 7000), _sample(), runs)
    assert results["households_per_resident"] == 0.4
    assert results["peak_rss_mb_per_million_residents"] == 800
    assert results["projected_peak_rss_mb_4m"] == 1000 + 3 * 800
    assert results["target_reached"] is False
    runs[1]["peak_rss_mb"] = 500
    assert figures(StateOptions((1,), 10, "x", 1), _sample(), runs)["target_reached"] is True


def test_one_size_gives_no_projection() -> None:
    runs = [{"residents": 1_000_000, "peak_rss_mb": 700}]
    results = figures(StateOptions((1_000_000,), 10, "141097", 7000), _sample(), runs)
    assert "projected_peak_rss_mb_4m" not in results


@pytest.mark.parametrize("sizes", ["abc", "10", ""])
def test_bad_sizes_are_refused_before_anything_runs(sizes: str) -> None:
    result = CliRunner().invoke(state, ["--sizes", sizes])
    assert result.exit_code == 2
    assert "--sizes" in result.output
