"""docker-compose.yml and the Dockerfile, read as files (no Docker engine here): services,
ports, start order, healthchecks, and every RENKEI_* variable against the settings classes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from compose_spec import PyCompose

from renkei.contracts.stages import STAGES, default_web_port
from renkei.deploy.compose_secrets import server_properties
from renkei.ops.health import READY_PATH
from renkei.settings import Settings
from tests.deploy.conftest import DEPLOY, REPO
from tests.deploy.settings_env import field_of, parse

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
RENKEI_IMAGE_SERVICES = [n for n, s in SERVICES.items() if s.get("build") == "."]
SETTINGS_SERVICES = [n for n in RENKEI_IMAGE_SERVICES if n != "registry-proxy"]
"""The registry proxy takes command-line arguments only (no RENKEI_* settings)."""
DEFAULTS = Settings.model_construct()  # defaults only, whatever the environment says
REQUIRED = ("RENKEI_KAFKA_BOOTSTRAP", "RENKEI_SCHEMA_REGISTRY_URL", "RENKEI_HOME")


def env(service: str) -> dict[str, str]:
    environment = SERVICES[service].get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {k: str(v) for k, v in environment.items()}


def published(service: str) -> dict[int, int]:
    """container port → host port; every one bound to 127.0.0.1 (asserted)."""
    ports = {}
    for spec in SERVICES[service].get("ports", []):
        host_ip, host, container = str(spec).split(":")
        assert host_ip == "127.0.0.1", f"{service}: {spec} is published on every interface"
        ports[int(container)] = int(host)
    return ports


def depends(service: str) -> dict[str, str]:
    """dependency → condition (the short list form means service_started)."""
    value = SERVICES[service].get("depends_on") or {}
    if isinstance(value, list):
        return dict.fromkeys(value, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in value.items()}


def compose_spec_accepts(document: dict[str, Any]) -> list[str]:
    """Service names after the Compose-specification parser read ``document`` (anchors and
    merge keys resolved by PyYAML first: the parser does not do YAML 1.1 merges)."""
    return list(PyCompose.from_json(json.dumps(document)).service_names())


def test_compose_file_follows_the_compose_specification() -> None:
    assert sorted(compose_spec_accepts(COMPOSE)) == sorted(SERVICES)
    typo = yaml.safe_load(yaml.safe_dump(COMPOSE))
    typo["services"]["standardize"]["healthcheck"]["intervall"] = "10s"
    with pytest.raises(ValueError, match="intervall"):
        compose_spec_accepts(typo)
    wrong = yaml.safe_load(yaml.safe_dump(COMPOSE))
    wrong["services"]["resident"]["depends_on"]["schemas-apply"]["condition"] = "completed"
    with pytest.raises(ValueError, match="completed"):
        compose_spec_accepts(wrong)


def test_the_whole_platform_is_there() -> None:
    expected = {"kafka", "registry", "schemas-apply", "staff-view", "simulator"}
    expected |= {"prometheus", "grafana"} | set(STAGES)
    expected |= {"access-apply", "registry-proxy", "catalogue"}  # the secure deployment
    assert set(SERVICES) == expected
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:3.9")
    assert SERVICES["registry"]["image"].startswith("apicurio/apicurio-registry:3")
    assert SERVICES["simulator"]["profiles"] == ["simulate"]
    assert [n for n, s in SERVICES.items() if s.get("profiles")] == ["simulator"]


def test_kafka_is_single_node_kraft_with_internal_and_host_listeners() -> None:
    kafka = dict(server_properties("not-a-password"))
    assert kafka["process.roles"] == "broker,controller"
    assert "INTERNAL://kafka:19092" in kafka["advertised.listeners"]
    assert "EXTERNAL://127.0.0.1:9092" in kafka["advertised.listeners"]
    assert kafka["log.dirs"] in [v.split(":")[1] for v in SERVICES["kafka"]["volumes"]]
    assert published("kafka") == {9092: 9092}
    script = SERVICES["kafka"]["command"][-1]
    assert f"./deploy/compose/kafka-start.sh:{script}:ro" in SERVICES["kafka"]["volumes"]


@pytest.mark.parametrize("stage", list(STAGES))
def test_each_stage_runs_its_worker_on_its_default_port(stage: str) -> None:
    service = SERVICES[stage]
    assert service["command"] == ["renkei", "worker", stage]
    port = default_web_port(DEFAULTS, stage)
    assert published(stage) == {port: port}
    assert env(stage)["RENKEI_WORKER_WEB_BIND"] == "0.0.0.0"
    probe = " ".join(service["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}{READY_PATH}" in probe
    home = env(stage)["RENKEI_HOME"]
    volume, _, target = service["volumes"][0].partition(":")
    assert target == home and volume in COMPOSE["volumes"], "RocksDB state on a named volume"
    assert depends(stage) == {"schemas-apply": "service_completed_successfully"}


def test_staff_view_and_schemas_apply() -> None:
    assert SERVICES["staff-view"]["command"] == ["python", "-m", "staff_view", "--secure"]
    assert published("staff-view") == {8090: 8090}
    assert env("staff-view")["RENKEI_STAFF_VIEW_PORT"] == "8090"
    assert env("staff-view")["RENKEI_STAFF_VIEW_BIND"] == "0.0.0.0"
    volume, _, target = SERVICES["staff-view"]["volumes"][0].partition(":")
    assert target.split()[0] == env("staff-view")["RENKEI_HOME"], "its audit file on a volume"
    assert volume in COMPOSE["volumes"]
    assert SERVICES["schemas-apply"]["command"] == ["renkei", "schemas", "apply", "--no-topics"]
    assert depends("schemas-apply") == {"registry-proxy": "service_healthy"}
    assert depends("registry") == {"access-apply": "service_completed_successfully"}
    assert depends("access-apply") == {"kafka": "service_healthy"}
    assert depends("simulator") == {"schemas-apply": "service_completed_successfully"}
    assert depends("staff-view") == {
        "schemas-apply": "service_completed_successfully",
        "views": "service_started",  # the staff view reads its purpose views
    }


def test_start_order_is_acyclic_and_waits_only_on_healthchecks_that_exist() -> None:
    for name in SERVICES:
        for dependency, condition in depends(name).items():
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], f"{dependency} has no healthcheck"
            if condition == "service_completed_successfully":
                assert SERVICES[dependency].get("restart") in (None, "no", "on-failure")
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"depends_on cycle: {' -> '.join((*path, name))}"
        if name not in seen:
            seen.add(name)
            for dependency in depends(name):
                visit(dependency, (*path, name))

    for name in SERVICES:
        visit(name, ())
    for name in (
        "kafka",
        "registry",
        "registry-proxy",
        "staff-view",
        "catalogue",
        "prometheus",
        *STAGES,
    ):
        assert "healthcheck" in SERVICES[name], f"{name} has no healthcheck"


def test_every_renkei_variable_is_a_real_setting() -> None:
    for name in RENKEI_IMAGE_SERVICES:
        for variable in env(name):
            if variable.startswith("RENKEI_"):
                assert field_of(variable), f"{name}: {variable} is no settings field"


@pytest.mark.parametrize("service", SETTINGS_SERVICES)
def test_required_settings_are_set_and_point_at_the_containers(service: str) -> None:
    variables = env(service)
    for required in REQUIRED:
        assert required in variables, f"{service}: {required} not set"
    settings = parse(variables)[Settings]
    assert isinstance(settings, Settings)
    assert settings.kafka_bootstrap == "kafka:19092"  # the INTERNAL listener
    registry_port = next(iter(published("registry")))
    assert settings.schema_registry_url == f"http://registry:{registry_port}/apis/ccompat/v7"
    assert settings.home == Path("/var/lib/renkei")


def test_a_misspelt_variable_would_be_caught() -> None:
    assert field_of("RENKEI_KAFKA_BOOTSTRAP") == "kafka_bootstrap"
    assert field_of("RENKEI_KAFKA_BOOTSTRAP_SERVERS") is None
    with pytest.raises(ValueError):
        parse({"RENKEI_WORKER_WEB_PORT_BASE": "not-a-port"})


def test_prometheus_scrapes_the_compose_workers() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "renkei-workers")
    targets = {t["labels"]["stage"]: t["targets"][0] for t in job["static_configs"]}
    assert targets == {s: f"{s}:{default_web_port(DEFAULTS, s)}" for s in STAGES}
    mounts = SERVICES["prometheus"]["volumes"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in mounts
    assert "--config.file=/etc/prometheus/prometheus.yml" in SERVICES["prometheus"]["command"]
    grafana = SERVICES["grafana"]["volumes"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana
    for mount in mounts + grafana:
        source = mount.split(":")[0]
        if source.startswith("./"):
            assert (REPO / source).is_dir(), f"{source} does not exist"


def test_dockerfile_copies_what_exists_and_sets_real_settings() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    for line in re.findall(r"^COPY (.+)$", text, flags=re.MULTILINE):
        for source in line.split()[:-1]:
            assert (REPO / source).exists(), f"Dockerfile copies missing {source}"
    destinations = [line.split()[-1] for line in re.findall(r"^COPY (.+)$", text, re.MULTILINE)]
    assert len(destinations) == len(set(destinations)), "a folder copied twice"
    env_block = re.search(r"^ENV (.+?)(?:\n(?!\s))", text, flags=re.MULTILINE | re.DOTALL)
    assert env_block
    pairs = re.findall(r"(RENKEI_\w+)=(\S+)", env_block.group(1))
    variables = dict(pairs)
    assert len(pairs) == len(variables), "a variable set twice"
    assert set(variables) >= {"RENKEI_SCHEMAS_DIR", "RENKEI_HOME"}
    # every folder setting that defaults into the checkout is set to the image's copy
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, Path) and REPO in default.parents and name != "home":
            assert f"RENKEI_{name.upper()}" in variables, f"Dockerfile does not set {name}"
    for variable, value in variables.items():
        assert field_of(variable), f"Dockerfile sets {variable}, no settings field"
        source = REPO / value.removeprefix("/app/")
        if value.startswith("/app/"):
            assert source.is_dir(), f"{variable}={value}: {source} is not in the image"


def test_staff_view_variables_are_its_own_settings() -> None:
    from staff_view.settings import StaffViewSettings

    built = parse(env("staff-view"))[StaffViewSettings]
    assert isinstance(built, StaffViewSettings)
    assert (built.bind, built.port) == ("0.0.0.0", 8090)
    assert field_of("RENKEI_STAFF_VIEW_PORTS") is None
