"""The Prometheus Operator's ``PrometheusRule`` made from the plain Prometheus rules file.

``python -m renkei.deploy.k8s_rules > deploy/k8s/prometheus-rules.yaml``

One source of truth for the alert rules (``deploy/prometheus/rules/renkei.yml``, unit-tested
with ``promtool test rules``); the Kubernetes resource wraps its groups unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

DEFAULT_RULES = Path("deploy/prometheus/rules/renkei.yml")


def prometheus_rule(rules: dict[str, Any], *, namespace: str = "renkei") -> dict[str, Any]:
    """A PrometheusRule holding ``rules['groups']``."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "renkei",
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "renkei"},
        },
        "spec": {"groups": rules["groups"]},
    }


def render(rules_file: Path, *, namespace: str = "renkei") -> str:
    """The prometheus-rules.yaml text for ``rules_file``."""
    rules = yaml.safe_load(rules_file.read_text(encoding="utf-8"))
    header = (
        f"# GENERATED from {rules_file} by `python -m renkei.deploy.k8s_rules`: do not edit.\n"
        "# The alert rules for the Prometheus Operator (tests/deploy checks it is up to date).\n"
    )
    body = yaml.safe_dump(
        prometheus_rule(rules, namespace=namespace), sort_keys=False, allow_unicode=True, width=100
    )
    return header + body


@click.command()
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_RULES,
    show_default=True,
    help="The Prometheus rules file.",
)
@click.option("--namespace", default="renkei", show_default=True)
def main(rules_file: Path, namespace: str) -> None:
    """Print the PrometheusRule resource wrapping the Prometheus rules file."""
    click.echo(render(rules_file, namespace=namespace), nl=False)


if __name__ == "__main__":
    main()
