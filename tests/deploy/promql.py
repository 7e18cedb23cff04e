"""Metric names used by PromQL expressions (dashboards, alert rules), and the names Renkei
workers really export (ops/metrics.py plus faust's own sensors, read from faust)."""

from __future__ import annotations

import re
from functools import cache

from prometheus_client import CollectorRegistry

GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
}
_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right",
    "and", "or", "unless", "bool", "offset", "inf", "nan",
}  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\()?")


def expand_grafana(expr: str) -> str:
    """``expr`` with Grafana's variables replaced by values Prometheus accepts."""
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)  # dashboard variables (regex matchers)


def metric_names(expr: str) -> set[str]:
    """Names of the series an expression selects (functions, keywords, labels left out)."""
    text = _STRING.sub('""', expand_grafana(expr))
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names


def _series_of(name: str, kind: str) -> set[str]:
    """Sample names of one family as exposed (histogram and counter suffixes)."""
    if kind == "histogram":
        return {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    if kind == "counter" and not name.endswith("_total"):
        return {f"{name}_total"}
    return {name}


@cache
def faust_series() -> frozenset[str]:
    """What faust's prometheus sensors expose, built by faust's own code with the prefix the
    workers use (``runtime.metrics.FAUST_PREFIX``)."""
    from faust.sensors.prometheus import FaustMetrics

    from renkei.ops.metrics import FAUST_PREFIX

    registry = CollectorRegistry()
    FaustMetrics.create(registry, FAUST_PREFIX)
    names: set[str] = set()
    for family in registry.collect():
        names |= _series_of(family.name, family.type)
    return frozenset(names)


@cache
def renkei_series() -> frozenset[str]:
    """Every sample name of ``runtime.metrics.METRIC_FAMILIES``."""
    from renkei.ops.metrics import METRIC_FAMILIES

    names: set[str] = set()
    for family in METRIC_FAMILIES.values():
        names |= _series_of(family.name, family.kind)
    return frozenset(names)


PROMETHEUS_SERIES = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})
"""Series Prometheus itself writes for every target."""
