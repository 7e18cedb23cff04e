"""The evacuation stage does no O(candidates) work for a resident who is no candidate.

A region value holds every candidate of the region; rewriting it (and rebuilding its lists)
for each of its other residents made an initial load quadratic. The outcome must be the same.
"""

from __future__ import annotations

from typing import Any

from renkei.stages.evacuation import flow as evacuation_flow
from tests.stages import factories as f
from tests.stages.pipeline import Platform

REG = "std.registry.resident.events"
CARE = "std.welfare.care.certifications"
ALERTS = "std.disaster.area.alerts"
ELDER, OTHER = "000000000000501", "000000000000502"


class CountingTable(dict[str, Any]):
    """A dict that records which keys were written."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.written: list[str] = []

    def __setitem__(self, key: str, value: Any) -> None:
        self.written.append(key)
        super().__setitem__(key, value)


def test_a_non_candidate_changes_no_region_value_and_no_list() -> None:
    platform = Platform()
    platform.feed(REG, f.moved_in(ELDER, "2026-04-01", 1, hh=f.household("0000000501")))
    platform.feed(CARE, f.care(ELDER, "2026-05-01", 1, "25", consent=True))
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    sim = platform.evacuation
    counting = CountingTable(sim.regions)
    sim.regions = counting
    outputs = platform.feed(REG, f.moved_in(OTHER, "2026-04-02", 1, hh=f.household("0000000502")))
    assert [r for r in outputs if r[0] == "derived.evacuation-support"] == []
    assert f.REGION_A not in counting.written  # the region value was not rewritten
    assert evacuation_flow.member_key(f.REGION_A, OTHER) in counting.written


def test_a_candidate_still_changes_the_list() -> None:
    platform = Platform()
    platform.feed(REG, f.moved_in(ELDER, "2026-04-01", 1, hh=f.household("0000000501")))
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    platform.feed(REG, f.moved_in(OTHER, "2026-04-02", 1, hh=f.household("0000000502")))
    platform.feed(CARE, f.care(OTHER, "2026-05-01", 1, "25", consent=True))
    listed = platform.latest("derived.evacuation-support")[f"A1:{f.REGION_A}"]
    assert OTHER in [p["resident_key"] for p in listed["persons"]]


class ReadCountingTable(CountingTable):
    """Also records which keys were read."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.read: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:
        self.read.append(key)
        return super().get(key, default)


def test_a_known_non_candidate_is_handled_without_reading_the_region_value() -> None:
    platform = Platform()
    platform.feed(REG, f.moved_in(ELDER, "2026-04-01", 1, hh=f.household("0000000501")))
    platform.feed(CARE, f.care(ELDER, "2026-05-01", 1, "25", consent=True))
    platform.feed(REG, f.moved_in(OTHER, "2026-04-02", 1, hh=f.household("0000000502")))
    platform.feed(ALERTS, f.alert("A1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,)))
    before = platform.latest("derived.evacuation-support")[f"A1:{f.REGION_A}"]
    sim = platform.evacuation
    reading = ReadCountingTable(sim.regions)
    sim.regions = reading
    outputs = platform.feed("std.health.checkup.results", f.checkup(OTHER, "2026-06-01", 1))
    assert reading.written  # the fact arrived and its member entry was stored
    assert f.REGION_A not in reading.read and f.REGION_A not in reading.written
    assert [r for r in outputs if r[0] == "derived.evacuation-support"] == []
    assert platform.latest("derived.evacuation-support")[f"A1:{f.REGION_A}"] == before
