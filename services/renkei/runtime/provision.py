"""Topics a stage needs before it consumes: the broker does not auto-create topics.

- inputs must exist (department topics come from ``renkei schemas apply``); a missing one is a
  configuration error, not a silent idle consumer;
- outputs are created from the catalogue if missing (same metadata as ``schemas apply``);
- ``dlq.<input>`` topics are created with the input's actual partition count (a DLQ record keeps
  its source partition), delete policy, and the input's retention: a DLQ record holds the same
  personal data as its source and must not outlive it.

faust's own internal topics (table changelogs, repartition topics) are declared by faust through
the admin API (``topic_allow_declare``), which works with auto-creation disabled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from renkei.contracts.dlq import dlq_spec
from renkei.contracts.names import TopicNames
from renkei.errors import ConfigurationError, StackError
from renkei.kafka_security import kafka_client_options
from renkei.schemas.catalogue import TopicSpec, renamed
from renkei.settings import Settings
from renkei.topics import ensure_topics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageTopics:
    """Partition counts found or created (by contract topic name)."""

    inputs: dict[str, int]
    dlqs: dict[str, int]


async def provision_stage_topics(
    settings: Settings,
    *,
    stage: str,
    inputs: tuple[TopicSpec, ...],
    outputs: tuple[TopicSpec, ...],
    names: TopicNames,
) -> StageTopics:
    """Check inputs, create missing outputs and DLQs; returns the partition counts."""
    input_counts = await _partition_counts(settings, [names.topic(s.topic) for s in inputs])
    missing = [s.topic for s in inputs if names.topic(s.topic) not in input_counts]
    if missing:
        raise ConfigurationError(
            f"{stage}: input topic(s) {', '.join(names.topic(t) for t in missing)} do not exist "
            "(the broker does not auto-create topics): run `renkei schemas apply` first"
        )
    by_contract = {s.topic: input_counts[names.topic(s.topic)] for s in inputs}
    for spec in inputs:
        if by_contract[spec.topic] != spec.partitions:
            log.warning(
                "%s has %d partitions, the catalogue says %d",
                names.topic(spec.topic),
                by_contract[spec.topic],
                spec.partitions,
            )
    wanted = [renamed(s, names.topic(s.topic)) for s in outputs] + [
        dlq_spec(s, names, by_contract[s.topic]) for s in inputs
    ]
    for outcome in await ensure_topics(settings, wanted):
        if outcome.action == "created":
            log.info("created topic %s (%s)", outcome.topic, outcome.detail)
        elif outcome.action == "mismatch":
            log.warning("topic %s: %s", outcome.topic, outcome.detail)
    dlq_counts = await _partition_counts(settings, [names.dlq(s.topic) for s in inputs])
    return StageTopics(
        inputs=by_contract,
        dlqs={s.topic: dlq_counts.get(names.dlq(s.topic), 0) for s in inputs},
    )


async def _partition_counts(settings: Settings, topics: list[str]) -> dict[str, int]:
    """Partition counts of those ``topics`` that exist (listed first: describing a missing
    topic could create it on a broker that auto-creates)."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    try:
        await admin.start()
        present = sorted(set(await admin.list_topics()) & set(topics))
        if not present:
            return {}
        return {
            entry["topic"]: len(entry.get("partitions", []))
            for entry in await admin.describe_topics(present)
            if entry.get("error_code", 0) == 0
        }
    except KafkaError as exc:
        raise StackError(
            f"Kafka at {settings.kafka_bootstrap} not reachable ({type(exc).__name__}); "
            "is the stack up? (renkei stack up)"
        ) from exc
    finally:
        await admin.close()
