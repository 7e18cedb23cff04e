"""faust's sensors counted per message, published per read (ops/faust_sensors.py): the same
families, labels and values as faust's own PrometheusMonitor fed the same calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP
from prometheus_client import CollectorRegistry, Histogram

from renkei.ops.faust_sensors import (
    DeferredPrometheusMonitor,
    PendingHistogram,
    setup_faust_sensors,
)
from renkei.runtime.app import create_app
from renkei.settings import Settings


class _Message:
    time_in: float | None = None
    time_out: float | None = None
    time_total: float | None = None


class _Owner:
    pass


class _Stream:
    def __init__(self, topic: str):
        self.shortlabel = f"Stream: Topic: {topic}"
        self.task_owner = _Owner()

    def __str__(self) -> str:
        return self.shortlabel


class _Table:
    def __init__(self, name: str):
        self.name = name


def _drive(monitor: PrometheusMonitor, rebalance_after: int | None = None) -> None:
    """The calls a worker makes: messages of two topics through their streams, table reads
    and writes, sends; optionally a rebalance in the middle."""
    streams = {t: _Stream(t) for t in ("p.std.a", "p.std.b")}
    table = _Table("residents")
    for i in range(30):
        topic = "p.std.a" if i % 3 else "p.std.b"
        tp = TP(topic, i % 2)
        message: Any = _Message()
        monitor.on_message_in(tp, i, message)
        state = monitor.on_stream_event_in(tp, i, streams[topic], None)  # type: ignore[arg-type]
        monitor.on_table_get(table, "k")  # type: ignore[arg-type]
        if i % 2:
            monitor.on_table_set(table, "k", 1)  # type: ignore[arg-type]
        if i % 7 == 0:
            monitor.on_table_del(table, "k")  # type: ignore[arg-type]
        sent = monitor.on_send_initiated(None, "p.unified.x", None, 1, 2)  # type: ignore[arg-type]
        monitor.on_send_completed(None, sent, None)  # type: ignore[arg-type]
        monitor.on_stream_event_out(tp, i, streams[topic], None, state)  # type: ignore[arg-type]
        if i % 5:
            monitor.on_message_out(tp, i, message)
        if rebalance_after == i:
            monitor._clear_partition_related_metrics()


def _values(registry: CollectorRegistry) -> dict[tuple[str, tuple[Any, ...]], float]:
    """Every sample that does not depend on timing (counts, gauges, histogram counts)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
        if not s.name.endswith(("_created", "_sum", "_bucket"))
    }


def _pair() -> tuple[CollectorRegistry, PrometheusMonitor, CollectorRegistry, Any]:
    faust_registry = CollectorRegistry()
    faust_monitor = PrometheusMonitor(FaustMetrics.create(faust_registry, "faust"))
    ours = CollectorRegistry()
    app = _FakeApp()
    monitor = setup_faust_sensors(app, ours, "faust")  # type: ignore[arg-type]
    return faust_registry, faust_monitor, ours, monitor


class _FakeApp:
    monitor: Any = None

    def page(self, pattern: str) -> Any:
        self.pattern = pattern
        return lambda handler: handler


def test_same_series_and_values_as_faust_monitor_at_every_read() -> None:
    faust_registry, faust_monitor, ours, monitor = _pair()
    assert isinstance(monitor, DeferredPrometheusMonitor)
    _drive(faust_monitor)
    _drive(monitor)
    expected = _values(faust_registry)
    assert expected[("faust_messages_received_total", ())] == 30
    assert expected[("faust_messages_received_per_topic_total", (("topic", "p.std.a"),))] == 20
    assert _values(ours) == expected
    # a second read publishes nothing twice; more calls are added on the next read
    assert _values(ours) == expected
    _drive(faust_monitor)
    _drive(monitor)
    assert _values(ours) == _values(faust_registry)


def test_a_rebalance_restarts_the_per_topic_series_as_faust_does() -> None:
    faust_registry, faust_monitor, ours, monitor = _pair()
    _drive(faust_monitor, rebalance_after=17)
    _drive(monitor, rebalance_after=17)
    expected = _values(faust_registry)
    assert expected[("faust_messages_received_per_topic_total", (("topic", "p.std.a"),))] == 8
    assert _values(ours) == expected


def test_pending_histogram_publishes_what_observe_would() -> None:
    buckets = (0.05, 0.1, 1.0, 5.0, 60.0)
    amounts = [0.0, 0.05, 0.0500001, 0.1, 0.7, 1.0, 4.9, 5.0, 59.0, 60.0, 61.0, 1e9, 3.3]
    direct_registry, pending_registry = CollectorRegistry(), CollectorRegistry()
    direct = Histogram("h", "h", registry=direct_registry, buckets=buckets)
    pending = PendingHistogram(Histogram("h", "h", registry=pending_registry, buckets=buckets))
    for amount in amounts:
        direct.observe(amount)
        pending.observe(amount)
    assert pending_registry.get_sample_value("h_count") == 0  # nothing published yet
    pending.publish()
    pending.publish()  # nothing pending: adds nothing

    def samples(registry: CollectorRegistry) -> dict[tuple[str, Any], float]:
        return {
            (s.name, tuple(s.labels.items())): s.value
            for family in registry.collect()
            for s in family.samples
            if not s.name.endswith("_created")
        }

    assert samples(pending_registry) == samples(direct_registry)
    assert pending_registry.get_sample_value("h_count") == len(amounts)


def test_stage_app_uses_the_deferred_monitor_and_serves_its_families(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path), "echo", web_port=7177, store="memory://")
    monitor = app.monitor
    assert isinstance(monitor, DeferredPrometheusMonitor)
    _drive(monitor)
    text = app.metrics.registry
    assert text.get_sample_value("faust_messages_received_total") == 30
    assert text.get_sample_value("faust_total_sent_messages_total") == 30
    assert text.get_sample_value("faust_events_runtime_ms_count") == 30
    assert "/metrics" in app.web.views
