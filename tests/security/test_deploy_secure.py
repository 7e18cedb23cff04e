"""The deployed platform is secure by default (issue 14): docker-compose.yml and the Strimzi
manifests, validated statically. No container engine or Kubernetes cluster runs here, so these
tests read the files (and run the generators) instead of starting them; docs/security.md says
what that does and does not show.

- Kafka: SASL_SSL (SCRAM-SHA-512 over TLS) wherever clients connect, the KRaft controller over
  mutual TLS, no PLAINTEXT listener, StandardAuthorizer with no ACL no access, renkei-admin the
  only super user (besides the broker's own certificate in compose).
- Every service that talks to Kafka logs in with SASL_SSL as its own principal, with only its
  own password mounted; the two documented exceptions (compose's one-shot access-apply and the
  development simulator) use the super user.
- The ACLs are the generated ones: the Strimzi KafkaUser resources equal what
  ``renkei agreements stage-acls --services`` prints and what the agreements imply, and compose's
  access-apply runs ``renkei agreements apply --service-principals`` on the same generator.
- The registry listens on loopback only, behind the registry proxy; schema writes carry the
  writer's credentials; the staff pages run with ``--secure`` and a users file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from cryptography import x509

from renkei.agreements.apply import desired_acls
from renkei.agreements.kafka_admin import Acl
from renkei.agreements.model import load_agreements
from renkei.cli import cli
from renkei.contracts.stages import STAGES
from renkei.deploy import compose_secrets, k8s_users
from renkei.deploy.principals import ADMIN_USER, REGISTRY_USER, SCHEMA_WRITER
from renkei.settings import Settings
from tests.contract_lists import REPO

DEFAULTS = Settings.model_construct()
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text("utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
K8S = REPO / "deploy" / "k8s"
USERS_YAML = REPO / "deploy" / "k8s-secure" / "users.yaml"
SUPER_USER_SERVICES = {"access-apply", "simulator"}
"""Compose services that run as renkei-admin, on purpose (docs/security.md)."""
NO_KAFKA = {"registry-proxy", "schemas-apply"}
"""Renkei-image services that never connect to Kafka (the proxy; schemas apply --no-topics)."""
STRIMZI_OPERATIONS = {
    "Read",
    "Write",
    "Create",
    "Delete",
    "Alter",
    "Describe",
    "ClusterAction",
    "DescribeConfigs",
    "AlterConfigs",
    "IdempotentWrite",
    "All",
}


def _env(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (service.get("environment") or {}).items()}


def _secrets(service: dict[str, Any]) -> set[str]:
    return {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}


def _principals() -> dict[str, set[Acl]]:
    return {user: acls for user, (_, acls) in k8s_users.principals(DEFAULTS).items()}


# ---- docker-compose ---------------------------------------------------------------------------


def test_compose_broker_has_no_plaintext_listener_and_an_authorizer() -> None:
    props = dict(compose_secrets.server_properties("x"))
    protocols = dict(item.split(":") for item in props["listener.security.protocol.map"].split(","))
    listeners = {item.split("://")[0] for item in props["listeners"].split(",")}
    assert set(protocols) == listeners
    assert protocols == {"INTERNAL": "SASL_SSL", "EXTERNAL": "SASL_SSL", "CONTROLLER": "SSL"}
    assert "PLAINTEXT" not in props["listener.security.protocol.map"]
    assert props["listener.name.controller.ssl.client.auth"] == "required"  # mTLS controller
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["inter.broker.listener.name"] == "INTERNAL"
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == f"User:CN={compose_secrets.BROKER_CN};User:{ADMIN_USER}"
    # the files the broker reads are the secrets compose mounts for it
    mounted = {f"{compose_secrets.MOUNT}/{name}" for name in _secrets(SERVICES["kafka"])}
    assert {props["ssl.keystore.location"], props["ssl.truststore.location"]} <= mounted
    script = (REPO / "deploy" / "compose" / "kafka-start.sh").read_text("utf-8")
    for path in re.findall(r"/run/secrets/[\w.-]+", script):
        assert path in mounted, path
    assert "--add-scram" in script and f"name={ADMIN_USER}" in script


def test_every_compose_service_that_talks_to_kafka_is_its_own_principal() -> None:
    principals = _principals()
    seen: dict[str, str] = {}
    renkei_services = [n for n, s in SERVICES.items() if s.get("build") == "."]
    for name in renkei_services:
        env = _env(SERVICES[name])
        if name in NO_KAFKA:
            assert "RENKEI_KAFKA_SASL_USERNAME" not in env, name
            continue
        assert env["RENKEI_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["RENKEI_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", name
        assert env["RENKEI_KAFKA_SSL_CAFILE"] == "/run/secrets/ca.pem", name
        user = env["RENKEI_KAFKA_SASL_USERNAME"]
        assert user in principals, (name, user)
        password = env["RENKEI_KAFKA_SASL_PASSWORD_FILE"]
        secrets = _secrets(SERVICES[name])
        assert "ca.pem" in secrets, name
        if name in SUPER_USER_SERVICES:
            assert user == ADMIN_USER, name
        else:
            assert user != ADMIN_USER, name
            assert user not in seen, f"{name} shares {user} with {seen.get(user)}"
            seen[user] = name
            # only its own password is mounted: no other principal's, no folder of them
            assert password == f"/run/secrets/{user}.password", name
            assert secrets - {"ca.pem", "staff-users.yaml"} == {f"{user}.password"}, name
    for stage in STAGES:
        assert _env(SERVICES[stage])["RENKEI_KAFKA_SASL_USERNAME"] == f"renkei-{stage}"
    staff_view = next(a for a in load_agreements(DEFAULTS.agreements_dir) if a.id == "staff-view")
    assert _env(SERVICES["staff-view"])["RENKEI_KAFKA_SASL_USERNAME"] == staff_view.principal


def test_compose_access_apply_makes_the_generated_users_and_acls() -> None:
    service = SERVICES["access-apply"]
    command = service["command"][-1]
    assert "renkei agreements apply" in command
    assert "--password-dir /run/secrets/users" in command and "--service-principals" in command
    assert "--no-stage-principals" not in command
    assert COMPOSE["secrets"]["users"]["file"] == "./deploy/compose/secrets/users"
    # the CLI that access-apply runs applies exactly the generator's table
    printed = CliRunner().invoke(cli, ["agreements", "stage-acls", "--services"])
    assert printed.exit_code == 0, printed.output
    generated = _principals()
    for user, acls in generated.items():
        if user.startswith("renkei-") and user != ADMIN_USER:
            for acl in acls:
                assert acl.describe() in printed.output, acl


def test_compose_secrets_are_what_the_generator_makes(tmp_path: Path) -> None:
    out = tmp_path / "secrets"
    made = compose_secrets.make_secrets(DEFAULTS, out)
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert set(made) <= files
    for path in out.rglob("*"):
        if path.is_file():
            assert path.stat().st_mode & 0o077 == 0, path
    for name, spec in COMPOSE["secrets"].items():
        source = spec["file"].removeprefix("./deploy/compose/secrets/")
        if name == "staff-users.yaml":
            continue  # written by the operator with `renkei identity hash`
        assert (out / source).exists(), (name, source)
    passwords = [p.read_text() for p in (out / "users").iterdir()]
    assert len(passwords) == len(set(passwords)) == len(_principals())
    # the broker certificate is for the names clients use, issued by the CA they trust
    pem = (out / "tls" / "broker.pem").read_bytes()
    broker = x509.load_pem_x509_certificates(pem)[0]
    ca = x509.load_pem_x509_certificate((out / "tls" / "ca.pem").read_bytes())
    broker.verify_directly_issued_by(ca)
    names = broker.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"kafka", "localhost"} <= set(names.get_values_for_type(x509.DNSName))
    registry = (out / "registry-kafka.properties").read_text()
    assert "security.protocol=SASL_SSL" in registry and f'username="{REGISTRY_USER}"' in registry
    again = compose_secrets.make_secrets(DEFAULTS, out)
    assert again == [] and [p.read_text() for p in (out / "users").iterdir()] == passwords


def test_compose_registry_is_on_loopback_behind_the_proxy() -> None:
    registry, proxy = SERVICES["registry"], SERVICES["registry-proxy"]
    assert _env(registry)["QUARKUS_HTTP_HOST"] == "127.0.0.1"
    upstream_port = _env(registry)["QUARKUS_HTTP_PORT"]
    assert proxy["network_mode"] == "service:registry"
    args = proxy["command"]
    assert args[:3] == ["python", "-m", "renkei.stack.registry_proxy"]
    listen = args[args.index("--listen") + 1]
    assert args[args.index("--upstream") + 1] == f"http://127.0.0.1:{upstream_port}"
    assert args[args.index("--password-file") + 1].startswith(f"{SCHEMA_WRITER}=/run/secrets/")
    # what is published and what the containers use is the proxy, never Apicurio itself
    (published,) = registry["ports"]
    assert published.endswith(f":{listen.rpartition(':')[2]}")
    assert listen.rpartition(":")[2] != upstream_port
    for name, service in SERVICES.items():
        url = _env(service).get("RENKEI_SCHEMA_REGISTRY_URL")
        if url is not None:
            assert url.startswith(f"http://registry:{listen.rpartition(':')[2]}/"), name
    assert (
        "-Dquarkus.config.locations=file:///run/secrets/registry-kafka.properties"
        in _env(registry)["JAVA_OPTS_APPEND"]
    )
    schemas = _env(SERVICES["schemas-apply"])
    assert schemas["RENKEI_SCHEMA_REGISTRY_USERNAME"] == SCHEMA_WRITER
    assert (
        schemas["RENKEI_SCHEMA_REGISTRY_PASSWORD_FILE"] == "/run/secrets/registry-writer.password"
    )


@pytest.mark.parametrize("name", ["staff-view", "catalogue"])
def test_compose_staff_pages_require_the_login(name: str) -> None:
    service = SERVICES[name]
    assert "--secure" in service["command"]
    assert "--open-access" not in service["command"]
    env = _env(service)
    assert env["RENKEI_STAFF_USERS_FILE"] == "/run/secrets/staff-users.yaml"
    assert "staff-users.yaml" in _secrets(service)
    assert "RENKEI_STAFF_OPEN_ACCESS" not in env and "RENKEI_CATALOGUE_OPEN_ACCESS" not in env


# ---- Strimzi ------------------------------------------------------------------------------------


def _k8s(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text("utf-8")) if d]


def _workloads() -> list[dict[str, Any]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in _k8s(path.name):
            if doc["kind"] in {"Deployment", "StatefulSet", "Job", "CronJob"}:
                found.append(doc)
    return found


def _pod(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return dict(spec["template"]["spec"])


def test_strimzi_kafka_has_one_scram_tls_listener_and_the_authorizer() -> None:
    (kafka,) = [d for d in _k8s("kafka.yaml") if d["kind"] == "Kafka"]
    listeners = kafka["spec"]["kafka"]["listeners"]
    assert len(listeners) == 1
    (listener,) = listeners
    assert listener["tls"] is True and listener["authentication"] == {"type": "scram-sha-512"}
    assert kafka["spec"]["kafka"]["authorization"] == {"type": "simple", "superUsers": [ADMIN_USER]}
    assert not any(
        k.startswith(("authorizer.", "super.", "allow.everyone"))
        for k in kafka["spec"]["kafka"]["config"]
    )
    (config,) = _k8s("config.yaml")
    data = config["data"]
    assert data["RENKEI_KAFKA_BOOTSTRAP"].endswith(f":{listener['port']}")
    assert data["RENKEI_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert data["RENKEI_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


def test_every_strimzi_workload_that_talks_to_kafka_is_its_own_kafka_user() -> None:
    users = {d["metadata"]["name"] for d in yaml.safe_load_all(USERS_YAML.read_text("utf-8")) if d}
    (config,) = _k8s("config.yaml")
    password_file = Path(config["data"]["RENKEI_KAFKA_SASL_PASSWORD_FILE"])
    ca_file = Path(config["data"]["RENKEI_KAFKA_SSL_CAFILE"])
    seen: dict[str, str] = {}
    checked = 0
    for workload in _workloads():
        pod = _pod(workload)
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            if not str(container["image"]).startswith("renkei"):
                continue
            command = container["command"]
            if "renkei.stack.registry_proxy" in command or command[-1] == "--no-topics":
                assert not any(
                    e["name"] == "RENKEI_KAFKA_SASL_USERNAME" for e in container.get("env", [])
                )
                continue
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            user = env["RENKEI_KAFKA_SASL_USERNAME"]
            name = workload["metadata"]["name"]
            assert user in users and user != ADMIN_USER, (name, user)
            assert user not in seen, f"{name} shares {user} with {seen.get(user)}"
            seen[user] = name
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            user_volume = volumes[mounts[str(password_file.parent)]]
            assert user_volume["secret"]["secretName"] == user  # the User Operator's Secret
            ca_volume = volumes[mounts[str(ca_file.parent)]]
            assert ca_volume["secret"]["secretName"] == "renkei-cluster-ca-cert"
            checked += 1
    assert {f"renkei-{s}" for s in STAGES} | {
        "renkei-disclosure",
        "renkei-catalogue",
        "app-staff-view",
    } <= set(seen)
    assert checked == len(seen)


def test_strimzi_registry_is_on_loopback_behind_the_proxy() -> None:
    (deployment,) = [d for d in _k8s("registry.yaml") if d["kind"] == "Deployment"]
    (service,) = [d for d in _k8s("registry.yaml") if d["kind"] == "Service"]
    pod = _pod(deployment)
    containers = {c["name"]: c for c in pod["containers"]}
    env = {e["name"]: e["value"] for e in containers["registry"]["env"]}
    assert env["QUARKUS_HTTP_HOST"] == "127.0.0.1"
    assert "ports" not in containers["registry"]
    proxy = containers["registry-proxy"]
    args = proxy["command"]
    assert args[args.index("--upstream") + 1] == f"http://127.0.0.1:{env['QUARKUS_HTTP_PORT']}"
    assert service["spec"]["ports"][0]["targetPort"] == proxy["ports"][0]["name"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["kafka-user"]["secret"]["secretName"] == REGISTRY_USER
    (init,) = pod["initContainers"]
    assert "security.protocol=SASL_SSL" in init["command"][-1]
    assert "sasl.jaas.config=$(cat /etc/renkei/kafka-user/sasl.jaas.config)" in init["command"][-1]


@pytest.mark.parametrize(
    ("manifest", "name"), [("staff-view.yaml", "staff-view"), ("catalogue.yaml", "catalogue")]
)
def test_strimzi_staff_pages_require_the_login(manifest: str, name: str) -> None:
    (deployment,) = [d for d in _k8s(manifest) if d["kind"] == "Deployment"]
    pod = _pod(deployment)
    (container,) = pod["containers"]
    assert "--secure" in container["command"] and "--open-access" not in container["command"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    users_file = Path(env["RENKEI_STAFF_USERS_FILE"])
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volume = next(v for v in pod["volumes"] if v["name"] == mounts[str(users_file.parent)])
    assert volume["secret"]["secretName"] == "renkei-staff-users"


def _strimzi_to_acls(user: str, entries: list[dict[str, Any]]) -> set[Acl]:
    types = {"topic": "TOPIC", "group": "GROUP", "cluster": "CLUSTER"}
    patterns = {"literal": "LITERAL", "prefix": "PREFIXED"}
    operations = {v: k for k, v in k8s_users._OPERATIONS.items()}
    found = set()
    for entry in entries:
        resource = entry["resource"]
        assert entry["host"] == "*"
        assert set(entry["operations"]) <= STRIMZI_OPERATIONS
        kind = types[resource["type"]]
        name = resource.get("name", "kafka-cluster")
        pattern = patterns[resource.get("patternType", "literal")]
        assert name != "*" and "All" not in entry["operations"], (user, entry)
        for op in entry["operations"]:
            found.add(Acl(f"User:{user}", kind, name, pattern, operations[op]))
    return found


def test_kafka_users_equal_what_agreements_and_stage_acls_produce() -> None:
    """Regenerates independently of users.yaml's renderer: the agreements' desired ACLs, and
    the lines `renkei agreements stage-acls --services` prints, against the file's entries."""
    documents = {
        d["metadata"]["name"]: d for d in yaml.safe_load_all(USERS_YAML.read_text("utf-8")) if d
    }
    in_file = {
        user: _strimzi_to_acls(user, d["spec"].get("authorization", {}).get("acls", []))
        for user, d in documents.items()
    }
    for agreement in load_agreements(DEFAULTS.agreements_dir):
        assert in_file.pop(agreement.principal) == desired_acls(agreement), agreement.id
    assert in_file.pop(ADMIN_USER) == set()
    printed = CliRunner().invoke(cli, ["agreements", "stage-acls", "--services"])
    assert printed.exit_code == 0, printed.output
    from_cli: dict[str, set[str]] = {}
    for line in printed.output.splitlines():
        if line and not line.startswith("#"):
            from_cli.setdefault(line.split()[0].removeprefix("User:"), set()).add(line)
    assert set(from_cli) == set(in_file)
    for user, acls in in_file.items():
        assert {acl.describe() for acl in acls} == from_cli[user], user


def test_the_local_stack_says_it_is_plaintext() -> None:
    """`renkei stack up` stays plaintext for development, and its help says so (its output
    says so too when it starts: `development stack: PLAINTEXT …`)."""
    result = CliRunner().invoke(cli, ["stack", "up", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "development only: Kafka PLAINTEXT with no authentication or ACLs" in text
    assert "docs/security.md" in text
