"""Series storage behind ops/metrics.py: plain-Python counters, gauges and histograms
turned into Prometheus families only when scraped, and a mapping that counts its lookups.

A prometheus_client child takes a lock per ``inc`` and several microseconds per histogram
observation; a stage worker updates its series from the event loop only (single-threaded), so
dict updates are enough on the per-record path.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector


class BucketCounts:
    """Bucket counts (not cumulative; the last bucket is +Inf) and the sum of observations."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]):
        self.bounds = (*bounds, math.inf)
        self.counts = [0] * len(self.bounds)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value

    def cumulative(self) -> list[tuple[str, float]]:
        running, out = 0, []
        for bound, count in zip(self.bounds, self.counts, strict=True):
            running += count
            out.append(("+Inf" if math.isinf(bound) else repr(float(bound)), float(running)))
        return out


class SeriesCollector(Collector):
    """Exposes plain-Python series (family name → labels → value or :class:`BucketCounts`) as
    Prometheus families at scrape time; ``families`` gives each name's type, labels, help."""

    def __init__(self, families: Mapping[str, Any], series: dict[str, dict[tuple[str, ...], Any]]):
        self._families = families
        self._series = series

    def describe(self) -> Iterator[Metric]:
        return self.collect()

    def collect(self) -> Iterator[Metric]:
        for name, family in self._families.items():
            series = self._series.get(name)
            if series is None:
                continue
            items = list(series.items())  # the event loop may add a series meanwhile
            if family.kind == "histogram":
                hist = HistogramMetricFamily(name, family.help, labels=family.labels)
                for labels, h in items:
                    hist.add_metric(list(labels), h.cumulative(), h.total)
                yield hist
                continue
            kind = CounterMetricFamily if family.kind == "counter" else GaugeMetricFamily
            metric = kind(name, family.help, labels=family.labels)
            for labels, value in items:
                metric.add_metric(list(labels), value)
            yield metric


class CountedTable(MutableMapping[str, Any]):
    """A mapping that reports each lookup (``[]``, ``get``, ``in``) as hit or miss."""

    __slots__ = ("_report", "_store")

    def __init__(self, store: MutableMapping[str, Any], report: Callable[[bool], None]):
        self._store = store
        self._report = report

    def __getitem__(self, key: str) -> Any:
        try:
            value = self._store[key]
        except KeyError:
            self._report(False)
            raise
        self._report(True)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._store[key] = value

    def __delitem__(self, key: str) -> None:
        del self._store[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._store)

    def __len__(self) -> int:
        return len(self._store)

    def local_keys(self, partition: int) -> list[str]:
        """The wrapped stage table's keys of one partition (``CachedTable.local_keys``)."""
        scan = getattr(self._store, "local_keys", None)
        if scan is None:
            raise TypeError("this table cannot list the keys of a partition")
        return list(scan(partition))

    @property
    def table(self) -> MutableMapping[str, Any]:
        """The wrapped table itself (faust's Table: changelog, partitions…)."""
        return self._store
