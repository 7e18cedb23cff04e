"""Pure pieces of `renkei bench`: percentiles, spreads, workload helpers, the table, options."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from renkei.bench.report import percentile, spread_percent, table
from renkei.bench.workload import alert_value, replicated
from renkei.cli import cli


def test_percentile_of_a_known_distribution() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 50) == pytest.approx(50.5)
    assert percentile(samples, 99) == pytest.approx(99.01)
    assert percentile([], 99) is None
    assert percentile([7.0], 99) == 7.0


def test_p99_follows_the_slowest_sample() -> None:
    assert percentile([10.0] * 99 + [5000.0], 99) > percentile([10.0] * 100, 99)  # type: ignore[operator]


def test_spread_is_range_over_median() -> None:
    assert spread_percent([90.0, 100.0, 110.0]) == 20.0
    assert spread_percent([100.0]) is None


def test_replicated_repeats_up_to_count() -> None:
    values = [(b"a", b"1"), (b"b", b"2")]
    assert replicated(values, 5) == [*values, *values, values[0]]
    assert replicated([], 5) == []


def test_alert_value_is_a_valid_alert(catalogue) -> None:  # type: ignore[no-untyped-def]
    from renkei.schemas.models import RecordValidator

    spec = catalogue.get("disaster.area.alerts")
    value = alert_value("133621", "133621:1000301", "a1", "lifted", 3)
    RecordValidator(spec.schema).validate(value)  # raises when a field is missing or malformed
    assert value["lifted_at"] is not None and value["target_region_codes"] == ["133621:1000301"]


def test_table_lists_medians_and_runs() -> None:
    results = {
        "machine": {
            "nproc": 2,
            "cpu_model": "x",
            "ram_gib": 1.0,
            "python": "3.11",
            "load_average_1m": 0.1,
        },
        "parameters": {"runs": 3},
        "l1_events_per_s": 1000.0,
        "runs_detail": {"l1_events_per_s": [900.0, 1000.0, 1100.0]},
        "warnings": ["careful"],
    }
    text = "\n".join(table(results))
    assert "l1_events_per_s" in text and "900, 1,000, 1,100" in text
    assert "warning: careful" in text and "l2_events_per_s" not in text


def test_only_refuses_unknown_figures() -> None:
    result = CliRunner().invoke(cli, ["bench", "--only", "l1,bogus"])
    assert result.exit_code != 0
    assert "bogus" in result.output


def test_help_names_the_load_subcommand() -> None:
    result = CliRunner().invoke(cli, ["bench", "--help"])
    assert result.exit_code == 0
    assert "load" in result.output and "--only" in result.output
