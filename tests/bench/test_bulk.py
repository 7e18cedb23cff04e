"""The latency-during-a-bulk-load figure's pure parts (bench/bulk.py, bench/suite.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from renkei.bench.bulk import bulk_targets, during, worker_has_bulk_lanes
from renkei.bench.latency import LatencySamples
from renkei.bench.suite import DuringBulk
from renkei.schemas.catalogue import load_catalogue

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue(REPO / "schemas" / "avro")
LOAD = ["registry.resident.events", "health.checkup.results", "economy.region.indicators"]


def test_the_bulk_load_goes_to_the_bulk_lanes_only_for_workers_that_have_them() -> None:
    assert bulk_targets(CATALOGUE, LOAD, lanes=True) == {
        "registry.resident.events": "registry.resident.events.bulk",
        "health.checkup.results": "health.checkup.results.bulk",
        "economy.region.indicators": "economy.region.indicators",  # no bulk lane
    }
    assert bulk_targets(CATALOGUE, LOAD, lanes=False) == {t: t for t in LOAD}


def test_this_checkouts_workers_have_bulk_lanes() -> None:
    assert worker_has_bulk_lanes(None)


def test_a_worker_python_that_cannot_say_has_none(tmp_path: Path) -> None:
    assert not worker_has_bulk_lanes(tmp_path / "no-such-python")


def test_only_samples_published_before_the_drain_count() -> None:
    assert during([5.0, 6.0, 7.0], [10.0, 11.0, 12.0], 11.0) == [5.0, 6.0]
    assert during([5.0, 6.0], [10.0, 11.0], None) == [5.0, 6.0]
    samples = LatencySamples(
        freshness_ms=[100.0, 200.0, 900.0],
        freshness_sent=[1000.0, 1001.0, 1030.0],
        list_ms=[300.0, 5000.0],
        list_sent=[1002.0, 1040.0],
        published=3,
        alerts=2,
    )
    drained = DuringBulk(samples, drain_s=20.0, drained=True, started=1000.0).figures()
    assert drained["freshness_p99_ms_bulk"] == pytest.approx(200.0, abs=1.0)
    assert drained["evacuation_list_p99_ms_bulk"] == 300.0
    assert (drained["bulk_freshness_samples"], drained["bulk_list_samples"]) == (2.0, 1.0)
    queued = DuringBulk(samples, drain_s=45.0, drained=False, started=1000.0)
    assert queued.figures()["bulk_freshness_samples"] == 3.0
    assert any("had not drained" in w for w in queued.warnings(1))
