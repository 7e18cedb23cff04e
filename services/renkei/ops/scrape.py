"""Reading a worker's ``/metrics`` the way an operator's tools do: quantiles from histogram
buckets (as PromQL's ``histogram_quantile``), gauges by label."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """The ``q`` quantile of a histogram given as (upper bound, cumulative count) pairs.

    Linear interpolation inside the bucket holding the rank, from 0 for the first bucket, like
    Prometheus. A rank in the ``+Inf`` bucket answers the highest finite bound (the quantile is
    at least that). None when the histogram is empty.
    """
    if not 0 <= q <= 1:
        raise ValueError("q must be within [0, 1]")
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    total = ordered[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def samples(text: str) -> list[Sample]:
    """Every sample of a Prometheus text exposition."""
    return [
        Sample(s.name, dict(s.labels), float(s.value))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def quantiles_by(
    parsed: list[Sample], histogram: str, label: str, q: float = 0.99
) -> dict[str, float | None]:
    """The ``q`` quantile of ``histogram`` per value of ``label``."""
    buckets: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for s in parsed:
        if s.name == f"{histogram}_bucket" and label in s.labels:
            buckets[s.labels[label]].append((float(s.labels["le"]), s.value))
    return {key: histogram_quantile(q, pairs) for key, pairs in sorted(buckets.items())}


def gauge_values(parsed: list[Sample], name: str) -> list[Sample]:
    return [s for s in parsed if s.name == name]
