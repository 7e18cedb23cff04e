"""The benchmark's input: an initial load of N simulated residents, encoded once up front."""

from __future__ import annotations

from collections import defaultdict

from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings


async def initial_load(
    settings: Settings, catalogue: Catalogue, residents: int, municipality: str, seed: int = 1
) -> dict[str, list[tuple[bytes, bytes]]]:
    """(key, framed value) pairs per department topic for a snapshot of ``residents``.

    Validation and encoding happen here, before any clock starts.
    """
    from renkei.simulator import Simulation

    simulation = Simulation(municipality, residents=residents, events=0, seed=seed)
    by_topic: dict[str, list[tuple[bytes, bytes]]] = defaultdict(list)
    async with Publisher(settings, catalogue) as publisher:
        for event in simulation:
            record = await publisher.prepare(event.topic, event.value)
            by_topic[event.topic].append((record.key, record.value))
    return dict(by_topic)
