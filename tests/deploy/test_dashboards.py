"""Grafana dashboards and alert rules name only metrics the code really exports.

Exported = ``runtime.metrics.METRIC_FAMILIES`` (with histogram ``_bucket/_sum/_count``) plus
faust's own sensor families built by faust's code, plus Prometheus' ``up``. Every query also
has to parse: promtool checks each one as a recording rule.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import DEPLOY, require_tool
from tests.deploy.promql import (
    PROMETHEUS_SERIES,
    expand_grafana,
    faust_series,
    metric_names,
    renkei_series,
)

GRAFANA = DEPLOY / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
RULES = DEPLOY / "prometheus" / "rules" / "renkei.yml"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those inside (collapsed) rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target and every query variable."""
    found = []
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            found.append((f"panel {panel['title']!r}", target["expr"]))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable["query"]
            text = query["query"] if isinstance(query, dict) else query
            inner = re.fullmatch(r"label_values\((.+),\s*\w+\)", text.strip())
            found.append((f"variable {variable['name']}", inner.group(1) if inner else text))
    return found


def exported() -> frozenset[str]:
    return renkei_series() | faust_series() | PROMETHEUS_SERIES


def unknown_metrics(exprs: list[tuple[str, str]], allowed: frozenset[str]) -> dict[str, set[str]]:
    """where → metric names not in ``allowed``."""
    unknown = {}
    for where, expr in exprs:
        missing = metric_names(expr) - allowed
        if missing:
            unknown[where] = missing
    return unknown


def recorded_names() -> set[str]:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}


def rule_exprs() -> list[tuple[str, str]]:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [(r.get("alert") or r["record"], r["expr"]) for g in rules["groups"] for r in g["rules"]]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_dashboard_query_names_an_exported_metric(path: Path) -> None:
    found = queries(load(path))
    assert found, f"{path.name} has no queries"
    assert unknown_metrics(found, exported()) == {}


def test_every_rule_names_an_exported_or_recorded_metric() -> None:
    allowed = exported() | recorded_names()
    assert unknown_metrics(rule_exprs(), frozenset(allowed)) == {}


def test_an_invented_metric_is_caught() -> None:
    """The check is not vacuous: a region figure no code exports is reported, and so is a
    histogram used without its _bucket suffix or a counter without _total."""
    exprs = [
        ("a", 'sum(renkei_region_population{region_code="011011:0640941"})'),
        ("b", "histogram_quantile(0.99, rate(renkei_event_freshness_seconds[5m]))"),
        ("c", "rate(renkei_events_in[5m])"),
        ("d", "rate(faust_messages_received[5m])"),
    ]
    assert unknown_metrics(exprs, exported()) == {
        "a": {"renkei_region_population"},
        "b": {"renkei_event_freshness_seconds"},
        "c": {"renkei_events_in"},
        "d": {"faust_messages_received"},
    }


def test_exported_names_come_from_the_code() -> None:
    from renkei.ops.metrics import METRIC_FAMILIES

    assert "renkei_event_freshness_seconds_bucket" in renkei_series()
    assert "renkei_consumer_lag" in renkei_series()
    assert len(renkei_series()) >= len(METRIC_FAMILIES)
    # faust's counters gain _total, its latency histograms _bucket
    assert {"faust_messages_received_total", "faust_consumer_commit_latency_bucket"} <= (
        faust_series()
    )


def test_every_query_parses(tmp_path: Path) -> None:
    """promtool parses each dashboard query (Grafana variables replaced) as a recording rule."""
    tool = require_tool("promtool", "/usr/bin/promtool")
    exprs = [e for path in DASHBOARDS for _, e in queries(load(path))]
    rules = [{"record": f"renkei_dashboard_check_{i}", "expr": expand_grafana(e)} for i, e in
             enumerate(exprs)]  # fmt: skip
    path = tmp_path / "dashboards.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "check", "rules": rules}]}))
    result = subprocess.run(
        [tool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(rules)} rules found" in result.stdout


def _all_exprs(path: Path) -> str:
    return "\n".join(e for _, e in queries(load(path)))


def test_dashboards_show_what_operators_need() -> None:
    overview = _all_exprs(GRAFANA / "dashboards" / "pipeline-overview.json")
    for family in (
        "renkei_events_in_total",
        "renkei_events_out_total",
        "renkei_consumer_lag",
        "renkei_consumer_last_commit_age_seconds",
        "renkei_event_freshness_seconds_bucket",
        "renkei_dlq_records_total",
        "renkei_worker_ready",
        'up{job="renkei-workers"}',
    ):
        assert family in overview, family
    quality = _all_exprs(GRAFANA / "dashboards" / "data-quality.json")
    assert "sum by (topic, reason) (increase(renkei_dlq_records_total" in quality
    assert "sum by (kind) (increase(renkei_standardize_corrections_total" in quality
    regions = _all_exprs(GRAFANA / "dashboards" / "regions.json")
    assert 'stage="region", topic="unified.region"' in regions
    assert "renkei_alert_to_list_seconds_bucket" in regions


def test_dashboards_are_distinct_and_use_the_provisioned_datasource() -> None:
    datasources = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text(encoding="utf-8")
    )["datasources"]
    uid = datasources[0]["uid"]
    uids = set()
    for path in DASHBOARDS:
        dashboard = load(path)
        uids.add(dashboard["uid"])
        for panel in panels(dashboard):
            if panel["type"] in ("row", "text"):
                continue
            assert panel["datasource"]["uid"] == uid, (path.name, panel["title"])
            assert all(t["expr"].strip() for t in panel["targets"]), panel["title"]
        ids = [p["id"] for p in panels(dashboard)]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
    assert len(uids) == len(DASHBOARDS) == 3


def test_dashboard_provider_points_where_compose_mounts_them() -> None:
    provider = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "renkei.yml").read_text(encoding="utf-8")
    )["providers"][0]
    compose = yaml.safe_load((DEPLOY.parent / "docker-compose.yml").read_text(encoding="utf-8"))
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts
