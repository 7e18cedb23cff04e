"""The demo's live console: records and rates per stage, DLQ counts, a few regions, alerts.

It reads topics like any downstream client (no consumer group, nothing committed) and prints
counts and figures only — never names or addresses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from renkei.contracts.stages import STAGES
from renkei.kafka_security import kafka_client_options
from renkei.schemas.catalogue import Catalogue
from renkei.serde.avro import AvroDecoder
from renkei.serde.registry import registry_client
from renkei.settings import Settings

FOLLOWED = ("unified.region", "derived.evacuation-support")


def stage_outputs(catalogue: Catalogue) -> dict[str, list[str]]:
    """What the summary counts: the department topics ("input"), then per stage (stage
    registry) its catalogue outputs, internal topics and purpose views left out."""
    outputs = {"input": list(catalogue.department_topics())}
    for name, spec in STAGES.items():
        if spec.topics_from == "agreements":
            continue
        produced = spec.contract_outputs(catalogue)
        outputs[name] = [t for t in produced if catalogue.get(t).role != "internal"]
    return outputs


@dataclass
class Picture:
    """What the monitor knows at one moment."""

    at: float
    totals: dict[str, int]
    dlq: int
    regions: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)


class Monitor:
    """Follows output offsets, the region stream and the evacuation lists."""

    def __init__(self, settings: Settings, catalogue: Catalogue):
        self.settings = settings
        self.catalogue = catalogue
        self.stage_outputs = stage_outputs(catalogue)
        self.registry = registry_client(settings)
        self.decoder = AvroDecoder(self.registry)
        self.offsets = AIOKafkaConsumer(**kafka_client_options(settings), group_id=None)
        self.follower = AIOKafkaConsumer(
            *FOLLOWED,
            **kafka_client_options(settings),
            group_id=None,
            auto_offset_reset="earliest",
        )
        self.admin = AIOKafkaAdminClient(**kafka_client_options(settings))
        self._partition_cache: dict[str, list[TopicPartition]] = {}
        self.regions: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, dict[str, Any]] = {}

    async def start(self) -> None:
        await self.offsets.start()
        await self.follower.start()
        await self.admin.start()

    async def stop(self) -> None:
        await self.offsets.stop()
        await self.follower.stop()
        await self.admin.close()
        await self.registry.aclose()

    async def picture(self) -> Picture:
        """Totals per stage and DLQ, after reading what the followed topics have new."""
        await self._follow()
        topics = await self.offsets.topics()
        totals = {
            stage: await self._records([t for t in outputs if t in topics])
            for stage, outputs in self.stage_outputs.items()
        }
        dlq = await self._records([t for t in topics if t.startswith("dlq.")])
        return Picture(time.monotonic(), totals, dlq, dict(self.regions), dict(self.lists))

    async def _records(self, topics: list[str]) -> int:
        partitions = [p for topic in topics for p in await self._partitions(topic)]
        if not partitions:
            return 0
        return sum((await self.offsets.end_offsets(partitions)).values())

    async def _partitions(self, topic: str) -> list[TopicPartition]:
        if topic not in self._partition_cache:
            described = await self.admin.describe_topics([topic])
            self._partition_cache[topic] = [
                TopicPartition(topic, p["partition"]) for p in described[0].get("partitions", [])
            ]
        return self._partition_cache[topic]

    async def _follow(self) -> None:
        batches = await self.follower.getmany(timeout_ms=200, max_records=5000)
        for records in batches.values():
            for record in records:
                if record.value is None:
                    continue
                value = await self.decoder.decode(record.value)
                if record.topic == "unified.region":
                    self.regions[value["region_code"]] = value
                elif value["status"] == "lifted":
                    self.lists.pop(value["list_key"], None)
                else:
                    self.lists[value["list_key"]] = value


def render(before: Picture, now: Picture, started: float) -> list[str]:
    """The console block for one refresh: rates since the previous picture."""
    seconds = max(now.at - before.at, 1e-6)
    stages = " | ".join(
        f"{stage} {total:,} ({(total - before.totals.get(stage, 0)) / seconds:,.0f}/s)"
        for stage, total in now.totals.items()
    )
    lines = [f"t+{now.at - started:5.0f}s  {stages} | DLQ {now.dlq:,}"]
    shown = sorted(now.regions.values(), key=lambda r: -(r.get("population") or 0))[:3]
    for region in shown:
        lines.append(
            f"    region {region['region_code']}: population {_count(region['population'])}, "
            f"75+ {_count(region['age_75_plus'])}, support candidates "
            f"{_count(region['evacuation_support_candidates'])}"
        )
    if len(now.regions) > len(shown):
        lines.append(f"    … {len(now.regions)} regions in unified.region")
    alerts: dict[str, list[dict[str, Any]]] = {}
    for item in now.lists.values():
        alerts.setdefault(item["alert_id"], []).append(item)
    for alert_id, lists in sorted(alerts.items()):
        first = lists[0]
        people = sum(int(item["count"]) for item in lists)
        lines.append(
            f"    alert {alert_id} level {first['level']} {first['hazard']} "
            f"({first['mode']} mode): {len(lists)} region list(s), {people} person(s)"
        )
    if not alerts:
        lines.append("    no active evacuation-support lists")
    return lines


def _count(value: int | None) -> str:
    return "<10 (suppressed)" if value is None else f"{value:,}"
