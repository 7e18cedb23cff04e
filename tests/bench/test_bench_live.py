"""`renkei bench` end to end on the real broker and registry, scaled down to seconds.

These prove the figures are produced and sane (positive, from real workers); they assert no
timings: the machine running CI is not the benchmark machine.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from renkei.cli import cli
from tests.runtime.kafka_helpers import free_port_block

pytestmark = [pytest.mark.kafka]


def _bench(*args: str) -> dict[str, object]:
    port = free_port_block(4)
    result = CliRunner().invoke(
        cli, ["bench", "--json", "--runs", "1", "--web-port-base", str(port), *args]
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    data: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


@pytest.mark.timeout(300)
def test_baselines_and_standardize_figures() -> None:
    data = _bench(
        "--only",
        "l1,l2,standardize",
        "--duration",
        "2",
        "--warmup",
        "0",
        "--residents",
        "200",
        "--baseline-records",
        "2000",
        "--std-records",
        "4000",
    )
    for key in ("l1_events_per_s", "l2_events_per_s", "standardize_events_per_s"):
        assert isinstance(data[key], float) and data[key] > 0, key
    assert data["standardize_vs_l2_percent"] is not None
    assert data["standardize_cpu_ms_per_1k"] > 0  # type: ignore[operator]
    machine = data["machine"]
    assert isinstance(machine, dict) and machine["nproc"] >= 1
    assert data["parameters"]["only"] == "l1,l2,standardize"  # type: ignore[index]


@pytest.mark.timeout(480)
def test_pipeline_drain_freshness_and_evacuation_list() -> None:
    data = _bench(
        "--only",
        "pipeline,latency",
        "--duration",
        "6",
        "--residents",
        "300",
        "--rate",
        "20",
        "--alert-every",
        "2",
    )
    assert data["pipeline_events_per_s"] > 0  # type: ignore[operator]
    # every alert of the window got its list, and published changes reached unified.resident
    assert data["evacuation_list_p99_ms"] is not None
    assert data["freshness_p99_ms"] is not None
    assert not [w for w in data["warnings"] if "got no list" in w]  # type: ignore[union-attr]
