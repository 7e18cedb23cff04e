"""Scenarios a and b: stage workers killed with SIGKILL, and a stage rebalanced, mid-load.

The standardize and resident workers run as ``renkei worker STAGE`` subprocesses on the shared
stack while a publisher sends the simulated load at a steady rate. Afterwards every acked
record must have been standardized (lost = 0) and the latest value per key of ``std.*``,
``unified.resident`` and ``internal.resident.facts`` must equal the clean run's.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from tests.fault import harness as h
from tests.fault import pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.fault, pytest.mark.timeout(900)]
RATE = 45.0
"""Records per second: the ~1,800-record load takes about 40 s to publish."""


def test_a_stage_workers_killed_three_times(
    live_stack: Settings, catalogue: Catalogue, clean_outcome: pipeline.Outcome, tmp_path: Path
) -> None:
    settings, prefix = live_stack, h.new_prefix("a")
    records = asyncio.run(pipeline.load(settings, catalogue, prefix))
    workers = h.Workers(prefix, tmp_path)
    schemas = h.SchemaCache(settings.schema_registry_url)  # one cache: settle and account share it
    for stage in pipeline.STAGES:
        workers.start(stage)
    publisher = h.BackgroundPublisher(settings, records, RATE)
    kills = []
    try:
        for share, stage in ((0.15, "resident"), (0.4, "standardize"), (0.7, "resident")):
            where = pipeline.wait_progress(settings, prefix, share, clean_outcome)
            kills.append(f"{stage}@{where}")
            workers.kill(stage)
            workers.start(stage)
        result = publisher.join()
        outcome = pipeline.settle(settings, prefix, schemas, result)
    finally:
        failures = workers.stop_all()
    problems = pipeline.compare(clean_outcome, outcome)
    tally = h.account(
        "a kill -9 x3",
        result,
        outcome.records,
        schemas,
        note="killed " + ", ".join(kills) + " linked records",
        differing=len(problems),
    )
    tally.report()
    assert not failures, failures
    assert tally.lost == 0 and result.failed == 0
    assert problems == [], problems[:10]
    h.cleanup(settings, prefix)


@pytest.mark.fault_full
def test_b_worker_added_then_removed(
    live_stack: Settings, catalogue: Catalogue, clean_outcome: pipeline.Outcome, tmp_path: Path
) -> None:
    settings, prefix = live_stack, h.new_prefix("b")
    records = asyncio.run(pipeline.load(settings, catalogue, prefix))
    workers = h.Workers(prefix, tmp_path)
    schemas = h.SchemaCache(settings.schema_registry_url)  # one cache: settle and account share it
    for stage in pipeline.STAGES:
        workers.start(stage)
    publisher = h.BackgroundPublisher(settings, records, RATE)
    steps = []
    try:
        steps.append(f"resident+1@{pipeline.wait_progress(settings, prefix, 0.1, clean_outcome)}")
        second = workers.start("resident", instance=1)
        second.wait_for("partitions assigned", timeout=120)
        steps.append(f"standardize+1@{pipeline.progress(settings, prefix)}")
        workers.start("standardize", instance=1).wait_for("partitions assigned", timeout=180)
        where = pipeline.wait_progress(settings, prefix, 0.45, clean_outcome)
        steps.append(f"resident-1@{where}")
        assert workers.stop("resident", 0) == 0  # the first one leaves: its partitions move
        where = pipeline.wait_progress(settings, prefix, 0.6, clean_outcome)
        steps.append(f"standardize-1@{where}")
        assert workers.stop("standardize", 1) == 0
        result = publisher.join()
        outcome = pipeline.settle(settings, prefix, schemas, result)
    finally:
        failures = workers.stop_all()
    problems = pipeline.compare(clean_outcome, outcome)
    tally = h.account(
        "b rebalance",
        result,
        outcome.records,
        schemas,
        note="steps " + ", ".join(steps),
        differing=len(problems),
    )
    tally.report()
    assert not failures, failures
    assert tally.lost == 0 and result.failed == 0
    assert problems == [], problems[:10]
    h.cleanup(settings, prefix)
