"""The three linkage stages wired through in-memory "topics", with dicts as tables.

It calls the same store-level handlers the faust agents call, delivering internal messages
until nothing is left, so the tests exercise the whole flow without a broker.
"""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from renkei.shared.values import json_form
from renkei.stages.evacuation import flow as evacuation_flow
from renkei.stages.region import flow as region_flow
from renkei.stages.resident import flow as resident_flow

Record = tuple[str, str, dict[str, Any]]
"""(topic, key, datum)."""


def partition_of(key: str, partitions: int) -> int:
    return zlib.crc32(key.encode()) % partitions


@dataclass
class ResidentSim:
    residents: dict[str, Any] = field(default_factory=dict)
    households: dict[str, Any] = field(default_factory=dict)
    internal_messages: int = 0

    def feed(self, topic: str, datum: dict[str, Any]) -> list[Record]:
        handlers = {
            "std.registry.resident.events": resident_flow.handle_registry_event,
            "std.health.checkup.results": resident_flow.handle_checkup,
            "std.welfare.care.certifications": resident_flow.handle_care_certification,
        }
        emitted: list[Record] = []
        queue: deque[tuple[str, str, dict[str, Any]]] = deque()

        def take(result: resident_flow.StepResult, next_kind: str) -> None:
            emitted.extend((t, str(d["resident_key"]), d) for t, d in result.outputs)
            queue.extend(
                ("view" if m.get("scope") == "named" else next_kind, key, json_form(m))
                for key, m in result.messages
            )

        take(handlers[topic](self.residents, datum), "membership")
        while queue:
            kind, key, message = queue.popleft()
            self.internal_messages += 1
            if kind == "membership":
                take(resident_flow.handle_membership(self.households, message), "view")
            else:
                take(
                    resident_flow.handle_household_view(self.residents, key, message), "membership"
                )
        return emitted


@dataclass
class RegionSim:
    k: int = 10
    routing: dict[str, Any] = field(default_factory=dict)
    regions: dict[str, Any] = field(default_factory=dict)

    def feed_facts(self, facts: dict[str, Any]) -> list[Record]:
        out: list[Record] = []
        for _, message in region_flow.handle_facts(self.routing, facts):
            message = json_form(message)  # as it comes back from the JSON topic
            result = region_flow.apply_member_message(self.regions, message, self.k)
            out += [("unified.region", key, datum) for key, datum in result.outputs]
            out += [(region_flow.DAILY_TOPIC, key, datum) for key, datum in result.days]
        return out

    def feed_indicators(self, event: dict[str, Any]) -> list[Record]:
        return [
            ("unified.region", key, datum)
            for key, datum in region_flow.handle_indicators(self.regions, event, self.k)
        ]


@dataclass
class EvacuationSim:
    partitions: int = 3
    disaster_override: bool = False
    routing: dict[str, Any] = field(default_factory=dict)
    alerts: dict[str, Any] = field(default_factory=dict)
    regions: dict[str, Any] = field(default_factory=dict)

    def _deliver(self, key: str, partition: int | None, message: dict[str, Any]) -> list[Record]:
        part = partition if partition is not None else partition_of(key, self.partitions)
        outputs = evacuation_flow.handle_region_message(
            self.regions, json_form(message), part, self.disaster_override
        )
        return [("derived.evacuation-support", k, d) for k, d in outputs]

    def feed_facts(self, facts: dict[str, Any]) -> list[Record]:
        out: list[Record] = []
        for key, message in evacuation_flow.handle_facts(self.routing, facts):
            out += self._deliver(key, None, message)
        return out

    def feed_alert(self, alert: dict[str, Any]) -> list[Record]:
        out: list[Record] = []
        for key, partition, message in evacuation_flow.handle_alert(
            self.alerts, alert, self.partitions
        ):
            out += self._deliver(key, partition, message)
        return out


@dataclass
class Platform:
    """resident → facts → region and evacuation, all in memory."""

    resident: ResidentSim = field(default_factory=ResidentSim)
    region: RegionSim = field(default_factory=RegionSim)
    evacuation: EvacuationSim = field(default_factory=EvacuationSim)
    log: list[Record] = field(default_factory=list)

    def feed(self, topic: str, datum: dict[str, Any]) -> list[Record]:
        if topic == "std.disaster.area.alerts":
            produced = self.evacuation.feed_alert(datum)
        elif topic == "std.economy.region.indicators":
            produced = self.region.feed_indicators(datum)
        else:
            produced = []
            for record in self.resident.feed(topic, datum):
                produced.append(record)
                if record[0] == "internal.resident.facts":
                    produced += self.region.feed_facts(record[2])
                    produced += self.evacuation.feed_facts(record[2])
        self.log += produced
        return produced

    def latest(self, topic: str) -> dict[str, dict[str, Any]]:
        """The latest record per key of a topic (what a compacted topic keeps)."""
        return {key: datum for t, key, datum in self.log if t == topic}
