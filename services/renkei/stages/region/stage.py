"""The region stage (地域集計): ``internal.resident.facts`` and ``std.economy.region.indicators``
→ ``unified.region`` and the per-day move figures ``derived.region.daily-moves``. Logic in
``flow.py`` / ``state.py``."""

from __future__ import annotations

from typing import Any, Unpack

from renkei.contracts.stages import stage_spec
from renkei.privacy.protection import K_THRESHOLD
from renkei.runtime.app import StageApp
from renkei.runtime.builder import StageBuilder, StageOptions, contract, internal
from renkei.runtime.records import Output, SourceRecord
from renkei.settings import Settings
from renkei.stages.region import flow as region_flow

STAGE = "region"


def build_region(
    settings: Settings,
    *,
    k_threshold: int = K_THRESHOLD,
    **options: Unpack[StageOptions],
) -> StageApp:
    """The region worker's App (group ``renkei-region``, web port 6068 by default).

    Phases:
    1. catalogue: inputs ``internal.resident.facts`` (6 partitions, key resident_key) and
       ``std.economy.region.indicators`` (3, key region_code); outputs ``unified.region`` and
       ``derived.region.daily-moves`` (key ``<region_code>:<day>``, docs/corrections.md);
    2. tables: ``routing`` (resident_key → region keys last sent; 6 partitions) and
       ``regions`` (region aggregates, member entries, migration marks; 3 partitions);
    3. internal topic ``renkei-region-members`` (key region code, 3 partitions): facts re-keyed
       to every region a resident joins *and* leaves, and to every region whose counted
       転入/転出 the facts' ``migrations`` change (``renkei.shared.routing``, ``migration.py``);
    4. handlers: facts → routing → members topic; members topic and indicators → regions table
       → ``unified.region`` when a region's (suppressed) figures changed, and one
       ``derived.region.daily-moves`` record per day whose move counts changed.
    """
    stage = StageBuilder.create(
        settings,
        stage_spec(STAGE),
        **options,
    )
    facts_topic, indicators_topic = stage.spec.inputs
    output, daily = stage.spec.outputs
    routing = stage.table("routing")
    regions = stage.table("regions")
    members = stage.internal_topic("members")

    def on_facts(_: SourceRecord, facts: Any) -> list[Output]:
        return [internal(members, key, m) for key, m in region_flow.handle_facts(routing, facts)]

    def on_member(_: SourceRecord, message: Any) -> list[Output]:
        result = region_flow.apply_member_message(regions, message, k_threshold)
        return [contract(daily, key, datum) for key, datum in result.days] + [
            contract(output, key, datum) for key, datum in result.outputs
        ]

    def on_indicators(_: SourceRecord, event: Any) -> list[Output]:
        records = region_flow.handle_indicators(regions, event, k_threshold)
        return [contract(output, key, datum) for key, datum in records]

    stage.on(facts_topic, on_facts)
    stage.on(members, on_member)
    stage.on(indicators_topic, on_indicators)
    return stage.build()
