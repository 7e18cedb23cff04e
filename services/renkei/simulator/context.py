"""What every generator step sees: the world, the clock, and how to emit or schedule events."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from renkei.simulator.envelope import EventStamper, SimulatedEvent, office_time
from renkei.simulator.population import SyntheticMunicipality

Task = Callable[["SimulationContext"], None]


class SimulationContext:
    """The shared state of one simulation run.

    ``emit`` stamps an event and holds it until the clock passes its recorded time, so the
    output is in the order departments record events (which is how they would publish them);
    ``schedule`` runs a follow-up step (a renewal, a lifted alert, a correction) later.
    """

    def __init__(
        self,
        rng: random.Random,
        world: SyntheticMunicipality,
        stamper: EventStamper,
        now: dt.datetime,
    ) -> None:
        self.rng = rng
        self.world = world
        self.now = now
        self.emitted = 0
        self.loading_snapshot = False
        self.counters: Counter[str] = Counter()  # sender-assigned serial numbers
        self._stamper = stamper
        self._counter = itertools.count()
        self._pending: list[tuple[dt.datetime, int, SimulatedEvent]] = []
        self._tasks: list[tuple[dt.datetime, int, Task]] = []

    @property
    def today(self) -> dt.date:
        return self.now.date()

    @property
    def city(self) -> str:
        return self.world.geography.name

    def office_time(self, day: dt.date) -> dt.datetime:
        """Office hours on ``day`` (or the next working day), never before now."""
        return office_time(self.rng, day, self.now)

    def emit(
        self,
        topic: str,
        key: str,
        effective: dt.date,
        recorded: dt.datetime,
        body: dict[str, Any],
    ) -> str:
        """Stamp and queue one event; returns its event_id.

        While ``loading_snapshot``, events keep their historical recorded time and come out in
        the order they were emitted (registry first, then department records).
        """
        if not self.loading_snapshot:
            recorded = max(recorded, self.now)
        when, event = self._stamper.stamp(topic, key, effective, recorded, body)
        order = dt.datetime.min if self.loading_snapshot else when
        heapq.heappush(self._pending, (order, next(self._counter), event))
        self.emitted += 1
        return str(event.value["event_id"])

    def schedule(self, when: dt.datetime, task: Task) -> None:
        heapq.heappush(self._tasks, (max(when, self.now), next(self._counter), task))

    def next_task_time(self) -> dt.datetime | None:
        return self._tasks[0][0] if self._tasks else None

    def pop_task(self) -> Task:
        return heapq.heappop(self._tasks)[2]

    def release(self, until: dt.datetime | None) -> list[SimulatedEvent]:
        """Queued events recorded at or before ``until`` (all of them when None), in order."""
        out = []
        while self._pending and (until is None or self._pending[0][0] <= until):
            out.append(heapq.heappop(self._pending)[2])
        return out
