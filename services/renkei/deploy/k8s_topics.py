"""Strimzi ``KafkaTopic`` resources for every topic the platform uses, generated from the code.

``python -m renkei.deploy.k8s_topics > deploy/k8s/topics.yaml``

Three kinds of topics, each with the configs the workers themselves would give it:

- catalogue topics (``schemas/avro/*/topic.yaml``): partitions, cleanup policy and retention
  of their metadata (``renkei.topics.topic_config``, as ``renkei schemas apply``);
- the views stage's ``view.<purpose>.<short>`` topics of the consumer agreements
  (``deploy/agreements``), with the partitions, cleanup and retention the stage gives them;
- what the stage workers create at startup, read from the stage registry
  (``renkei.contracts.stages``): ``dlq.<input>`` of every input, the linkage stages' internal
  topics and their DLQs, and their table changelogs (compacted);
- every one with ``replicas`` copies and ``min.insync.replicas``, because a worker that creates
  a missing topic itself asks for one replica, which a cluster with min.insync.replicas 2 cannot
  accept writes on (acks=all). Declaring them here means the workers find them present.

It builds no stage App and needs no broker.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import yaml

from renkei.contracts.dlq import dlq_spec
from renkei.contracts.names import TopicNames
from renkei.contracts.stages import STAGES
from renkei.contracts.views import load_view_plans
from renkei.errors import RenkeiError
from renkei.schemas.catalogue import Catalogue, TopicSpec, load_catalogue
from renkei.settings import Settings, load_settings
from renkei.topics import topic_config

STRIMZI_API = "kafka.strimzi.io/v1beta2"
DEFAULT_CLUSTER = "renkei"
DEFAULT_NAMESPACE = "renkei"
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


@dataclass(frozen=True)
class PlannedTopic:
    """One Kafka topic to declare: its name, partitions, configs and where it comes from."""

    name: str
    partitions: int
    config: dict[str, str]
    kind: str  # catalogue | view | dlq | internal | changelog
    stage: str = ""


def catalogue_topics(catalogue: Catalogue) -> list[PlannedTopic]:
    """The catalogue's topics with their metadata's partitions and configs."""
    return [
        PlannedTopic(spec.topic, spec.partitions, topic_config(spec), "catalogue")
        for spec in catalogue
    ]


def view_topics(settings: Settings, catalogue: Catalogue) -> list[PlannedTopic]:
    """The views stage's output topics, one per consumer agreement's source topic."""
    return [
        _planned(plan.spec, "view", "views")
        for plan in load_view_plans(settings.agreements_dir, catalogue)
    ]


def stage_topics(settings: Settings, catalogue: Catalogue) -> list[PlannedTopic]:
    """DLQs, internal topics and changelogs of every stage, from the stage registry."""
    names = TopicNames("")
    planned: list[PlannedTopic] = []
    for stage in STAGES.values():
        inputs = stage.contract_inputs(catalogue, settings.agreements_dir)
        for topic in inputs:
            source = catalogue.get(topic)
            planned.append(_planned(dlq_spec(source, names, source.partitions), "dlq", stage.name))
        for kind, spec in stage.created_topics(names):
            planned.append(_planned(spec, kind, stage.name))
    return planned


def _planned(spec: TopicSpec, kind: str, stage: str) -> PlannedTopic:
    return PlannedTopic(spec.topic, spec.partitions, topic_config(spec), kind, stage)


def plan(settings: Settings) -> list[PlannedTopic]:
    """Every topic, by name; the same topic seen by two stages must agree (or it is an error)."""
    catalogue = load_catalogue(settings.schemas_dir)
    planned = (
        catalogue_topics(catalogue)
        + view_topics(settings, catalogue)
        + stage_topics(settings, catalogue)
    )
    by_name: dict[str, PlannedTopic] = {}
    for topic in planned:
        seen = by_name.get(topic.name)
        if seen is None:
            by_name[topic.name] = topic
        elif (seen.partitions, seen.config) != (topic.partitions, topic.config):
            raise RenkeiError(
                f"topic {topic.name}: {seen.stage or seen.kind} and {topic.stage} disagree "
                f"({seen.partitions} {seen.config} vs {topic.partitions} {topic.config})"
            )
    return [by_name[name] for name in sorted(by_name)]


def resource_name(topic: str) -> str:
    """A Kubernetes object name for ``topic`` (the topic name itself when it is one)."""
    if _K8S_NAME.match(topic):
        return topic
    cleaned = re.sub(r"[^a-z0-9.-]+", "-", topic.lower()).strip("-.")[:200]
    return f"{cleaned}-{hashlib.sha256(topic.encode()).hexdigest()[:8]}"


def kafka_topic(
    topic: PlannedTopic, *, cluster: str, namespace: str, replicas: int, min_insync: int
) -> dict[str, Any]:
    """The KafkaTopic resource of one planned topic."""
    labels = {
        "strimzi.io/cluster": cluster,
        "app.kubernetes.io/part-of": "renkei",
        "renkei.jp/topic-kind": topic.kind,
    }
    if topic.stage:
        labels["renkei.jp/stage"] = topic.stage
    return {
        "apiVersion": STRIMZI_API,
        "kind": "KafkaTopic",
        "metadata": {"name": resource_name(topic.name), "namespace": namespace, "labels": labels},
        "spec": {
            "topicName": topic.name,
            "partitions": topic.partitions,
            "replicas": replicas,
            "config": {**topic.config, "min.insync.replicas": str(min_insync)},
        },
    }


def render(
    settings: Settings,
    *,
    cluster: str = DEFAULT_CLUSTER,
    namespace: str = DEFAULT_NAMESPACE,
    replicas: int = 3,
    min_insync: int = 2,
) -> str:
    """The whole topics.yaml text: a header, then one document per topic (sorted by name)."""
    if not 1 <= min_insync <= replicas:
        raise RenkeiError(f"min.insync.replicas {min_insync} must be between 1 and {replicas}")
    docs = [
        kafka_topic(
            t, cluster=cluster, namespace=namespace, replicas=replicas, min_insync=min_insync
        )
        for t in plan(settings)
    ]
    header = (
        "# GENERATED by `python -m renkei.deploy.k8s_topics > deploy/k8s/topics.yaml`: do not\n"
        "# edit. Source: the schema catalogue (schemas/avro/*/topic.yaml) and the stage workers'\n"
        "# DLQ, internal and changelog topics. tests/deploy checks it is up to date.\n"
    )
    body = yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True, explicit_start=True)
    return header + body


@click.command()
@click.option("--cluster", default=DEFAULT_CLUSTER, show_default=True, help="Strimzi Kafka name.")
@click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True)
@click.option("--replicas", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--min-insync", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of stdout.",
)
def main(cluster: str, namespace: str, replicas: int, min_insync: int, output: Path | None) -> None:
    """Print Strimzi KafkaTopic resources for every catalogue, view, DLQ, internal and
    changelog topic (catalogue and agreements from RENKEI_SCHEMAS_DIR, RENKEI_AGREEMENTS_DIR)."""
    try:
        text = render(
            load_settings(),
            cluster=cluster,
            namespace=namespace,
            replicas=replicas,
            min_insync=min_insync,
        )
    except RenkeiError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
