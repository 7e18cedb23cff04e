"""The simulation: a snapshot of the registry and departments, then change events over time.

Phases of one run (``Simulation``):

1. Build the world: load the municipality's real 町域, draw residents from the age pyramid,
   form households, give them addresses (``population``, ``households``).
2. Snapshot: one 職権記載 ``moved_in`` per resident (the initial load of the registry), the
   care certifications in force, and last year's checkups for part of the residents.
3. Changes: event time advances from ``start``; each step is either a random occurrence
   (Poisson rates per resident-year: moves, births, deaths, checkups, alerts …) or a scheduled
   follow-up (care renewals, corrections, lifted alerts, monthly economy figures), whichever
   comes first. Events come out in the order departments record them.

Everything is drawn from ``random.Random(seed)``: same arguments, same output.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from renkei.schemas.catalogue import Catalogue, load_catalogue
from renkei.settings import default_schemas_dir
from renkei.simulator import care, checkups, disaster, household_changes, life_events, moves
from renkei.simulator.addresses import AddressMaker
from renkei.simulator.context import SimulationContext
from renkei.simulator.economy import EconomyReporter
from renkei.simulator.envelope import EventStamper, SimulatedEvent, source_systems
from renkei.simulator.households import build_population
from renkei.simulator.identifiers import IdentifierIssuer
from renkei.simulator.municipality import Municipality, load_municipality, load_other_places
from renkei.simulator.population import Resident, SyntheticMunicipality

DEFAULT_START = dt.date(2026, 4, 1)
_DAY_STARTS = dt.time(8, 30)
_LOAD_TIME = dt.time(20, 0)
_ALERTS_PER_YEAR = 5.0
_MIN_RESIDENTS_FOR_MOVE_IN = 50

# Occurrences per resident per year (each may emit several events: one per household member).
RATES_PER_RESIDENT_YEAR: dict[str, float] = {
    "move_in": 0.028,
    "move_out": 0.030,
    "move_within": 0.022,
    "birth": 0.0065,
    "death": 0.011,
    "household_change": 0.006,
    "protection": 0.0004,
    "checkup": 0.16,
    "care_new": 0.011,
    "care_change": 0.004,
}
_STEPS: dict[str, Callable[[SimulationContext], None]] = {
    "move_in": moves.move_in,
    "move_out": moves.move_out,
    "move_within": moves.move_within,
    "birth": life_events.birth,
    "death": life_events.death,
    "household_change": household_changes.change_household,
    "protection": life_events.protect,
    "checkup": checkups.checkup,
    "care_new": care.certify_new,
    "care_change": care.certify_change,
    "alert": disaster.issue_alert,
}
_CHECKUP_SHARE = {"specific": 0.38, "late_elderly": 0.25, "general": 0.05}


@dataclass(frozen=True, slots=True)
class _SnapshotPlan:
    """Who appears in the snapshot besides the registry load."""

    certified: list[Resident]
    examined: list[tuple[Resident, dt.date]]


class Simulation:
    """An iterator over one deterministic run; ``planned_count`` says how many events it yields.

    ``snapshot_count`` events of the snapshot come first, then exactly ``change_count`` change
    events. ``municipality`` is the loaded municipality, ``world`` the simulated state.
    Event time runs at realistic rates, about 0.45 change events per resident per year (plus
    monthly economy figures and a few alerts): many events for few residents span decades.
    """

    def __init__(
        self,
        municipality_code: str,
        residents: int,
        events: int,
        seed: int,
        start: dt.date | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        """``catalogue`` names each topic's sending system (default: the checkout's)."""
        if residents < 0 or events < 0:
            raise ValueError("residents and events must not be negative")
        self.municipality: Municipality = load_municipality(municipality_code)
        self.start = start or DEFAULT_START
        self.seed = seed
        catalogue = catalogue or load_catalogue(default_schemas_dir())
        master = random.Random(seed)
        self._rng = random.Random(master.getrandbits(64))
        issuer = IdentifierIssuer(random.Random(master.getrandbits(64)))
        self.world = SyntheticMunicipality(
            geography=self.municipality,
            issuer=issuer,
            addresses=AddressMaker(self._rng, self.municipality.towns),
            other_places=load_other_places(self.municipality.code),
        )
        build_population(self._rng, self.world, residents, self.start)
        self._plan = self._plan_snapshot()
        self.snapshot_count = (
            len(self.world.residents) + len(self._plan.certified) + len(self._plan.examined)
        )
        self.change_count = events
        self.planned_count = self.snapshot_count + events
        loaded = dt.datetime.combine(self.start - dt.timedelta(days=1), _LOAD_TIME)
        self._ctx = SimulationContext(
            self._rng,
            self.world,
            EventStamper(issuer, self.municipality.code, source_systems(catalogue)),
            loaded,
        )
        self._economy = EconomyReporter(self._rng, self.municipality, residents)
        self._events = self._run()

    def __iter__(self) -> Iterator[SimulatedEvent]:
        return self

    def __next__(self) -> SimulatedEvent:
        return next(self._events)

    def __len__(self) -> int:
        return self.planned_count

    def _plan_snapshot(self) -> _SnapshotPlan:
        rng, start = self._rng, self.start
        certified, examined = [], []
        for person in self.world.residents:
            age = person.age_on(start)
            if rng.random() < care.prevalence(age):
                certified.append(person)
            kind = checkups.checkup_type(age)
            if kind and rng.random() < _CHECKUP_SHARE[kind]:
                examined.append((person, start - dt.timedelta(days=rng.randint(20, 365))))
        return _SnapshotPlan(certified, examined)

    def _run(self) -> Iterator[SimulatedEvent]:
        yield from self._snapshot()
        if not self.change_count:
            return
        for produced, event in enumerate(self._changes(), start=1):
            yield event
            if produced == self.change_count:
                return

    def _snapshot(self) -> Iterator[SimulatedEvent]:
        ctx, loaded = self._ctx, self._ctx.now
        ctx.loading_snapshot = True
        for person in list(self.world.residents):
            moves.register_existing(ctx, person)
        for person in self._plan.certified:
            care.past_certification(ctx, person, self.start, loaded)
        for person, day in self._plan.examined:
            checkups.past_checkup(ctx, person, day, loaded)
        ctx.loading_snapshot = False
        yield from ctx.release(None)

    def _changes(self) -> Iterator[SimulatedEvent]:
        ctx, rng = self._ctx, self._rng
        ctx.now = dt.datetime.combine(self.start, _DAY_STARTS)
        self._economy.start(ctx, self.start)
        target = self.snapshot_count + self.change_count
        while ctx.emitted < target:
            names, rates = self._rates()
            step_at = ctx.now + dt.timedelta(days=rng.expovariate(sum(rates)))
            task_at = ctx.next_task_time()
            if task_at is not None and task_at <= step_at:
                ctx.now = max(task_at, ctx.now)  # follow-ups due before the start run at once
                ctx.pop_task()(ctx)
            else:
                ctx.now = step_at
                _STEPS[rng.choices(names, weights=rates)[0]](ctx)
            yield from ctx.release(ctx.now)
        yield from ctx.release(None)

    def _rates(self) -> tuple[list[str], list[float]]:
        """Occurrences per day of each kind of step, for the current population."""
        residents = len(self.world.residents)
        names, rates = ["alert"], [_ALERTS_PER_YEAR / 365]
        for name, per_year in RATES_PER_RESIDENT_YEAR.items():
            base = max(residents, _MIN_RESIDENTS_FOR_MOVE_IN) if name == "move_in" else residents
            names.append(name)
            rates.append(per_year * base / 365)
        return names, rates


def simulate(
    municipality_code: str,
    residents: int,
    events: int,
    seed: int,
    start: dt.date | None = None,
    catalogue: Catalogue | None = None,
) -> Simulation:
    """Simulated department events for the municipality ``municipality_code``.

    ``municipality_code`` is the 6-digit 全国地方公共団体コード with check digit (e.g.
    ``"011011"`` 札幌市中央区); ``residents`` the size of the initial population; ``events`` the
    number of change events after the snapshot; ``start`` the first day of event time (default
    2026-04-01). The result iterates over ``SimulatedEvent(topic, key, value)`` in Renkei JSON
    form — snapshot first — and knows its ``planned_count`` up front.
    """
    return Simulation(municipality_code, residents, events, seed, start, catalogue)
