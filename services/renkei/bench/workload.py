"""The benchmark's input: an initial load of N simulated residents (and the change events that
follow it), validated and encoded once up front, before any clock starts."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import Catalogue
from renkei.serde.avro import schema_text
from renkei.serde.registry import registry_client
from renkei.settings import Settings

ALERTS = "disaster.area.alerts"
JST = dt.timezone(dt.timedelta(hours=9))


@dataclass(frozen=True)
class Change:
    """One encoded department record of the steady phase."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    event_id: str


@dataclass
class Workload:
    """The snapshot (by department topic) and the change events after it."""

    load: dict[str, list[tuple[bytes, bytes]]]
    changes: list[Change] = field(default_factory=list)
    municipality: str = ""
    region_codes: tuple[str, ...] = ()

    @property
    def records(self) -> int:
        return sum(len(values) for values in self.load.values())


async def initial_load(
    settings: Settings,
    catalogue: Catalogue,
    residents: int,
    municipality: str,
    seed: int = 1,
    changes: int = 0,
) -> Workload:
    """A snapshot of ``residents`` (key, framed value) per department topic, then ``changes``
    change events (moves, births, checkups…) with their CloudEvents headers."""
    from renkei.simulator import Simulation

    # The load is encoded once under the department topics' own subjects (what `renkei schemas
    # apply` registers; a fresh stack has none yet), then copied to each run's prefixed topics.
    async with registry_client(settings) as client:
        for topic in catalogue.department_topics():
            spec = catalogue.get(topic)
            await client.register(spec.subject, schema_text(spec.schema))
    simulation = Simulation(
        municipality, residents=residents, events=changes, seed=seed, catalogue=catalogue
    )
    by_topic: dict[str, list[tuple[bytes, bytes]]] = defaultdict(list)
    workload = Workload(
        {}, municipality=municipality, region_codes=simulation.municipality.region_codes
    )
    async with Publisher(settings, catalogue) as publisher:
        for number, event in enumerate(simulation):
            record = await publisher.prepare(event.topic, event.value)
            if number < simulation.snapshot_count:
                by_topic[event.topic].append((record.key, record.value))
            else:
                workload.changes.append(
                    Change(
                        event.topic,
                        record.key,
                        record.value,
                        list(record.headers),
                        str(event.value["event_id"]),
                    )
                )
    workload.load = dict(by_topic)
    return workload


def replicated(values: list[tuple[bytes, bytes]], count: int) -> list[tuple[bytes, bytes]]:
    """``values`` repeated up to ``count`` records (a stateless stage's backlog)."""
    if not values:
        return []
    times, rest = divmod(count, len(values))
    return values * times + values[:rest]


def alert_value(
    municipality: str, region_code: str, alert_id: str, action: str, sequence: int
) -> dict[str, Any]:
    """A level-4 evacuation order (避難指示) for one 町域 region, issued or lifted now."""
    now = dt.datetime.now(JST)
    return {
        "event_id": str(uuid.uuid4()),
        "source_system": "renkei-bench",
        "municipality_code": municipality,
        "effective_date": now.date().isoformat(),
        "recorded_at": now.isoformat(timespec="milliseconds"),
        "sequence": sequence,
        "alert_id": alert_id,
        "area_code": region_code,
        "action": action,
        "level": 4,
        "information_name": "避難指示",
        "hazard": "flood",
        "issued_at": now.isoformat(timespec="milliseconds"),
        "lifted_at": now.isoformat(timespec="milliseconds") if action == "lifted" else None,
        "whole_municipality": False,
        "target_region_codes": [region_code],
        "message": None,
        "issued_by": "ベンチマーク",
    }
