"""deploy/k8s-secure/users.yaml (Strimzi KafkaUser, issue 14): a fresh generation, one SCRAM user per
agreement and stage principal, every topic it names declared in topics.yaml. Static checks
only: no Kubernetes cluster runs here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from renkei.agreements.model import load_agreements
from renkei.contracts.jobs import JOBS
from renkei.contracts.stages import STAGES
from renkei.deploy import k8s_users
from renkei.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
SECURE = DEPLOY / "k8s-secure"
DEFAULTS = Settings.model_construct()
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def test_users_file_is_a_fresh_generation() -> None:
    assert (SECURE / "users.yaml").read_text(encoding="utf-8") == k8s_users.render(DEFAULTS), (
        "regenerate: python -m renkei.deploy.k8s_users -o deploy/k8s-secure/users.yaml"
    )


def test_one_scram_user_per_agreement_and_stage_with_declared_topics() -> None:
    users = {d["metadata"]["name"]: d for d in _docs(SECURE / "users.yaml")}
    expected = {a.principal for a in load_agreements(DEFAULTS.agreements_dir)}
    expected |= {f"renkei-{name}" for name in STAGES} | {"renkei-audit"}
    expected |= {f"renkei-{name}" for name in JOBS} | {"renkei-registry", "renkei-catalogue"}
    expected |= {"renkei-admin"}  # the super user: no ACLs
    assert set(users) == expected
    assert "authorization" not in users.pop("renkei-admin")["spec"]
    # the audit principal reads the audit topic and nothing else; it writes nothing
    audit = users["renkei-audit"]["spec"]["authorization"]["acls"]
    assert [(e["resource"]["name"], sorted(e["operations"])) for e in audit] == [
        ("audit.access", ["Describe", "Read"])
    ]
    topics = {d["spec"].get("topicName", d["metadata"]["name"]) for d in _docs(K8S / "topics.yaml")}
    for name, user in users.items():
        assert _K8S_NAME.match(name)
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        for entry in user["spec"]["authorization"]["acls"]:
            resource = entry["resource"]
            if resource["type"] != "topic":
                continue
            if resource["name"].startswith("_renkei_schemas"):
                continue  # the registry's own journal (Apicurio makes it)
            if resource["patternType"] == "literal":
                assert resource["name"] in topics, (name, resource)
            else:
                assert any(t.startswith(resource["name"]) for t in topics), (name, resource)
    # no consumer app may read a DLQ, an internal topic or another purpose's view
    notifier = users["app-evacuation-notifier"]["spec"]["authorization"]["acls"]
    read = {e["resource"].get("name") for e in notifier if "Read" in e["operations"]}
    assert read == {"app-evacuation-notifier", "view.evacuation-support.evacuation-support"}
