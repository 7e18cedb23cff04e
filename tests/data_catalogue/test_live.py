"""The workers' /metrics summed per topic (pure logic; the live test checks it on the stack)."""

from __future__ import annotations

import socket

import pytest

from renkei.data_catalogue.live import TopicFigures, TopicReader, apply_metrics, gather_live
from renkei.ops.scrape import samples
from renkei.settings import Settings

EXPOSITION = """
# TYPE renkei_events_in_total counter
renkei_events_in_total{stage="standardize",topic="registry.resident.events"} 200.0
renkei_events_in_total{stage="resident",topic="std.registry.resident.events"} 190.0
# TYPE renkei_events_out_total counter
renkei_events_out_total{stage="standardize",topic="std.registry.resident.events"} 190.0
# TYPE renkei_dlq_records_total counter
renkei_dlq_records_total{stage="standardize",topic="registry.resident.events",reason="decode"} 6.0
renkei_dlq_records_total{stage="standardize",topic="registry.resident.events",reason="standardization"} 4.0
# TYPE renkei_event_freshness_seconds histogram
renkei_event_freshness_seconds_bucket{stage="standardize",topic="std.registry.resident.events",le="0.5"} 100.0
renkei_event_freshness_seconds_bucket{stage="standardize",topic="std.registry.resident.events",le="1.0"} 190.0
renkei_event_freshness_seconds_bucket{stage="standardize",topic="std.registry.resident.events",le="+Inf"} 190.0
renkei_event_freshness_seconds_sum{stage="standardize",topic="std.registry.resident.events"} 90.0
renkei_event_freshness_seconds_count{stage="standardize",topic="std.registry.resident.events"} 190.0
renkei_events_in_total{stage="other",topic="not.in.the.catalogue"} 5.0
"""


def test_metrics_per_topic() -> None:
    topics = ["registry.resident.events", "std.registry.resident.events", "unified.resident"]
    figures = {t: TopicFigures(t) for t in topics}
    apply_metrics(figures, samples(EXPOSITION))
    source = figures["registry.resident.events"]
    assert source.read_by == {"standardize": 200}
    assert source.dlq_routed == 10 and source.dlq_rate == 10 / 200
    assert source.freshness_p50 is None  # nothing writes it: no freshness
    std = figures["std.registry.resident.events"]
    assert std.written_by == {"standardize": 190} and std.read_by == {"resident": 190}
    assert std.dlq_routed == 0 and std.dlq_rate == 0.0
    assert std.freshness_count == 190
    # as PromQL: rank 95 of 190 inside the first bucket (0, 0.5] holding 100 → 0.5 × 95/100
    assert std.freshness_p50 == pytest.approx(0.475)
    assert std.freshness_p99 is not None and 0.5 < std.freshness_p99 <= 1.0
    unread = figures["unified.resident"]
    assert unread.dlq_rate is None and unread.dlq_routed is None


def test_two_workers_of_one_stage_add_up() -> None:
    figures = {"registry.resident.events": TopicFigures("registry.resident.events")}
    apply_metrics(figures, samples(EXPOSITION) + samples(EXPOSITION))
    assert figures["registry.resident.events"].read_by == {"standardize": 400}
    assert figures["registry.resident.events"].dlq_routed == 20


async def test_kafka_down_is_reported_and_the_metrics_still_read(settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = settings.model_copy(
        update={"kafka_bootstrap": f"127.0.0.1:{port}", "worker_web_port_base": port}
    )
    reader = TopicReader(down)
    try:
        live = await gather_live(down, reader, ["registry.resident.events"], 3600)
    finally:
        await reader.close()
    assert live.kafka_error and f"127.0.0.1:{port}" in live.kafka_error
    assert live.topics["registry.resident.events"].records is None
    assert [s.up for s in live.stages] == [False] * 5
