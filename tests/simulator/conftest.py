"""One shared simulated run: generating it once keeps the suite fast."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from renkei.simulator import SimulatedEvent, Simulation, simulate

MUNICIPALITY = "011011"  # 札幌市中央区


@dataclass(frozen=True)
class Run:
    simulation: Simulation
    events: list[SimulatedEvent]

    @property
    def snapshot(self) -> list[SimulatedEvent]:
        return self.events[: self.simulation.snapshot_count]

    @property
    def changes(self) -> list[SimulatedEvent]:
        return self.events[self.simulation.snapshot_count :]


@pytest.fixture(scope="session")
def run() -> Run:
    simulation = simulate(
        MUNICIPALITY, residents=1500, events=12_000, seed=42, start=dt.date(2026, 4, 1)
    )
    return Run(simulation, list(simulation))
