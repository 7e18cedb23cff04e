"""The names running deployments depend on, pinned as literals (no broker).

Consumer groups / app ids, default web ports, consumed topics and agent names, contract
outputs, tables and their changelog topics, internal topics, DLQ names, Prometheus metric
families and view topics. A rename of any of these breaks a running deployment (committed
offsets, changelogs, dashboards, ACLs, consumers of views), so a refactor that moves code
must leave every expected value below unchanged.

Every access to the code under test is in the helpers at the top: a move of modules updates
only those; the expected values (literals) must not change.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.fake_registry import FakeRegistry
from tests.stages.test_stage_agents import RecordingSend

# --- access to the code under test (update these, and only these, when modules move) ------


def settings(home: Path) -> Any:
    """The repo's default settings (no RENKEI_* variable may be set), home under ``home``."""
    from renkei.settings import Settings

    return Settings(home=home)


def stage_names() -> tuple[str, ...]:
    """The stage names ``renkei worker STAGE`` accepts (the stage registry)."""
    from renkei.contracts.stages import STAGES

    return tuple(STAGES)


def build(stage: str, home: Path, send: Any = None) -> Any:
    """The faust App of ``stage`` as ``renkei worker`` builds it (its registered builder),
    with default settings and port, memory tables, a fake registry."""
    from renkei.runtime.worker import load_builder

    builder = load_builder(stage)
    options: dict[str, Any] = {"store": "memory://"}
    options |= {"registry": FakeRegistry().client(), "send": send or RecordingSend()}
    return builder(settings(home), **options)


def output_topics(app: Any) -> tuple[str, ...]:
    """The contract output topics of a built stage App."""
    return tuple(spec.topic for spec in app.builder.outputs)


def internal_topics(app: Any) -> dict[str, int]:
    """Internal topic → partitions of a built stage App."""
    return dict(app.builder.internal_topics)


async def route_garbage(app: Any, topic: str) -> None:
    """Process an undecodable record from ``topic`` (contract name) through the stage."""
    from renkei.runtime.records import SourceRecord

    await app.builder.processor.process(SourceRecord(topic, topic, 0, 0, b"k", b"garbage"))


def dlq_name(topic: str) -> str:
    """The DLQ topic of ``topic`` (no prefix, as in production)."""
    from renkei.contracts.names import TopicNames

    return TopicNames().dlq(topic)


def metric_families() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every Renkei Prometheus family: name → (type, labels)."""
    from renkei.ops.metrics import METRIC_FAMILIES

    return {f.name: (f.kind, tuple(f.labels)) for f in METRIC_FAMILIES.values()}


def view_plans() -> dict[str, tuple[str, str, tuple[str, ...], int]]:
    """View topic → (source topic, purpose, agreements, partitions) from deploy/agreements/."""
    from renkei.contracts.views import load_view_plans
    from renkei.schemas.catalogue import load_catalogue

    s = settings(Path("/nonexistent-home"))
    plans = load_view_plans(s.agreements_dir, load_catalogue(s.schemas_dir))
    return {
        p.topic: (p.source.topic, p.purpose, tuple(p.agreements), p.spec.partitions) for p in plans
    }


# --- the contract (literals) -------------------------------------------------------------

STAGES = ("standardize", "resident", "region", "evacuation", "views")

GROUPS = {
    "standardize": "renkei-standardize",
    "resident": "renkei-resident",
    "region": "renkei-region",
    "evacuation": "renkei-evacuation",
    "views": "renkei-views",
}

WEB_PORTS = {
    "standardize": 6066,
    "resident": 6067,
    "region": 6068,
    "evacuation": 6069,
    "views": 6070,
}

CONSUMED = {  # stage → {Kafka topic its agents consume: partitions}
    "standardize": {
        "registry.resident.events": 6,
        "health.checkup.results": 6,
        "welfare.care.certifications": 6,
        "disaster.area.alerts": 3,
        "economy.region.indicators": 3,
        # bulk lanes (docs/design/streaming-core.md, Lanes)
        "registry.resident.events.bulk": 6,
        "health.checkup.results.bulk": 6,
        "welfare.care.certifications.bulk": 6,
    },
    "resident": {
        "std.registry.resident.events": 6,
        "std.health.checkup.results": 6,
        "std.welfare.care.certifications": 6,
        "std.registry.resident.events.bulk": 6,
        "std.health.checkup.results.bulk": 6,
        "std.welfare.care.certifications.bulk": 6,
        "renkei-resident-household-members": 6,
        "renkei-resident-household-views": 6,
        "renkei-resident-reorganisations": 6,
    },
    "region": {
        "internal.resident.facts": 6,
        "std.economy.region.indicators": 3,
        "renkei-region-members": 3,
    },
    "evacuation": {
        "internal.resident.facts": 6,
        "std.disaster.area.alerts": 3,
        "renkei-evacuation-regions": 3,
        "renkei-evacuation-alert-lane": 3,
    },
    "views": {
        "unified.resident": 6,
        "unified.region": 3,
        "derived.evacuation-support": 3,
        "derived.region-snapshot": 3,
    },
}

AGENTS = {  # stage → faust agent names
    "standardize": (
        "standardize.disaster.area.alerts",
        "standardize.economy.region.indicators",
        "standardize.health.checkup.results",
        "standardize.health.checkup.results.bulk",
        "standardize.registry.resident.events",
        "standardize.registry.resident.events.bulk",
        "standardize.welfare.care.certifications",
        "standardize.welfare.care.certifications.bulk",
    ),
    "resident": (
        "resident.renkei-resident-household-members",
        "resident.renkei-resident-household-views",
        "resident.renkei-resident-reorganisations",
        "resident.std.health.checkup.results",
        "resident.std.health.checkup.results.bulk",
        "resident.std.registry.resident.events",
        "resident.std.registry.resident.events.bulk",
        "resident.std.welfare.care.certifications",
        "resident.std.welfare.care.certifications.bulk",
    ),
    "region": (
        "region.internal.resident.facts",
        "region.renkei-region-members",
        "region.std.economy.region.indicators",
    ),
    "evacuation": (
        "evacuation.internal.resident.facts",
        "evacuation.renkei-evacuation-alert-lane",
        "evacuation.renkei-evacuation-regions",
        "evacuation.std.disaster.area.alerts",
    ),
    "views": (
        "views.derived.evacuation-support",
        "views.derived.region-snapshot",
        "views.unified.region",
        "views.unified.resident",
    ),
}

OUTPUTS = {  # stage → contract output topics
    "standardize": (
        "std.registry.resident.events",
        "std.health.checkup.results",
        "std.welfare.care.certifications",
        "std.disaster.area.alerts",
        "std.economy.region.indicators",
        "std.registry.resident.events.bulk",
        "std.health.checkup.results.bulk",
        "std.welfare.care.certifications.bulk",
    ),
    "resident": ("unified.resident", "internal.resident.facts"),
    "region": ("unified.region", "derived.region.daily-moves"),
    "evacuation": ("derived.evacuation-support",),
    "views": (
        "view.evacuation-support.evacuation-support",
        "view.health-promotion.resident",
        "view.regional-dashboard.region-snapshot",
        "view.resident-services.resident",
        "view.staff-overview.evacuation-support",
        "view.staff-overview.region",
    ),
}

TABLES = {  # stage → {table name: (changelog topic, partitions)}
    "standardize": {},
    "resident": {
        "residents": ("renkei-resident-residents-changelog", 6),
        "households": ("renkei-resident-households-changelog", 6),
    },
    "region": {
        "routing": ("renkei-region-routing-changelog", 6),
        "regions": ("renkei-region-regions-changelog", 3),
    },
    "evacuation": {
        "routing": ("renkei-evacuation-routing-changelog", 6),
        "alerts": ("renkei-evacuation-alerts-changelog", 3),
        "regions": ("renkei-evacuation-regions-changelog", 3),
    },
    "views": {},
}

INTERNAL_TOPICS = {  # stage → {internal topic: partitions}
    "standardize": {},
    "resident": {
        "renkei-resident-household-members": 6,
        "renkei-resident-household-views": 6,
        "renkei-resident-reorganisations": 6,
    },
    "region": {"renkei-region-members": 3},
    "evacuation": {"renkei-evacuation-regions": 3, "renkei-evacuation-alert-lane": 3},
    "views": {},
}

DLQS = {  # stage → DLQ topics of the topics its agents consume
    "standardize": (
        "dlq.disaster.area.alerts",
        "dlq.economy.region.indicators",
        "dlq.health.checkup.results",
        "dlq.health.checkup.results.bulk",
        "dlq.registry.resident.events",
        "dlq.registry.resident.events.bulk",
        "dlq.welfare.care.certifications",
        "dlq.welfare.care.certifications.bulk",
    ),
    "resident": (
        "dlq.renkei-resident-household-members",
        "dlq.renkei-resident-household-views",
        "dlq.renkei-resident-reorganisations",
        "dlq.std.health.checkup.results",
        "dlq.std.health.checkup.results.bulk",
        "dlq.std.registry.resident.events",
        "dlq.std.registry.resident.events.bulk",
        "dlq.std.welfare.care.certifications",
        "dlq.std.welfare.care.certifications.bulk",
    ),
    "region": (
        "dlq.internal.resident.facts",
        "dlq.renkei-region-members",
        "dlq.std.economy.region.indicators",
    ),
    "evacuation": (
        "dlq.internal.resident.facts",
        "dlq.renkei-evacuation-alert-lane",
        "dlq.renkei-evacuation-regions",
        "dlq.std.disaster.area.alerts",
    ),
    "views": (
        "dlq.derived.evacuation-support",
        "dlq.derived.region-snapshot",
        "dlq.unified.region",
        "dlq.unified.resident",
    ),
}

METRIC_FAMILIES = {  # name → (type, labels); dashboards and alert rules query these
    "renkei_alert_to_list_seconds": ("histogram", ()),
    "renkei_bulk_paused": ("gauge", ("stage",)),
    "renkei_bulk_paused_seconds_total": ("counter", ("stage",)),
    "renkei_lane_lag": ("gauge", ("stage", "lane")),
    "renkei_consumer_committed_offset": ("gauge", ("stage", "topic", "partition")),
    "renkei_consumer_end_offset": ("gauge", ("stage", "topic", "partition")),
    "renkei_consumer_lag": ("gauge", ("stage", "topic", "partition")),
    "renkei_consumer_last_commit_age_seconds": ("gauge", ("stage", "topic", "partition")),
    "renkei_dlq_breaker_open": ("gauge", ("stage",)),
    "renkei_dlq_records_total": ("counter", ("stage", "topic", "reason")),
    "renkei_event_freshness_seconds": ("histogram", ("stage", "topic")),
    "renkei_events_in_total": ("counter", ("stage", "topic")),
    "renkei_events_out_total": ("counter", ("stage", "topic")),
    "renkei_publisher_records_total": ("counter", ("topic", "result")),
    "renkei_standardize_corrections_total": ("counter", ("kind",)),
    "renkei_table_entries": ("gauge", ("stage", "table")),
    "renkei_table_lookups_total": ("counter", ("stage", "table", "result")),
    "renkei_worker_ready": ("gauge", ("stage",)),
}

VIEWS = {  # view topic → (source topic, purpose, agreements, partitions)
    "view.evacuation-support.evacuation-support": (
        "derived.evacuation-support",
        "evacuation-support",
        ("evacuation-notifier",),
        3,
    ),
    "view.health-promotion.resident": (
        "unified.resident",
        "health-promotion",
        ("health-promotion",),
        6,
    ),
    "view.regional-dashboard.region-snapshot": (
        "derived.region-snapshot",
        "regional-dashboard",
        ("regional-dashboard",),
        3,
    ),
    "view.resident-services.resident": (
        "unified.resident",
        "resident-services",
        ("resident-services-staff",),
        6,
    ),
    "view.staff-overview.evacuation-support": (
        "derived.evacuation-support",
        "staff-overview",
        ("staff-view",),
        3,
    ),
    "view.staff-overview.region": ("unified.region", "staff-overview", ("staff-view",), 3),
}


# --- tests --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _default_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Default settings: no RENKEI_* variable of the caller's shell changes a name."""
    for variable in list(os.environ):
        if variable.startswith("RENKEI_"):
            monkeypatch.delenv(variable)


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[dict[str, Any]]:
    yield {stage: build(stage, tmp_path) for stage in STAGES}


def test_stage_names_are_the_worker_command_arguments() -> None:
    assert stage_names() == STAGES


def test_each_stage_keeps_its_group_port_topics_agents_and_tables(apps: dict[str, Any]) -> None:
    for stage, app in apps.items():
        assert app.conf.id == GROUPS[stage], stage
        assert app.conf.web_port == WEB_PORTS[stage], stage
        consumed = {
            topic: agent.channel.partitions
            for agent in app.agents.values()
            for topic in agent.channel.topics
        }
        assert consumed == CONSUMED[stage], stage
        assert tuple(sorted(app.agents)) == AGENTS[stage], stage
        assert sorted(output_topics(app)) == sorted(OUTPUTS[stage]), stage  # order is no contract
        tables = {
            name: (table.changelog_topic.get_topic_name(), table.partitions)
            for name, table in app.tables.items()
        }
        assert tables == TABLES[stage], stage
        assert internal_topics(app) == INTERNAL_TOPICS[stage], stage


def test_dlq_topics_are_dlq_dot_the_consumed_topic() -> None:
    assert dlq_name("registry.resident.events") == "dlq.registry.resident.events"
    for stage, consumed in CONSUMED.items():
        assert tuple(sorted(dlq_name(t) for t in consumed)) == DLQS[stage], stage


@pytest.mark.timeout(60)
async def test_stages_route_undecodable_records_to_those_dlqs(tmp_path: Path) -> None:
    for stage in STAGES:
        send = RecordingSend()
        app = build(stage, tmp_path / stage, send=send)
        for topic in CONSUMED[stage]:
            await route_garbage(app, topic)
        assert tuple(sorted(topic for topic, *_ in send.sent)) == DLQS[stage], stage


def test_metric_family_names_types_and_labels() -> None:
    assert metric_families() == METRIC_FAMILIES
    assert sorted(metric_families()) == [
        "renkei_alert_to_list_seconds",
        "renkei_bulk_paused",
        "renkei_bulk_paused_seconds_total",
        "renkei_consumer_committed_offset",
        "renkei_consumer_end_offset",
        "renkei_consumer_lag",
        "renkei_consumer_last_commit_age_seconds",
        "renkei_dlq_breaker_open",
        "renkei_dlq_records_total",
        "renkei_event_freshness_seconds",
        "renkei_events_in_total",
        "renkei_events_out_total",
        "renkei_lane_lag",
        "renkei_publisher_records_total",
        "renkei_standardize_corrections_total",
        "renkei_table_entries",
        "renkei_table_lookups_total",
        "renkei_worker_ready",
    ]


def test_view_topics_of_the_agreements() -> None:
    assert view_plans() == VIEWS
    assert sorted(VIEWS) == list(OUTPUTS["views"])


def test_the_stage_registry_declares_the_same_names() -> None:
    """Deploy generators and ``renkei status`` read the registry without building an App."""
    from renkei.contracts.stages import STAGES as REGISTRY
    from renkei.contracts.stages import default_web_port

    defaults = settings(Path("/nonexistent-home"))
    for stage in STAGES:
        spec = REGISTRY[stage]
        assert spec.group() == GROUPS[stage], stage
        assert default_web_port(defaults, stage) == WEB_PORTS[stage], stage
        changelogs = {spec.changelog_topic(t): p for t, p in spec.tables.items()}
        assert changelogs == dict(TABLES[stage].values()), stage
        internal = {spec.internal_topic(s): p for s, p in spec.internal_topics.items()}
        assert internal == INTERNAL_TOPICS[stage], stage


JOBS = {  # job → (inputs, outputs, default interval, audit kind, CLI verb)
    "disclosure": (
        ("internal.resident.facts",),
        ("derived.region-snapshot",),
        "1d",
        "disclosure.released",
        "disclosure",
    ),
}


def test_the_job_registry_declares_the_same_names() -> None:
    """Scheduled jobs (not stages): their topics, schedule, audit kind and CLI verb."""
    from renkei.cli import cli
    from renkei.contracts.jobs import JOBS as REGISTRY

    assert set(REGISTRY) == set(JOBS)
    for name, (inputs, outputs, every, kind, verb) in JOBS.items():
        spec = REGISTRY[name]
        assert (spec.inputs, spec.outputs, spec.every_default, spec.audit_kind) == (
            inputs,
            outputs,
            every,
            kind,
        ), name
        assert verb in cli.commands, name
