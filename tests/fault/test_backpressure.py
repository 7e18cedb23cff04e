"""Scenario g: publishing at about 3x the standardize stage's capacity for minutes.

The stage's capacity is measured first (a burst of the pool, drained by the worker), then the
pool is published again and again at three times that rate for RENKEI_FAULT_BACKPRESSURE_SECONDS
(default 45 s; `make fault` runs 180 s; not in CI: ``fault_full``). The worker's RSS is sampled every second: a stage that
buffered what it cannot process would grow without bound. Afterwards the consumer lag must
drain to zero and every acked record must have been standardized.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import threading
import time
from pathlib import Path

import pytest

from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from tests.fault import harness as h

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.fault,
    pytest.mark.fault_full,
    pytest.mark.timeout(1800),
]
RSS_LIMIT_MB = 1024.0


def _duration() -> float:
    return float(os.environ.get("RENKEI_FAULT_BACKPRESSURE_SECONDS", "45"))


def _std_total(settings: Settings, prefix: str) -> int:
    return sum(asyncio.run(h.end_offsets(settings, h.std_topics(prefix))).values())


def _capacity(settings: Settings, prefix: str, expected: int, timeout: float = 300) -> float:
    """Records per second the running worker standardized while draining ``expected``."""
    deadline = time.monotonic() + timeout
    first: tuple[float, int] | None = None
    while time.monotonic() < deadline:
        total = _std_total(settings, prefix)
        now = time.monotonic()
        if first is None and total > 0:
            first = (now, total)
        if total >= expected and first is not None:
            return (total - first[1]) / max(now - first[0], 1e-3)
        time.sleep(0.5)
    raise AssertionError(f"calibration burst not drained in {timeout}s")


class _Sampler:
    """RSS of a process once a second, in a thread."""

    def __init__(self, pid: int):
        self.samples: list[float] = []
        self._stop = threading.Event()

        def run() -> None:
            while not self._stop.wait(1.0):
                self.samples.append(h.rss_mb(pid))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join(5)
        return self.samples


def test_g_backpressure_three_times_capacity(
    live_stack: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    settings, prefix, duration = live_stack, h.new_prefix("g"), _duration()
    group = f"{prefix}renkei-standardize"
    asyncio.run(h.prepare_topics(settings, catalogue, prefix))
    pool = asyncio.run(h.encode_load(settings, catalogue, prefix, h.simulated(8000, 0, 21)))
    inputs = [prefix + t for t in h.DEPARTMENT_TOPICS]
    workers = h.Workers(prefix, tmp_path)
    worker = workers.start("standardize")
    worker.wait_for("partitions assigned", timeout=120)
    sampler = _Sampler(worker.process.pid)
    try:
        result = asyncio.run(h.publish(settings, pool))
        capacity = _capacity(settings, prefix, len(pool))
        rate = 3 * capacity
        flood = list(itertools.islice(itertools.cycle(pool), int(rate * duration)))
        started = time.monotonic()
        asyncio.run(h.publish(settings, flood, rate=rate, result=result))
        stopped = time.monotonic()
        achieved = len(flood) / (stopped - started)
        lag_at_end = asyncio.run(h.group_lag(settings, group, inputs))
        drained = h.poll(
            lambda: asyncio.run(h.group_lag(settings, group, inputs)) == 0,
            timeout=max(8 * duration, 480),
            interval=2.0,
        )
        drain_s = time.monotonic() - stopped
        samples = sampler.stop()
        schemas = h.SchemaCache(settings.schema_registry_url)
        out = asyncio.run(h.wait_arrived(settings, prefix, schemas, result.acked, timeout=120))
    finally:
        sampler.stop()
        failures = workers.stop_all()
    tally = h.account(
        f"g backpressure {duration:.0f} s",
        result,
        out,
        schemas,
        note=(
            f"capacity {capacity:.0f}/s, offered {achieved:.0f}/s ({achieved / capacity:.1f}x); "
            f"lag {lag_at_end} when publishing stopped, drained in {drain_s:.0f} s; worker RSS "
            f"{min(samples):.0f}-{max(samples):.0f} MB (median {statistics.median(samples):.0f})"
        ),
    )
    tally.report()
    assert not failures, failures
    assert tally.lost == 0 and result.failed == 0
    assert lag_at_end > 0, "the stage kept up: the load was not over capacity"
    assert drained, "the consumer lag did not drain"
    assert max(samples) < RSS_LIMIT_MB
    h.cleanup(settings, prefix)
