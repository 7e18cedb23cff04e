"""Create the catalogue's topics with the partitions and cleanup policy their metadata names."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from renkei.errors import StackError
from renkei.kafka_security import kafka_client_options
from renkei.schemas.catalogue import TopicSpec
from renkei.settings import Settings


@dataclass(frozen=True)
class TopicOutcome:
    topic: str
    action: str  # "created" | "exists" | "mismatch" | "updated"
    detail: str = ""


def topic_config(spec: TopicSpec) -> dict[str, str]:
    """Kafka topic configs derived from the metadata."""
    config = {"cleanup.policy": spec.cleanup_policy}
    if "retention_ms" in spec.metadata:
        config["retention.ms"] = str(spec.metadata["retention_ms"])
    if "max_compaction_lag_ms" in spec.metadata:  # bounds how long a superseded value survives
        config["max.compaction.lag.ms"] = str(spec.metadata["max_compaction_lag_ms"])
    if "delete_retention_ms" in spec.metadata:  # how long a tombstone stays readable
        config["delete.retention.ms"] = str(spec.metadata["delete_retention_ms"])
    return config


DYNAMIC_TOPIC_CONFIG = 1
"""DescribeConfigs ``config_source`` of a setting made on the topic itself."""


async def reconcile_topic_configs(settings: Settings, specs: list[TopicSpec]) -> list[TopicOutcome]:
    """Bring the configs of existing topics to what their metadata names (``topic_config``):
    e.g. a view topic whose agreement's ``retention_days`` changed. Only a topic whose value
    differs is altered (action ``updated``, detail: what changed); a missing topic is left
    to :func:`ensure_topics`. AlterConfigs replaces every topic-level setting, so the
    topic's other settings (e.g. ``min.insync.replicas`` from the cluster's topic files) are
    sent along unchanged."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    try:
        await admin.start()
        present = sorted(set(await admin.list_topics()) & {s.topic for s in specs})
        wanted = {s.topic: topic_config(s) for s in specs if s.topic in present}
        if not wanted:
            return []
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic) for topic in wanted]
        )
        current: dict[str, dict[str, str | None]] = {}
        own: dict[str, dict[str, str]] = {}  # the settings made on each topic itself
        for response in responses:
            for resource in response.to_object()["resources"]:
                name = resource["resource_name"]
                if resource["error_code"]:
                    raise StackError(
                        f"describing topic {name} failed: error "
                        f"{resource['error_code']} {resource['error_message'] or ''}"
                    )
                current[name], own[name] = {}, {}
                for entry in resource["config_entries"]:
                    # aiokafka names the field "config_names" (the protocol: config_name)
                    key = entry.get("config_name", entry.get("config_names"))
                    current[name][key] = entry["config_value"]
                    if entry.get("config_source") == DYNAMIC_TOPIC_CONFIG:
                        own[name][key] = entry["config_value"]
        outcomes, changed = [], []
        for topic, configs in wanted.items():
            differing = sorted(
                f"{name} {current.get(topic, {}).get(name)} -> {value}"
                for name, value in configs.items()
                if current.get(topic, {}).get(name) != value
            )
            if differing:
                kept = {**own.get(topic, {}), **configs}
                changed.append(ConfigResource(ConfigResourceType.TOPIC, topic, kept))
                outcomes.append(TopicOutcome(topic, "updated", ", ".join(differing)))
            else:
                outcomes.append(TopicOutcome(topic, "exists", "configs as declared"))
        if changed:
            for response in await admin.alter_configs(changed):
                for resource in response.to_object()["resources"]:
                    if resource["error_code"]:
                        raise StackError(
                            f"altering topic {resource['resource_name']} failed: error "
                            f"{resource['error_code']} {resource['error_message'] or ''}"
                        )
        return outcomes
    except KafkaError as exc:
        raise StackError(
            f"Kafka at {settings.kafka_bootstrap} not reachable ({type(exc).__name__}); "
            "is the stack up? (renkei stack up)"
        ) from exc
    finally:
        await admin.close()


async def ensure_topics(
    settings: Settings, specs: list[TopicSpec], replication_factor: int | None = None
) -> list[TopicOutcome]:
    """Create missing topics; report existing ones whose partition count differs.

    ``replication_factor`` None: ``settings.topic_replication_factor``.
    """
    replicas = replication_factor or settings.topic_replication_factor
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    try:
        await admin.start()
    except KafkaError as exc:
        await admin.close()
        raise StackError(
            f"Kafka at {settings.kafka_bootstrap} not reachable; is the stack up? (renkei stack up)"
        ) from exc
    try:
        existing = await _partition_counts(admin, [s.topic for s in specs])
        missing = [s for s in specs if s.topic not in existing]
        if missing:
            response = await admin.create_topics(
                [
                    NewTopic(s.topic, s.partitions, replicas, topic_configs=topic_config(s))
                    for s in missing
                ]
            )
            _raise_on_errors(response)
        outcomes = []
        for spec in specs:
            count = existing.get(spec.topic)
            if count is None:
                outcomes.append(
                    TopicOutcome(spec.topic, "created", f"{spec.partitions} partitions")
                )
            elif count != spec.partitions:
                outcomes.append(
                    TopicOutcome(
                        spec.topic,
                        "mismatch",
                        f"has {count} partitions, catalogue says {spec.partitions} "
                        "(co-partitioning needs the catalogue's count; recreate the topic)",
                    )
                )
            else:
                outcomes.append(TopicOutcome(spec.topic, "exists", f"{count} partitions"))
        return outcomes
    finally:
        await admin.close()


async def _partition_counts(admin: AIOKafkaAdminClient, topics: list[str]) -> dict[str, int]:
    """Partition counts of those ``topics`` that exist (listing first: describing a missing
    topic could auto-create it on a broker that allows that)."""
    present = set(await admin.list_topics()) & set(topics)
    if not present:
        return {}
    return {
        entry["topic"]: len(entry.get("partitions", []))
        for entry in await admin.describe_topics(sorted(present))
        if entry.get("error_code", 0) == 0
    }


def _raise_on_errors(response: object) -> None:
    """CreateTopics answers per topic; any error other than 'already exists' is fatal."""
    already_exists = 36
    for entry in getattr(response, "topic_errors", []):
        topic, code = entry[0], entry[1]
        message = entry[2] if len(entry) > 2 else ""
        if code not in (0, already_exists):
            raise StackError(f"creating topic {topic} failed: error {code} {message or ''}")
