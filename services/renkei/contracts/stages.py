"""The stage registry: the one list of Renkei's streaming stages.

Each :class:`StageSpec` says what a stage consumes and produces, which tables and internal topics
it keeps, its web port and where its builder is. ``renkei worker``, ``renkei status``, the
metrics, the deploy generators, bench and the docs read this list; nothing else keeps one, and
a stage's builder takes its tables and internal topics from here (an undeclared one is an
error).

A low-level module: it imports no stage package and no faust, so every layer may read it. The
names it yields (consumer groups, internal and changelog topics, web ports) are contracts with
running deployments — their RocksDB state, changelogs, dashboards and alert rules — and
``tests/test_contract_names.py`` pins them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from renkei.contracts.names import TopicNames
from renkei.errors import ConfigurationError
from renkei.schemas.catalogue import Catalogue, TopicSpec, bulk_topic, is_bulk

if TYPE_CHECKING:
    from renkei.contracts.views import ViewPlan
    from renkei.settings import Settings

TopicsFrom = Literal["listed", "department_topics", "agreements"]
"""Where a stage's topics come from: its own lists; the catalogue's department topics (in) and
their ``std.<topic>`` twins (out); or the consumer agreements (their source topics in, their
views out)."""

STD_PREFIX = "std."
RESIDENT_FACTS = "internal.resident.facts"
REFERENCE_TOPICS = ("ref.municipalities", "ref.postal", "ref.codes", "ref.releases")
"""The reference data (renkei/reference/records.py), read whole by the stages that use it."""
RESIDENT_PARTITIONS = 6
"""Partitions of every resident-keyed topic and table (co-partitioning: lookups by key)."""
REGION_PARTITIONS = 3
"""Partitions of the region-keyed internal topics and tables: those of
``std.economy.region.indicators`` and ``unified.region``, so a region table is co-partitioned
with the indicators it also holds."""
ALERT_PARTITIONS = 3
"""Partitions of the evacuation stage's alert table: those of ``std.disaster.area.alerts``."""


INTERNAL_RETENTION_MS = 7 * 24 * 3600 * 1000
"""Internal re-key topics hold personal data in transit: a week covers an outage, no more."""


def internal_topic_spec(kafka_name: str, partitions: int, *, compact: bool = False) -> TopicSpec:
    """The spec a stage's internal topic (or a table changelog, ``compact``) is created with,
    by the stage itself and by the deploy generators."""
    metadata: dict[str, object] = {"topic": kafka_name, "key": "key", "partitions": partitions}
    if compact:  # a table changelog: the latest value per key, kept for recovery
        metadata["cleanup_policy"] = "compact"
    else:
        metadata.update(cleanup_policy="delete", retention_ms=INTERNAL_RETENTION_MS)
    return TopicSpec(topic=kafka_name, folder=Path("."), schema={}, metadata=metadata)


def std_topic(topic: str) -> str:
    """The standardized twin of a department topic: ``std.<topic>``."""
    return f"{STD_PREFIX}{topic}"


@dataclass(frozen=True)
class StageSpec:
    """One streaming stage: its own faust App and consumer group ``renkei-<name>``."""

    name: str
    title: str
    """What it does, in a few words (the Japanese term glossed)."""
    builder: str
    """``module:function`` building its App: ``function(settings, *, web_port=None, ...)``."""
    web_port_offset: int
    """Its web server (``/metrics``, ``/health/*``) listens on the base port plus this."""
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    topics_from: TopicsFrom = "listed"
    tables: Mapping[str, int] = field(default_factory=dict)
    """Table name → partitions (faust changelog ``renkei-<stage>-<table>-changelog``)."""
    internal_topics: Mapping[str, int] = field(default_factory=dict)
    """Suffix → partitions of the stage's internal JSON topics ``renkei-<stage>-<suffix>``."""
    store: str = "rocksdb://"
    """Default table store (``memory://`` for a stage that keeps no table)."""
    state_outputs: tuple[str, ...] = ()
    """Outputs whose record per key carries the whole state (the latest value wins): a
    commit-interval batch sends only the last record per key of these. Every other output is
    event-valued and sent record by record (runtime/batch.py)."""
    urgent_inputs: tuple[str, ...] = ()
    """Inputs (contract names) whose records end the open batch at once: a lane that must not
    wait for the batch interval (docs/design/streaming-core.md, Lanes)."""
    replicated_inputs: tuple[str, ...] = ()
    """Topics every worker of the stage reads whole, without a consumer group, before serving
    (runtime/replicated.py: the reference data of the standardize stage). Its principal may
    read them (agreements/stage_principals.py)."""

    def group(self, prefix: str = "") -> str:
        """Consumer group and faust app id: ``renkei-<name>`` (after a test prefix)."""
        return f"{prefix}renkei-{self.name}"

    def internal_topic(self, suffix: str) -> str:
        """Contract name of a declared internal topic: ``renkei-<stage>-<suffix>``."""
        self._declared("internal topic", self.internal_topics, suffix)
        return f"renkei-{self.name}-{suffix}"

    def table_partitions(self, table: str) -> int:
        """Partitions of a declared table."""
        return self._declared("table", self.tables, table)

    def changelog_topic(self, table: str, prefix: str = "") -> str:
        """faust's changelog topic of a declared table: ``renkei-<stage>-<table>-changelog``."""
        self.table_partitions(table)
        return f"{self.group(prefix)}-{table}-changelog"

    def created_topics(self, names: TopicNames) -> list[tuple[str, TopicSpec]]:
        """What the stage creates at startup besides its outputs and input DLQs, as
        (kind, spec): each internal topic and its DLQ, each table's changelog (compacted).
        The stage itself and the k8s topic generator both declare these."""
        created: list[tuple[str, TopicSpec]] = []
        for suffix, partitions in self.internal_topics.items():
            topic = self.internal_topic(suffix)
            created.append(("internal", internal_topic_spec(names.topic(topic), partitions)))
            created.append(("dlq", internal_topic_spec(names.dlq(topic), partitions)))
        for table, partitions in self.tables.items():
            changelog = self.changelog_topic(table, names.prefix)
            created.append(("changelog", internal_topic_spec(changelog, partitions, compact=True)))
        return created

    def _declared(self, kind: str, declared: Mapping[str, int], name: str) -> int:
        if name not in declared:
            raise ConfigurationError(
                f"stage {self.name!r} declares no {kind} {name!r} in the stage registry "
                f"(it has: {', '.join(declared) or 'none'})"
            )
        return declared[name]

    def contract_inputs(
        self, catalogue: Catalogue, agreements_dir: Path | None = None
    ) -> tuple[str, ...]:
        """The catalogue topics the stage consumes (not its internal topics), bulk twins
        (``<topic>.bulk``, consumed at lower priority) included."""
        if self.topics_from == "department_topics":
            live = catalogue.department_topics()
            bulk = tuple(bulk_topic(t) for t in live if catalogue.get(t).bulk_lane)
            return live + bulk
        if self.topics_from == "agreements":
            return tuple(sorted({p.source.topic for p in _plans(catalogue, agreements_dir)}))
        return self.inputs

    def contract_outputs(
        self, catalogue: Catalogue, agreements_dir: Path | None = None
    ) -> tuple[str, ...]:
        """The topics the stage produces (not its internal topics)."""
        if self.topics_from == "department_topics":
            return tuple(std_topic(t) for t in self.contract_inputs(catalogue))
        if self.topics_from == "agreements":
            return tuple(p.topic for p in _plans(catalogue, agreements_dir))
        return self.outputs


def _plans(catalogue: Catalogue, agreements_dir: Path | None) -> list[ViewPlan]:
    from renkei.contracts.views import load_view_plans

    if agreements_dir is None:
        raise ConfigurationError("the views stage's topics come from the agreements folder")
    return load_view_plans(agreements_dir, catalogue)


_SPECS = (
    StageSpec(
        name="standardize",
        title="標準化 (standardize): department topic → std.<topic>",
        builder="renkei.stages.standardize.stage:build_standardize",
        web_port_offset=0,
        topics_from="department_topics",
        store="memory://",
        replicated_inputs=REFERENCE_TOPICS,
    ),
    StageSpec(
        name="resident",
        title="住民の連携 (resident linkage): std resident topics → unified.resident",
        builder="renkei.stages.resident.stage:build_resident",
        web_port_offset=1,
        inputs=(
            "std.registry.resident.events",
            "std.health.checkup.results",
            "std.welfare.care.certifications",
            # bulk lanes: snapshots and batches, paused while a live input has lag
            "std.registry.resident.events.bulk",
            "std.health.checkup.results.bulk",
            "std.welfare.care.certifications.bulk",
        ),
        outputs=("unified.resident", RESIDENT_FACTS),
        state_outputs=("unified.resident",),
        tables={"residents": RESIDENT_PARTITIONS, "households": RESIDENT_PARTITIONS},
        internal_topics={
            "household-members": RESIDENT_PARTITIONS,
            "household-views": RESIDENT_PARTITIONS,
            # one message per partition when municipal changes take effect (re-key scan)
            "reorganisations": RESIDENT_PARTITIONS,
        },
        replicated_inputs=REFERENCE_TOPICS,
    ),
    StageSpec(
        name="region",
        title="地域集計 (region aggregates): resident facts, indicators → unified.region",
        builder="renkei.stages.region.stage:build_region",
        web_port_offset=2,
        inputs=(RESIDENT_FACTS, "std.economy.region.indicators"),
        outputs=("unified.region", "derived.region.daily-moves"),
        state_outputs=("unified.region",),  # per-day counts are event-valued: never coalesced
        tables={"routing": RESIDENT_PARTITIONS, "regions": REGION_PARTITIONS},
        internal_topics={"members": REGION_PARTITIONS},
    ),
    StageSpec(
        name="evacuation",
        title="避難行動要支援者名簿 (evacuation support lists): facts × alerts",
        builder="renkei.stages.evacuation.stage:build_evacuation",
        web_port_offset=3,
        inputs=(RESIDENT_FACTS, "std.disaster.area.alerts"),
        outputs=("derived.evacuation-support",),
        tables={
            "routing": RESIDENT_PARTITIONS,
            "alerts": ALERT_PARTITIONS,
            "regions": REGION_PARTITIONS,
        },
        internal_topics={"regions": REGION_PARTITIONS, "alert-lane": REGION_PARTITIONS},
        urgent_inputs=("std.disaster.area.alerts", "renkei-evacuation-alert-lane"),
    ),
    StageSpec(
        name="views",
        title="目的別ビュー (purpose views): agreed sources → view.<purpose>.<short>",
        builder="renkei.stages.views.stage:build_views",
        web_port_offset=4,
        topics_from="agreements",
        store="memory://",
    ),
)

STAGES: dict[str, StageSpec] = {spec.name: spec for spec in _SPECS}
"""Every stage by name, in pipeline order."""
STAGE_NAMES: tuple[str, ...] = tuple(STAGES)


def bulk_inputs(topics: tuple[str, ...]) -> tuple[str, ...]:
    """The bulk lanes (``<topic>.bulk``) among a stage's consumed ``topics``: they are paused
    while any other input of the stage has lag (runtime/lanes.py)."""
    return tuple(t for t in topics if is_bulk(t))


def stage_spec(name: str) -> StageSpec:
    """The registry entry of ``name`` (ConfigurationError naming the stages otherwise)."""
    try:
        return STAGES[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown stage {name!r}; the stages are {', '.join(STAGES)}"
        ) from None


def default_web_port(settings: Settings, stage: str) -> int:
    """standardize 6066, resident 6067, region 6068, evacuation 6069, views 6070 (from the base
    port ``RENKEI_WORKER_WEB_PORT_BASE``)."""
    if stage not in STAGES:
        raise ConfigurationError(f"no default web port for stage {stage!r}; pass web_port")
    return settings.worker_web_port_base + STAGES[stage].web_port_offset
