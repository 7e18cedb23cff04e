"""The envelope every department event carries, and when a department records an event.

Envelope (docs/design/schema-conventions.md): ``event_id``, ``source_system``,
``municipality_code``, ``effective_date`` (法的な異動日), ``recorded_at`` (処理日時, ISO 8601
with +09:00) and a per-key ``sequence``. Sequences and recorded times are kept per (topic, key):
each department system numbers its own records, and a later record of a key is never stamped
earlier than the one before it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from renkei.errors import ConfigurationError
from renkei.schemas.catalogue import Catalogue
from renkei.simulator.identifiers import IdentifierIssuer

REGISTRY = "registry.resident.events"
CHECKUP = "health.checkup.results"
CARE = "welfare.care.certifications"
DISASTER = "disaster.area.alerts"
ECONOMY = "economy.region.indicators"
TOPICS = (REGISTRY, CHECKUP, CARE, DISASTER, ECONOMY)
"""The department topics the simulator has a generator for (a new department topic in the
catalogue is not simulated until it has one)."""
_ONE_SECOND = dt.timedelta(seconds=1)
_OPENING = dt.time(8, 45)  # municipal office hours
_CLOSING = dt.time(17, 15)


@dataclass(frozen=True, slots=True)
class SimulatedEvent:
    """One generated record: its topic, Kafka key and value in Renkei JSON form."""

    topic: str
    key: str
    value: dict[str, Any]


def jst_text(moment: dt.datetime) -> str:
    """A naive Japan-time datetime as ISO 8601 with its +09:00 offset."""
    return f"{moment.isoformat(timespec='seconds')}+09:00"


def office_time(
    rng: random.Random, day: dt.date, not_before: dt.datetime | None = None
) -> dt.datetime:
    """A moment within office hours on ``day``, or on the next working day when ``day`` is a
    weekend or its office hours are already over at ``not_before``."""
    while True:
        if day.weekday() >= 5:
            day += dt.timedelta(days=7 - day.weekday())
        opening = dt.datetime.combine(day, _OPENING)
        closing = dt.datetime.combine(day, _CLOSING)
        earliest = opening if not_before is None else max(opening, not_before + _ONE_SECOND)
        span = int((closing - earliest).total_seconds())
        if span > 0:
            return earliest + dt.timedelta(seconds=rng.randrange(span))
        day += dt.timedelta(days=1)


def filed_within(
    rng: random.Random, effective: dt.date, deadline_days: int, not_before: dt.datetime
) -> dt.datetime:
    """When a 届出 with a deadline (転入 14 days, 死亡 7 days …) is recorded.

    Most are filed early in the period; about one in twenty is late (届出期間経過).
    """
    if rng.random() < 0.05:
        lag = rng.randint(deadline_days + 1, deadline_days * 3)
    else:
        lag = min(deadline_days, int(rng.expovariate(3.0 / deadline_days)))
    return office_time(rng, effective + dt.timedelta(days=lag), not_before)


def source_systems(catalogue: Catalogue) -> dict[str, str]:
    """The sending system of each simulated topic, from the catalogue (``source_system`` in
    its ``topic.yaml``); ConfigurationError when one is missing."""
    systems = {topic: catalogue.get(topic).source_system for topic in TOPICS}
    missing = sorted(topic for topic, system in systems.items() if not system)
    if missing:
        raise ConfigurationError(f"no source_system in topic.yaml of {', '.join(missing)}")
    return systems


class EventStamper:
    """Adds the envelope to event bodies: ids, per-key sequence and monotonic recorded time."""

    def __init__(
        self, issuer: IdentifierIssuer, municipality_code: str, source_systems: Mapping[str, str]
    ) -> None:
        self._issuer = issuer
        self._municipality_code = municipality_code
        self._source_systems = source_systems
        self._sequence: dict[tuple[str, str], int] = {}
        self._last_recorded: dict[tuple[str, str], dt.datetime] = {}

    def stamp(
        self,
        topic: str,
        key: str,
        effective: dt.date,
        recorded: dt.datetime,
        body: dict[str, Any],
    ) -> tuple[dt.datetime, SimulatedEvent]:
        """The event and its (possibly nudged) recorded time, for ordering the output."""
        slot = (topic, key)
        last = self._last_recorded.get(slot)
        if last is not None and recorded <= last:
            recorded = last + _ONE_SECOND
        self._last_recorded[slot] = recorded
        sequence = self._sequence.get(slot, 0) + 1
        self._sequence[slot] = sequence
        value = {
            "event_id": self._issuer.event_id(),
            "source_system": self._source_systems[topic],
            "municipality_code": self._municipality_code,
            "effective_date": effective.isoformat(),
            "recorded_at": jst_text(recorded),
            "sequence": sequence,
            **body,
        }
        return recorded, SimulatedEvent(topic, key, value)
