"""Load the schema catalogue: one folder per topic with ``value.avsc``, ``topic.yaml`` and
``examples/*.json`` (see docs/design/schema-conventions.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import fastavro
import yaml

from renkei.errors import ConfigurationError, SchemaError
from renkei.serde.avro import schema_text

PiiClass = Literal["none", "identifier", "personal", "sensitive", "location"]
_PII_CLASSES = {"none", "identifier", "personal", "sensitive", "location"}
TopicRole = Literal[
    "department", "standardized", "unified", "derived", "internal", "audit", "view", "reference"
]
_ROLES = {
    "department",
    "standardized",
    "unified",
    "derived",
    "internal",
    "audit",
    "view",
    "reference",
}
"""What a topic is for (``role`` in ``topic.yaml``): a department system's own events, their
``std.*`` twins, the unified streams, derived outputs, platform-internal topics, the audit log,
purpose views, reference data (``ref.*``: municipality codes, postal codes, code lists). The
department topics are the standardize stage's inputs."""

BULK_SUFFIX = ".bulk"
"""A topic with ``bulk_lane: true`` in its ``topic.yaml`` has a twin ``<topic>.bulk`` for bulk
exports (initial snapshots, yearly batches, replays): same schema, key, partitions and
configs, consumed by the same stage at lower priority (docs/design/streaming-core.md,
Lanes)."""


def bulk_topic(topic: str) -> str:
    """The bulk twin of ``topic``: ``<topic>.bulk``."""
    return f"{topic}{BULK_SUFFIX}"


def is_bulk(topic: str) -> bool:
    """Whether ``topic`` (a contract or Kafka name) is a bulk twin."""
    return topic.endswith(BULK_SUFFIX)


def live_topic(topic: str) -> str:
    """The live topic of a bulk twin (``topic`` itself for a live topic)."""
    return topic[: -len(BULK_SUFFIX)] if is_bulk(topic) else topic


@dataclass(frozen=True)
class TopicSpec:
    """Everything the catalogue says about one topic."""

    topic: str
    folder: Path
    schema: dict[str, Any]
    metadata: dict[str, Any]
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        """Registry subject under TopicNameStrategy."""
        return f"{self.topic}-value"

    @property
    def key_field(self) -> str:
        return str(self.metadata["key"])

    @property
    def partitions(self) -> int:
        return int(self.metadata["partitions"])

    @property
    def cleanup_policy(self) -> str:
        return str(self.metadata.get("cleanup_policy", "delete"))

    @property
    def compatibility(self) -> str:
        return str(self.metadata.get("compatibility", "BACKWARD")).upper()

    @property
    def network_zone(self) -> str:
        return str(self.metadata.get("network_zone", ""))

    @property
    def cloudevents_type(self) -> str:
        return str(self.metadata.get("cloudevents_type", f"jp.renkei.{self.topic}"))

    @property
    def role(self) -> str:
        """``role`` of its metadata (``department``, ``standardized``, … see TopicRole)."""
        return str(self.metadata.get("role", ""))

    @property
    def source_system(self) -> str:
        """The sending system of a department topic (envelope ``source_system``, CloudEvents
        ``ce_source``); empty for the platform's own topics."""
        return str(self.metadata.get("source_system", ""))

    @property
    def bulk_lane(self) -> bool:
        """Whether the topic has a bulk twin ``<topic>.bulk`` (``bulk_lane`` in its metadata)."""
        return bool(self.metadata.get("bulk_lane", False))

    @property
    def bulk_of(self) -> str | None:
        """For a bulk twin: the live topic it is the twin of; None otherwise."""
        live = self.metadata.get("bulk_of")
        return str(live) if live else None

    @property
    def pii(self) -> dict[str, PiiClass]:
        return dict(self.metadata.get("pii", {}))

    @property
    def schema_text(self) -> str:
        """Canonical text registered in the registry (custom properties and docs kept)."""
        return schema_text(self.schema)

    @cached_property
    def parsed_schema(self) -> dict[str, Any]:
        """fastavro's parsed form, for encoding and decoding."""
        try:
            parsed: dict[str, Any] = fastavro.parse_schema(self.schema)  # type: ignore[assignment]
        except Exception as exc:  # fastavro raises several types for bad schemas
            raise SchemaError(f"{self.topic}: value.avsc is not valid Avro: {exc}") from exc
        return parsed


@dataclass(frozen=True)
class Catalogue:
    """All topics of the catalogue, by topic name."""

    root: Path
    topics: dict[str, TopicSpec]

    def get(self, topic: str) -> TopicSpec:
        """The spec of ``topic``, or a ConfigurationError listing the known topics."""
        try:
            return self.topics[topic]
        except KeyError:
            known = ", ".join(sorted(self.topics))
            raise ConfigurationError(
                f"unknown topic {topic!r}; the catalogue has: {known}"
            ) from None

    def department_topics(self) -> tuple[str, ...]:
        """The topics department systems publish (``role: department``), sorted: the
        standardize stage consumes each and writes its ``std.<topic>`` twin."""
        return tuple(
            sorted(
                t.topic
                for t in self.topics.values()
                if t.role == "department" and t.bulk_of is None
            )
        )

    def bulk_topics(self) -> tuple[str, ...]:
        """The bulk twins (``<topic>.bulk``) of the topics with a bulk lane, sorted."""
        return tuple(sorted(t.topic for t in self.topics.values() if t.bulk_of is not None))

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.topics.values())

    def __len__(self) -> int:
        return len(self.topics)


def renamed(spec: TopicSpec, topic: str, **metadata: object) -> TopicSpec:
    """``spec`` under another Kafka name (test prefix, DLQ) with some metadata replaced."""
    return replace(spec, topic=topic, metadata={**spec.metadata, **metadata, "topic": topic})


def bulk_twin(spec: TopicSpec) -> TopicSpec:
    """The ``<topic>.bulk`` twin of a topic with a bulk lane: the same schema, examples, key,
    partitions, configs, zone and PII classes; its own subject (``<topic>.bulk-value``, the
    same schema registered by ``renkei schemas apply``) so any TopicNameStrategy client can
    write it."""
    twin = bulk_topic(spec.topic)
    metadata = {k: v for k, v in spec.metadata.items() if k != "bulk_lane"}
    description = str(spec.metadata.get("description", ""))
    metadata.update(
        topic=twin,
        bulk_of=spec.topic,
        description=f"一括投入レーン (bulk lane) of {spec.topic}: {description}".rstrip(": "),
    )
    return replace(spec, topic=twin, metadata=metadata)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: cannot read JSON: {exc}") from exc


def load_topic(folder: Path) -> TopicSpec:
    """Load one topic folder, checking the metadata has what the platform needs."""
    schema = _read_json(folder / "value.avsc")
    try:
        metadata = yaml.safe_load((folder / "topic.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{folder / 'topic.yaml'}: cannot read: {exc}") from exc
    for required in ("topic", "key", "partitions", "compatibility", "network_zone", "pii"):
        if required not in metadata:
            raise ConfigurationError(f"{folder / 'topic.yaml'}: missing '{required}'")
    if "role" in metadata and metadata["role"] not in _ROLES:
        raise ConfigurationError(
            f"{folder / 'topic.yaml'}: role {metadata['role']!r} is not one of {sorted(_ROLES)}"
        )
    if metadata["topic"] != folder.name:
        raise ConfigurationError(f"{folder}: topic.yaml names {metadata['topic']!r}")
    bad = {k: v for k, v in metadata["pii"].items() if v not in _PII_CLASSES}
    if bad:
        raise ConfigurationError(f"{folder / 'topic.yaml'}: unknown PII classes for {sorted(bad)}")
    examples = {
        path.stem: _read_json(path) for path in sorted((folder / "examples").glob("*.json"))
    }
    return TopicSpec(
        topic=folder.name, folder=folder, schema=schema, metadata=metadata, examples=examples
    )


def load_catalogue(root: Path) -> Catalogue:
    """Load every topic folder under ``root`` (a folder holding ``<topic>/value.avsc``)."""
    if not root.is_dir():
        raise ConfigurationError(f"schema catalogue folder not found: {root}")
    topics = {
        folder.name: load_topic(folder)
        for folder in sorted(root.iterdir())
        if (folder / "value.avsc").is_file()
    }
    if not topics:
        raise ConfigurationError(f"no topics (<topic>/value.avsc) under {root}")
    for spec in [s for s in topics.values() if s.bulk_lane]:
        twin = bulk_twin(spec)
        if twin.topic in topics:
            raise ConfigurationError(
                f"{root / twin.topic}: {spec.topic} has bulk_lane: true, so its twin "
                f"{twin.topic} is made from it and has no folder of its own"
            )
        topics[twin.topic] = twin
    return Catalogue(root=root, topics=dict(sorted(topics.items())))
