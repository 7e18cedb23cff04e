"""The evacuation stage (避難行動要支援者名簿): ``internal.resident.facts`` ×
``std.disaster.area.alerts`` → ``derived.evacuation-support``. Logic in
``renkei.stages.evacuation.flow`` / ``evacuation_list``."""

from __future__ import annotations

from functools import cache
from typing import Any, Unpack

from aiokafka.partitioner import murmur2

from renkei.audit import AuditLog
from renkei.audit.releases import audit_disaster_mode, audit_releases
from renkei.contracts.stages import stage_spec
from renkei.runtime.app import StageApp
from renkei.runtime.builder import StageBuilder, StageOptions, contract, internal
from renkei.runtime.records import Output, SourceRecord
from renkei.settings import Settings
from renkei.stages.evacuation import flow as evacuation_flow

STAGE = "evacuation"


def default_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as aiokafka and Java) picks."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


@cache
def broadcast_key(base: str, partition: int, partitions: int) -> str:
    """A key the default partitioner sends to ``partition``: ``<base>#<n>`` for the smallest n.

    A whole-municipality alert must reach every partition of the region-keyed topic; keys that
    land on each partition keep every send on the ordinary keyed path."""
    n = 0
    while default_partition(f"{base}#{n}".encode(), partitions) != partition:
        n += 1
    return f"{base}#{n}"


def disaster_mode_of(settings: Settings, disaster_mode: bool | None) -> bool:
    """The operator's disaster-mode switch: the parameter, else ``evacuation_disaster_mode`` in
    the settings (RENKEI_EVACUATION_DISASTER_MODE)."""
    if disaster_mode is not None:
        return disaster_mode
    return settings.evacuation_disaster_mode


def build_evacuation(
    settings: Settings,
    *,
    disaster_mode: bool | None = None,
    audit: AuditLog | None = None,
    **options: Unpack[StageOptions],
) -> StageApp:
    """The evacuation worker's App (group ``renkei-evacuation``, web port 6069 by default).

    Phases:
    1. catalogue: inputs ``internal.resident.facts`` (6, key resident_key) and
       ``std.disaster.area.alerts`` (3, key area code); output ``derived.evacuation-support``;
    2. operator switch: ``disaster_mode`` (災害対策基本法 49条の11③: every candidate listed
       whatever the level);
    3. tables: ``routing`` (resident_key; 6), ``alerts`` (alert_id in its area's partition; 3),
       ``regions`` (candidates, alerts, lists, heads, per-partition municipality index; 3);
    4. internal topics (key region, 3, co-partitioned with the regions table):
       ``renkei-evacuation-regions``: routed facts; ``renkei-evacuation-alert-lane``: alerts per
       targeted region, whole-municipality alerts broadcast to every partition — the alert
       lane, so an alert never queues behind the facts of a bulk load (an alert record also
       ends the open batch at once: ``urgent_inputs`` in the stage registry);
    5. handlers: facts → routing → regions topic; alerts → alert routing → alert lane;
       regions topic and alert lane → regions table (its current candidates) → lists whose
       content changed (a list is re-issued when later facts change it);
    6. audit: every disaster-mode list sent writes ``evacuation.released``, every version that
       corrects a released list ``evacuation.corrected`` (renkei.audit.releases).
    """
    stage = StageBuilder.create(
        settings,
        stage_spec(STAGE),
        **options,
    )
    override = disaster_mode_of(stage.settings, disaster_mode)
    facts_topic, alerts_topic = stage.spec.inputs
    (output,) = stage.spec.outputs
    routing = stage.table("routing")
    alerts = stage.table("alerts")
    regions = stage.table("regions")
    topic = stage.internal_topic("regions")
    lane = stage.internal_topic("alert-lane")
    region_partitions = stage.spec.internal_topics["regions"]

    def on_facts(_: SourceRecord, facts: Any) -> list[Output]:
        return [internal(topic, k, m) for k, m in evacuation_flow.handle_facts(routing, facts)]

    def on_alert(_: SourceRecord, alert: Any) -> list[Output]:
        sends = evacuation_flow.handle_alert(alerts, alert, region_partitions)
        return [
            internal(lane, key if p is None else broadcast_key(key, p, region_partitions), m)
            for key, p, m in sends
        ]

    audit_log = audit or AuditLog.open(stage.settings, produce=options.get("send") is None)
    actor = f"stage:{STAGE} ({stage.names.group(STAGE)})"

    async def on_region_message(record: SourceRecord, message: Any) -> list[Output]:
        lists = evacuation_flow.handle_region_message(regions, message, record.partition, override)
        data = [datum for _, datum in lists]
        if message["kind"] != "member":  # lists an alert changed: alert → list latency
            stage.app.metrics.observe_alert_lists(data)
        await audit_releases(audit_log, actor, data, operator_override=override)
        return [contract(output, key, datum) for key, datum in lists]

    stage.on(facts_topic, on_facts)
    stage.on(alerts_topic, on_alert)
    stage.on(topic, on_region_message)
    stage.on(lane, on_region_message)
    app = stage.build()

    async def audit_mode_switch() -> None:
        if override:  # the operator's switch is an explicit, audited decision
            await audit_disaster_mode(audit_log, actor)

    app.startup_hooks.append(audit_mode_switch)
    app.shutdown_hooks.append(audit_log.aclose)
    return app
