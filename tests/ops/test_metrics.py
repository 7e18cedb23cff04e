"""The metric declarations (contract A of issue 4) and what StageMetrics exposes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import prometheus_client
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from renkei.ops.metrics import (
    METRIC_FAMILIES,
    STAGES,
    PublisherMetrics,
    StageMetrics,
    faust_families,
)

CONTRACT = {
    "renkei_events_in_total": ("counter", ("stage", "topic")),
    "renkei_events_out_total": ("counter", ("stage", "topic")),
    "renkei_dlq_records_total": ("counter", ("stage", "topic", "reason")),
    "renkei_standardize_corrections_total": ("counter", ("kind",)),
    "renkei_table_lookups_total": ("counter", ("stage", "table", "result")),
    "renkei_table_entries": ("gauge", ("stage", "table")),
    "renkei_event_freshness_seconds": ("histogram", ("stage", "topic")),
    "renkei_consumer_committed_offset": ("gauge", ("stage", "topic", "partition")),
    "renkei_consumer_end_offset": ("gauge", ("stage", "topic", "partition")),
    "renkei_consumer_lag": ("gauge", ("stage", "topic", "partition")),
    "renkei_consumer_last_commit_age_seconds": ("gauge", ("stage", "topic", "partition")),
    "renkei_alert_to_list_seconds": ("histogram", ()),
    "renkei_publisher_records_total": ("counter", ("topic", "result")),
    "renkei_worker_ready": ("gauge", ("stage",)),
    "renkei_lane_lag": ("gauge", ("stage", "lane")),
    "renkei_bulk_paused": ("gauge", ("stage",)),
    "renkei_bulk_paused_seconds_total": ("counter", ("stage",)),
    "renkei_dlq_breaker_open": ("gauge", ("stage",)),
}


def samples(metrics: StageMetrics | PublisherMetrics) -> dict[tuple[str, tuple[Any, ...]], float]:
    """(sample name, sorted labels) → value, parsed from the exposition text."""
    text = prometheus_client.generate_latest(metrics.registry).decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_families_are_the_contract() -> None:
    declared = {name: (f.kind, f.labels) for name, f in METRIC_FAMILIES.items()}
    assert declared == CONTRACT


def test_every_family_is_exposed_with_its_type() -> None:
    text = StageMetrics("region").exposition().decode()
    exposed = {}
    for family in text_string_to_metric_families(text):
        name = family.name + ("_total" if family.type == "counter" else "")
        exposed[name] = family.type
    for name, (kind, _) in CONTRACT.items():
        assert exposed.get(name) == kind, name


def test_histogram_series_names() -> None:
    assert METRIC_FAMILIES["renkei_event_freshness_seconds"].series == (
        "renkei_event_freshness_seconds_bucket",
        "renkei_event_freshness_seconds_sum",
        "renkei_event_freshness_seconds_count",
    )
    assert METRIC_FAMILIES["renkei_consumer_lag"].series == ("renkei_consumer_lag",)


def test_fresh_registries_are_independent() -> None:
    a, b = StageMetrics("resident"), StageMetrics("resident")
    a.record_in("std.registry.resident.events")
    key = (
        "renkei_events_in_total",
        (("stage", "resident"), ("topic", "std.registry.resident.events")),
    )
    assert samples(a)[key] == 1
    assert key not in samples(b)


def test_a_stage_label_is_a_name() -> None:
    with pytest.raises(ValueError, match="not a stage name"):
        StageMetrics("山田 太郎")
    assert "publisher" in STAGES


def test_counters_move() -> None:
    m = StageMetrics("standardize")
    for _ in range(3):
        m.record_in("registry.resident.events")
    m.record_out("std.registry.resident.events")
    m.record_dlq("registry.resident.events", "standardization")
    m.record_corrections(["wareki_date"])
    m.record_lookup("residents", hit=True)
    m.record_lookup("residents", hit=False)
    m.record_lookup("residents", hit=False)
    got = samples(m)
    assert (
        got[
            (
                "renkei_events_in_total",
                (("stage", "standardize"), ("topic", "registry.resident.events")),
            )
        ]
        == 3
    )
    assert (
        got[
            (
                "renkei_events_out_total",
                (("stage", "standardize"), ("topic", "std.registry.resident.events")),
            )
        ]
        == 1
    )
    dlq = (
        ("reason", "standardization"),
        ("stage", "standardize"),
        ("topic", "registry.resident.events"),
    )
    assert got[("renkei_dlq_records_total", dlq)] == 1
    assert got[("renkei_standardize_corrections_total", (("kind", "wareki_date"),))] == 1
    lookups = (("result", "miss"), ("stage", "standardize"), ("table", "residents"))
    assert got[("renkei_table_lookups_total", lookups)] == 2


def test_gauges_ready_and_breaker() -> None:
    m = StageMetrics("evacuation")
    assert samples(m)[("renkei_worker_ready", (("stage", "evacuation"),))] == 0
    m.set_ready(True)
    m.set_breaker_open(True)
    m.set_table_entries("regions", 42)
    got = samples(m)
    assert got[("renkei_worker_ready", (("stage", "evacuation"),))] == 1
    assert got[("renkei_dlq_breaker_open", (("stage", "evacuation"),))] == 1
    assert got[("renkei_table_entries", (("stage", "evacuation"), ("table", "regions")))] == 42


def test_offsets_lag_and_forget() -> None:
    m = StageMetrics("region")
    m.set_offsets("internal.resident.facts", 2, committed=90, end=100, commit_age=12.5)
    labels = (("partition", "2"), ("stage", "region"), ("topic", "internal.resident.facts"))
    got = samples(m)
    assert got[("renkei_consumer_committed_offset", labels)] == 90
    assert got[("renkei_consumer_end_offset", labels)] == 100
    assert got[("renkei_consumer_lag", labels)] == 10
    assert got[("renkei_consumer_last_commit_age_seconds", labels)] == 12.5
    m.forget_partition("internal.resident.facts", 2)
    assert ("renkei_consumer_lag", labels) not in samples(m)
    m.forget_partition("internal.resident.facts", 2)  # twice is harmless


def test_freshness_is_output_time_minus_event_time() -> None:
    m = StageMetrics("resident")
    event = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
    now = event.timestamp()
    m.observe_freshness("unified.resident", event, now=now + 0.3)
    m.observe_freshness("unified.resident", event, now=now + 7)
    m.observe_freshness("unified.resident", event, now=now - 5)  # clock skew: counted as 0
    m.observe_freshness("unified.resident", None)  # no event time: not observed
    m.observe_freshness("unified.resident", event.replace(tzinfo=None), now=now + 7)  # naive = UTC
    got = samples(m)
    labels = (("stage", "resident"), ("topic", "unified.resident"))
    assert got[("renkei_event_freshness_seconds_count", labels)] == 4
    assert got[("renkei_event_freshness_seconds_sum", labels)] == pytest.approx(14.3)
    assert got[("renkei_event_freshness_seconds_bucket", (("le", "0.5"), *labels))] == 2


def test_alert_to_list() -> None:
    m = StageMetrics("evacuation")
    alert = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    m.observe_alert_to_list(alert, now=alert.timestamp() + 1.5)
    got = samples(m)
    assert got[("renkei_alert_to_list_seconds_count", ())] == 1
    assert got[("renkei_alert_to_list_seconds_bucket", (("le", "1.0"),))] == 0
    assert got[("renkei_alert_to_list_seconds_bucket", (("le", "2.0"),))] == 1


def test_publisher_metrics_only_their_family() -> None:
    registry = CollectorRegistry()
    p = PublisherMetrics(registry)
    p.record("registry.resident.events", "acked")
    p.record("registry.resident.events", "rejected")
    got = samples(p)
    assert {name for name, _ in got} == {"renkei_publisher_records_total"}
    key = (("result", "acked"), ("topic", "registry.resident.events"))
    assert got[("renkei_publisher_records_total", key)] == 1


def test_faust_families_come_from_faust() -> None:
    names = faust_families()
    assert names["faust_messages_received_total"] == "counter"
    assert names["faust_topic_partition_end_offset"] == "gauge"
    assert all(name.startswith("faust_") for name in names)


def test_counted_table_reports_hits_and_misses() -> None:
    m = StageMetrics("region")
    table = m.counted("regions", {"011011": {"population": 10}})
    assert table.get("011011") == {"population": 10}
    assert table.get("999999") is None
    assert "999999" not in table
    table["999999"] = {}
    assert table["999999"] == {}
    del table["999999"]
    assert len(table) == 1 and list(table) == ["011011"]
    got = samples(m)
    base = (("stage", "region"), ("table", "regions"))
    assert got[("renkei_table_lookups_total", (("result", "hit"), *base))] == 2
    assert got[("renkei_table_lookups_total", (("result", "miss"), *base))] == 2
