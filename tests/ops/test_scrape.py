"""Quantiles from histogram buckets (what `renkei status` shows as freshness p99)."""

from __future__ import annotations

import math

import pytest

from renkei.ops.metrics import StageMetrics
from renkei.ops.scrape import gauge_values, histogram_quantile, quantiles_by, samples

INF = math.inf


def test_interpolates_inside_the_bucket_holding_the_rank() -> None:
    # 100 observations: 50 in (0, 1], 40 in (1, 2], 10 in (2, 5]
    buckets = [(1.0, 50), (2.0, 90), (5.0, 100), (INF, 100)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(1.0)
    assert histogram_quantile(0.7, buckets) == pytest.approx(1.5)  # 20 of 40 into (1, 2]
    assert histogram_quantile(0.99, buckets) == pytest.approx(2 + 3 * 9 / 10)
    assert histogram_quantile(0.25, buckets) == pytest.approx(0.5)  # first bucket from 0


def test_rank_in_the_inf_bucket_answers_the_highest_finite_bound() -> None:
    assert histogram_quantile(0.99, [(1.0, 10), (2.0, 50), (INF, 100)]) == 2.0


def test_empty_histogram_has_no_quantile() -> None:
    assert histogram_quantile(0.99, []) is None
    assert histogram_quantile(0.99, [(1.0, 0), (INF, 0)]) is None
    with pytest.raises(ValueError):
        histogram_quantile(1.5, [(1.0, 1)])


def test_unsorted_buckets_and_empty_leading_buckets() -> None:
    buckets = [(INF, 4), (10.0, 4), (0.5, 0), (1.0, 0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(1 + 9 * 0.5)


def test_p99_per_topic_from_a_real_exposition() -> None:
    metrics = StageMetrics("resident")
    now = 1_800_000_000.0
    import datetime as dt

    for seconds in [0.2] * 98 + [40.0, 50.0]:
        event = dt.datetime.fromtimestamp(now - seconds, dt.UTC)
        metrics.observe_freshness("unified.resident", event, now=now)
    metrics.observe_freshness(
        "internal.resident.facts", dt.datetime.fromtimestamp(now - 3, dt.UTC), now=now
    )
    metrics.set_offsets("std.registry.resident.events", 0, 5, 9, 12.0)
    parsed = samples(metrics.exposition().decode())
    p99 = quantiles_by(parsed, "renkei_event_freshness_seconds", "topic")
    assert set(p99) == {"unified.resident", "internal.resident.facts"}
    # rank 99 of 100 lies in the (30, 60] bucket holding the two slow records
    assert 30 < (p99["unified.resident"] or 0) <= 60
    assert 2.5 < (p99["internal.resident.facts"] or 0) <= 5
    ages = gauge_values(parsed, "renkei_consumer_last_commit_age_seconds")
    assert [(a.labels["partition"], a.value) for a in ages] == [("0", 12.0)]
