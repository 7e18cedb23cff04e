"""The audit on the simulator's municipality and on a 200 000-resident one (no Kafka)."""

from __future__ import annotations

import datetime as dt

import pytest

from renkei.disclosure.job import release_all
from renkei.disclosure.release import DisclosureRules
from renkei.disclosure.simulated import simulated_people
from renkei.disclosure.table import UNALLOCATED

AT = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)


def _release(municipality: str, residents: int, events: int):  # type: ignore[no-untyped-def]
    people, day = simulated_people(municipality, residents, events, seed=7)
    releases, refused = release_all(
        people, DisclosureRules(), b"t" * 32, cut_at=AT, reference_date=day, previous={}
    )
    assert not refused, [str(r) for r in refused]
    return people, releases


def test_the_audit_passes_on_the_simulators_municipality() -> None:
    # 札幌市中央区 (renkei simulate's default), a year and more of changes: moves, checkups,
    # 支援措置.
    people, [release] = _release("011011", 4000, 3000)
    assert any(p.town is None for p in people), "the run should hold a protected resident"
    audit = release.suppression.audit
    assert audit.passed and audit.intervals
    assert min(i.width for i in audit.intervals) >= 10
    assert all(cell[0] != UNALLOCATED for cell in release.shown)


@pytest.mark.timeout(1200)
def test_the_audit_passes_on_a_200k_resident_municipality() -> None:
    # 府中市 (東京都), 200 000 simulated residents.
    people, [release] = _release("132063", 200_000, 0)
    assert len(people) >= 199_000
    audit = release.suppression.audit
    assert audit.passed and min(i.width for i in audit.intervals) >= 10
    assert len(release.table.towns) >= 30
