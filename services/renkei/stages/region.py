"""The region stage (地域集計): ``internal.resident.facts`` and ``std.economy.region.indicators``
→ ``unified.region``. Logic in ``renkei.linkage.region_flow`` / ``region_state``."""

from __future__ import annotations

from typing import Any

from renkei.linkage import region_flow
from renkei.linkage.protection import K_THRESHOLD
from renkei.runtime.app import StageApp
from renkei.runtime.dlq import Send
from renkei.runtime.records import Output, SourceRecord
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from renkei.stages.resident import RESIDENT_PARTITIONS, LinkageStage, contract, internal

STAGE = "region"
FACTS = "internal.resident.facts"
INDICATORS = "std.economy.region.indicators"
OUTPUT = "unified.region"
REGION_PARTITIONS = 3
"""Partitions of the region-keyed internal topic: those of std.economy.region.indicators and
unified.region, so the region table is co-partitioned with the indicators it also holds."""


def build_region(
    settings: Settings,
    *,
    web_port: int | None = None,
    topic_prefix: str | None = None,
    store: str = "rocksdb://",
    registry: RegistryClient | None = None,
    send: Send | None = None,
    k_threshold: int = K_THRESHOLD,
) -> StageApp:
    """The region worker's App (group ``renkei-region``, web port 6068 by default).

    Phases:
    1. catalogue: inputs ``internal.resident.facts`` (6 partitions, key resident_key) and
       ``std.economy.region.indicators`` (3, key region_code); output ``unified.region``;
    2. tables: ``routing`` (resident_key → region keys last sent; 6 partitions) and
       ``regions`` (region aggregates, member entries, migration marks; 3 partitions);
    3. internal topic ``renkei-region-members`` (key region code, 3 partitions): facts re-keyed
       to every region a resident joins *and* leaves (``linkage/routing.py``);
    4. handlers: facts → routing → members topic; members topic and indicators → regions table
       → ``unified.region`` when a region's (suppressed) figures changed.
    """
    stage = LinkageStage.from_catalogue(
        settings,
        STAGE,
        (FACTS, INDICATORS),
        (OUTPUT,),
        web_port=web_port,
        topic_prefix=topic_prefix,
        store=store,
        registry=registry,
        send=send,
    )
    routing = stage.table("routing", RESIDENT_PARTITIONS)
    regions = stage.table("regions", REGION_PARTITIONS)
    members = stage.internal_topic("members", REGION_PARTITIONS)

    def on_facts(_: SourceRecord, facts: Any) -> list[Output]:
        return [internal(members, key, m) for key, m in region_flow.handle_facts(routing, facts)]

    def on_member(_: SourceRecord, message: Any) -> list[Output]:
        records = region_flow.handle_member_message(regions, message, k_threshold)
        return [contract(OUTPUT, key, datum) for key, datum in records]

    def on_indicators(_: SourceRecord, event: Any) -> list[Output]:
        records = region_flow.handle_indicators(regions, event, k_threshold)
        return [contract(OUTPUT, key, datum) for key, datum in records]

    stage.on(FACTS, on_facts)
    stage.on(members, on_member)
    stage.on(INDICATORS, on_indicators)
    return stage.build()
