"""Kubernetes manifests in deploy/k8s: core kinds validated against the Kubernetes OpenAPI
schemas (kubernetes-validate, offline), Strimzi and Prometheus Operator resources checked
structurally, the generated files equal to a fresh generation, topics equal to the catalogue."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from renkei.contracts.stages import STAGES, default_web_port
from renkei.contracts.views import load_view_plans
from renkei.deploy import k8s_rules, k8s_topics
from renkei.ops.health import LIVE_PATH, READY_PATH
from renkei.schemas.catalogue import load_catalogue
from renkei.settings import Settings
from renkei.topics import topic_config
from tests.deploy.conftest import DEPLOY
from tests.deploy.settings_env import field_of, parse

K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.30.0"
CORE_KINDS = {
    "Namespace",
    "ConfigMap",
    "Service",
    "Deployment",
    "StatefulSet",
    "Job",
    "PersistentVolumeClaim",
}
DEFAULTS = Settings.model_construct()  # defaults only, whatever the environment says


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _kustomized(folder: Path) -> list[dict[str, Any]]:
    """The resources of ``folder``'s kustomization, following folders it includes."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        path = (folder / name).resolve()
        found += _kustomized(path) if path.is_dir() else documents(path)
    return found


@cache
def resources() -> list[dict[str, Any]]:
    return _kustomized(K8S)


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in resources() if d["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    return next(d for d in of_kind(kind) if d["metadata"]["name"] == name)


def settings_data() -> dict[str, str]:
    return {k: str(v) for k, v in named("ConfigMap", "renkei-settings")["data"].items()}


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files | {"../k8s-secure"}
    keys = [(d["kind"], d["metadata"]["name"]) for d in resources()]
    assert len(keys) == len(set(keys)), "duplicate resources"
    assert {d["metadata"].get("namespace", "renkei") for d in resources()} == {"renkei"}


@pytest.mark.parametrize(
    "resource",
    [d for d in resources() if d["kind"] in CORE_KINDS],
    ids=lambda d: f"{d['kind']}/{d['metadata']['name']}",
)
def test_core_resources_are_valid_kubernetes(resource: dict[str, Any]) -> None:
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_broken_resource() -> None:
    broken = yaml.safe_load(yaml.safe_dump(named("StatefulSet", "worker-resident")))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["port"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_strimzi_kafka_is_kraft_with_three_replicas_and_min_insync_two() -> None:
    (kafka,) = of_kind("Kafka")
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1beta2"
    annotations = kafka["metadata"]["annotations"]
    assert annotations == {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["offsets.topic.replication.factor"] == 3
    assert config["transaction.state.log.replication.factor"] == 3
    assert config["transaction.state.log.min.isr"] == 2
    assert "zookeeper" not in kafka["spec"]
    assert "topicOperator" in kafka["spec"]["entityOperator"]
    (pool,) = of_kind("KafkaNodePool")
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert pool["spec"]["replicas"] == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    volume = pool["spec"]["storage"]["volumes"][0]
    assert volume["type"] == "persistent-claim" and volume["kraftMetadata"] == "shared"
    (scram,) = kafka["spec"]["kafka"]["listeners"]  # the only way in (tests/security)
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap:{scram['port']}"
    assert settings_data()["RENKEI_KAFKA_BOOTSTRAP"] == bootstrap


def test_topics_file_is_a_fresh_generation() -> None:
    fresh = k8s_topics.render(DEFAULTS)
    assert (K8S / "topics.yaml").read_text(encoding="utf-8") == fresh, (
        "deploy/k8s/topics.yaml is stale: python -m renkei.deploy.k8s_topics "
        "> deploy/k8s/topics.yaml"
    )


def test_topics_match_the_catalogue() -> None:
    (kafka,) = of_kind("Kafka")
    topics = {t["spec"]["topicName"]: t for t in of_kind("KafkaTopic")}
    catalogue = load_catalogue(DEFAULTS.schemas_dir)
    for spec in catalogue:
        topic = topics[spec.topic]["spec"]
        assert topic["partitions"] == spec.partitions, spec.topic
        assert topic["config"]["cleanup.policy"] == spec.cleanup_policy, spec.topic
        if "retention_ms" in spec.metadata:
            assert topic["config"]["retention.ms"] == str(spec.metadata["retention_ms"])
        # exactly the configs `renkei schemas apply` gives the topic, plus min.insync
        assert topic["config"] == {**topic_config(spec), "min.insync.replicas": "2"}
    for resource in topics.values():
        assert resource["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert resource["spec"]["replicas"] == 3
        assert resource["spec"]["config"]["min.insync.replicas"] == "2"
    # what the workers would otherwise create with one replica
    for source in ("registry.resident.events", "std.registry.resident.events"):
        dlq = topics[f"dlq.{source}"]["spec"]
        assert dlq["partitions"] == catalogue.get(source).partitions
        assert dlq["config"]["cleanup.policy"] == "delete"
    assert topics["renkei-resident-residents-changelog"]["spec"]["config"] == {
        "cleanup.policy": "compact",
        "min.insync.replicas": "2",
    }
    views = {plan.topic: plan.spec for plan in load_view_plans(DEFAULTS.agreements_dir, catalogue)}
    for name, spec in views.items():
        assert topics[name]["spec"]["partitions"] == spec.partitions
        assert topics[name]["spec"]["config"]["cleanup.policy"] == spec.cleanup_policy
    assert set(topics) - set(catalogue.topics) - set(views) == {
        t for t in topics if t.startswith(("dlq.", "renkei-"))
    }


def test_generator_rejects_impossible_replication() -> None:
    from renkei.errors import RenkeiError

    with pytest.raises(RenkeiError, match=r"min\.insync\.replicas"):
        k8s_topics.render(DEFAULTS, replicas=1, min_insync=2)
    assert k8s_topics.resource_name("dlq.Foo_bar") != "dlq.Foo_bar"
    assert k8s_topics.resource_name("unified.region") == "unified.region"


def test_prometheus_rule_is_a_fresh_generation() -> None:
    fresh = k8s_rules.render(k8s_rules.DEFAULT_RULES)
    assert (K8S / "prometheus-rules.yaml").read_text(encoding="utf-8") == fresh


@pytest.mark.parametrize("stage", list(STAGES))
def test_each_stage_is_a_statefulset_with_state_probes_and_resources(stage: str) -> None:
    workload = named("StatefulSet", f"worker-{stage}")
    pod = workload["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["command"][:3] == ["renkei", "worker", stage]
    port = default_web_port(DEFAULTS, stage)
    assert container["ports"] == [{"name": "web", "containerPort": port}]
    assert container["livenessProbe"]["httpGet"] == {"path": LIVE_PATH, "port": "web"}
    assert container["readinessProbe"]["httpGet"] == {"path": READY_PATH, "port": "web"}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    (claim,) = workload["spec"]["volumeClaimTemplates"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == claim["metadata"]["name"])
    assert mount["mountPath"] == settings_data()["RENKEI_HOME"], "RocksDB datadir on the PVC"
    assert container["envFrom"] == [{"configMapRef": {"name": "renkei-settings"}}]
    assert pod["spec"]["securityContext"]["fsGroup"] == 65534  # the image's user writes there
    service = named("Service", workload["spec"]["serviceName"])
    selector = service["spec"]["selector"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["port"] == port


def test_settings_configmap_holds_real_settings_pointing_at_the_cluster() -> None:
    data = settings_data()
    for variable in data:
        assert field_of(variable), f"{variable} is no settings field"
    settings = parse(data)[Settings]
    assert isinstance(settings, Settings)
    assert settings.worker_web_bind == "0.0.0.0"
    registry = named("Service", "registry")["spec"]["ports"][0]["port"]
    assert settings.schema_registry_url == f"http://registry:{registry}/apis/ccompat/v7"
    for workload in of_kind("Deployment") + of_kind("StatefulSet") + of_kind("Job"):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            for item in container.get("env", []):
                if item["name"].startswith("RENKEI_"):
                    assert field_of(item["name"]), item["name"]


def test_staff_view_keeps_its_audit_file_on_a_claim() -> None:
    deployment = named("Deployment", "staff-view")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    mount = container["volumeMounts"][0]
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    claim = volume["persistentVolumeClaim"]["claimName"]
    assert named("PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert mount["mountPath"] == settings_data()["RENKEI_HOME"]
    assert deployment["spec"]["strategy"]["type"] == "Recreate"  # one writer of the claim
    assert container["readinessProbe"]["httpGet"]["path"] == READY_PATH


def test_schemas_job_leaves_topics_to_strimzi() -> None:
    (container,) = named("Job", "schemas-apply")["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["renkei", "schemas", "apply", "--no-topics"]


def test_service_monitor_scrapes_every_worker_as_the_rules_expect() -> None:
    (monitor,) = of_kind("ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    workers = [s for s in of_kind("Service") if selector.items() <= s["metadata"]["labels"].items()]
    assert sorted(s["metadata"]["name"] for s in workers) == sorted(f"worker-{s}" for s in STAGES)
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics" and endpoint["honorLabels"] is True
    for service in workers:
        assert endpoint["port"] in [p["name"] for p in service["spec"]["ports"]]
    relabel = {r["targetLabel"]: r for r in endpoint["relabelings"]}
    assert relabel["job"]["replacement"] == "renkei-workers"  # what the alert rules select
    assert relabel["stage"]["sourceLabels"] == ["__meta_kubernetes_service_label_renkei_jp_stage"]
    assert all("renkei.jp/stage" in s["metadata"]["labels"] for s in workers)
    rules = (DEPLOY / "prometheus" / "rules" / "renkei.yml").read_text(encoding="utf-8")
    assert 'up{job="renkei-workers"}' in rules


def test_kustomize_builds_the_whole_set() -> None:
    """`kubectl kustomize` (offline) renders every resource, images rewritten. kubectl is an
    optional tool here (not in the Debian system deps): skipped where it is missing."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed")
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    built = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert sorted((d["kind"], d["metadata"]["name"]) for d in built) == sorted(
        (d["kind"], d["metadata"]["name"]) for d in resources()
    )
    assert {d["metadata"]["namespace"] for d in built if d["kind"] != "Namespace"} == {"renkei"}
