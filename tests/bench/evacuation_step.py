"""CPU per routed fact of the evacuation stage's step, without Kafka or faust.

    python -m tests.bench.evacuation_step 2000

Residents of one region (every tenth a consenting care-level-5 candidate), one active alert,
then one checkup per resident; the step's table round-trips every value through orjson, as
faust's RocksDB store and changelog do. A measuring script, not a test (no timed assertion).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import orjson

from renkei.stages.evacuation import flow as evacuation_flow
from tests.stages import factories as f
from tests.stages.pipeline import Platform

REG = "std.registry.resident.events"
CARE = "std.welfare.care.certifications"


class JsonTable(dict[str, Any]):
    """A dict that stores values as JSON bytes (decoded on every read)."""

    def get(self, key: str, default: Any = None) -> Any:
        raw = super().get(key)
        return default if raw is None else orjson.loads(raw)

    def __getitem__(self, key: str) -> Any:
        return orjson.loads(super().__getitem__(key))

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, orjson.dumps(value))


def main(residents: int) -> None:
    platform = Platform()
    platform.evacuation.regions = JsonTable()
    keys = [f"{100000000000000 + n:015d}" for n in range(residents)]
    for n, key in enumerate(keys):
        platform.feed(REG, f.moved_in(key, "2026-04-01", 1, hh=f.household(f"{n:010d}")))
        if n % 10 == 0:
            platform.feed(CARE, f.care(key, "2026-05-01", 1, "25", consent=True))
    alert = f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,))
    platform.feed("std.disaster.area.alerts", alert)
    step = evacuation_flow.handle_region_message
    spent, calls = 0.0, 0

    def timed(*args: Any) -> Any:
        nonlocal spent, calls
        started = time.process_time()
        try:
            return step(*args)
        finally:
            spent += time.process_time() - started
            calls += 1

    evacuation_flow.handle_region_message = timed  # type: ignore[assignment]
    try:
        for key in keys:
            platform.feed("std.health.checkup.results", f.checkup(key, "2026-06-01", 1))
    finally:
        evacuation_flow.handle_region_message = step  # type: ignore[assignment]
    print(
        f"{residents} residents, {residents // 10} candidates, {calls} routed facts: "
        f"{1e6 * spent / max(calls, 1):.0f} µs CPU per routed fact in the evacuation step"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
