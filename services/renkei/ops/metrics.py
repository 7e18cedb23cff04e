"""Every Prometheus metric Renkei exports, declared in ONE place (contract A of issue 4).

:data:`METRIC_FAMILIES` names each family (name → type, labels, help); dashboards, alert rules
and tests check themselves against it. Code never creates a collector itself: a worker holds a
:class:`StageMetrics` (one fresh ``CollectorRegistry`` per app, also carrying faust's own
sensors, see ``ops/observe.py``) and the publisher SDK a :class:`PublisherMetrics`; their
methods are named after what happened (``record_in``, ``record_dlq``, ``observe_freshness``…),
so an instrumented line reads as one call.

Labels never carry personal data: ``stage`` is a stage name, ``topic`` a contract topic name
(no test prefix), ``reason`` a DLQ reason class, ``kind`` a correction kind, ``table`` a table
name, ``partition`` a number.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from renkei.contracts.stages import STAGE_NAMES
from renkei.ops.metric_series import BucketCounts, CountedTable, SeriesCollector

# ``*_created`` series double every counter and histogram for no operational use.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

Kind = Literal["counter", "gauge", "histogram"]
STAGES = (*STAGE_NAMES, "publisher")
"""Values of the ``stage`` label (tests and plugins may run stages of other names)."""
_LABEL_NAME = re.compile(r"[a-z][a-z0-9_-]{0,40}")
PUBLISHER_RESULTS = ("acked", "rejected", "failed")
FAUST_PREFIX = "faust"
"""Name prefix of faust's own sensor families (``faust_messages_received_total``…): the same
in every stage, so one dashboard query covers them all (the scrape target tells stages apart)."""

EVENT_TIME_FIELD = "recorded_at"
"""The event time of every catalogue record (the envelope's ``recorded_at``: when the source
department recorded the event; stages carry their trigger's into what they produce)."""
FRESHNESS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, 21600, 86400)
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900)


@dataclass(frozen=True)
class MetricFamily:
    """One exported family: its name as exposed (counters end in ``_total``)."""

    name: str
    kind: Kind
    labels: tuple[str, ...]
    help: str
    buckets: tuple[float, ...] = ()

    @property
    def series(self) -> tuple[str, ...]:
        """The sample names a query can use (``_bucket``/``_sum``/``_count`` of histograms)."""
        if self.kind == "histogram":
            return tuple(f"{self.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        return (self.name,)


def _family(
    name: str, kind: Kind, labels: str, help: str, buckets: tuple[float, ...] = ()
) -> MetricFamily:
    return MetricFamily(name, kind, tuple(labels.split()), help, buckets)


METRIC_FAMILIES: dict[str, MetricFamily] = {
    f.name: f
    for f in (
        _family("renkei_events_in_total", "counter", "stage topic", "Records consumed."),
        _family(
            "renkei_events_out_total", "counter", "stage topic", "Records produced, per output."
        ),
        _family(
            "renkei_dlq_records_total",
            "counter",
            "stage topic reason",
            "Records routed to dlq.<topic> (topic = source topic), by DLQ reason class.",
        ),
        _family(
            "renkei_standardize_corrections_total",
            "counter",
            "kind",
            "Field values standardization changed, by kind of correction.",
        ),
        _family(
            "renkei_table_lookups_total",
            "counter",
            "stage table result",
            "Table lookups by result (hit = key present, miss = absent).",
        ),
        _family(
            "renkei_table_entries",
            "gauge",
            "stage table",
            "Keys in the table's active partitions (RocksDB: its estimate).",
        ),
        _family(
            "renkei_event_freshness_seconds",
            "histogram",
            "stage topic",
            "Output time minus event time (recorded_at) of each record produced, per output topic.",
            FRESHNESS_BUCKETS,
        ),
        _family(
            "renkei_consumer_committed_offset",
            "gauge",
            "stage topic partition",
            "Offset the stage's consumer group committed (broker's view).",
        ),
        _family(
            "renkei_consumer_end_offset",
            "gauge",
            "stage topic partition",
            "End offset (high watermark) of the partition.",
        ),
        _family(
            "renkei_consumer_lag",
            "gauge",
            "stage topic partition",
            "End offset minus committed offset: records not yet processed and committed.",
        ),
        _family(
            "renkei_consumer_last_commit_age_seconds",
            "gauge",
            "stage topic partition",
            "Seconds since the committed offset last advanced (a stall shows as lag > 0 and a "
            "growing age).",
        ),
        _family(
            "renkei_alert_to_list_seconds",
            "histogram",
            "",
            "Evacuation: alert event time (recorded_at) to the evacuation-support list sent.",
            LATENCY_BUCKETS,
        ),
        _family(
            "renkei_publisher_records_total",
            "counter",
            "topic result",
            "Records the publisher SDK handled: acked by the broker, rejected by validation, "
            "failed to send.",
        ),
        _family(
            "renkei_worker_ready",
            "gauge",
            "stage",
            "1 when partitions are assigned and tables recovered (what /health/ready answers).",
        ),
        _family(
            "renkei_dlq_breaker_open",
            "gauge",
            "stage",
            "1 when the DLQ breaker tripped (the worker stops).",
        ),
        _family(
            "renkei_lane_lag",
            "gauge",
            "stage lane",
            "Records not yet processed on the worker's partitions, by lane (live: every input "
            "but the bulk twins; bulk: the <topic>.bulk inputs), from the fetched end offsets.",
        ),
        _family(
            "renkei_bulk_paused",
            "gauge",
            "stage",
            "1 while the bulk lane is paused because a live input has lag (runtime/lanes.py).",
        ),
        _family(
            "renkei_bulk_paused_seconds_total",
            "counter",
            "stage",
            "Seconds the bulk lane spent paused for live records.",
        ),
    )
}


def _collector(family: MetricFamily, registry: CollectorRegistry) -> Any:
    """The prometheus_client collector of ``family`` registered on ``registry``."""
    if family.kind == "counter":
        return Counter(family.name, family.help, family.labels, registry=registry)
    if family.kind == "gauge":
        return Gauge(family.name, family.help, family.labels, registry=registry)
    return Histogram(
        family.name, family.help, family.labels, registry=registry, buckets=family.buckets
    )


@cache
def faust_families() -> dict[str, str]:
    """Family name → type of faust's own sensors as a worker exposes them (faust's counters
    get ``_total``); from faust itself, so it follows faust upgrades."""
    from faust.sensors.prometheus import FaustMetrics

    registry = CollectorRegistry(auto_describe=True)
    FaustMetrics.create(registry, FAUST_PREFIX)
    names: dict[str, str] = {}
    for family in registry.collect():
        name = f"{family.name}_total" if family.type == "counter" else family.name
        names[name] = family.type
    return names


def _utc(moment: dt.datetime) -> float:
    """Epoch seconds of an aware datetime (naive ones are taken as UTC, as fastavro gives)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


class StageMetrics:
    """The metrics of one stage worker, all on :attr:`registry` (fresh unless given).

    Series are plain dicts updated from the event loop (a worker is single-threaded) and turned
    into Prometheus families only when scraped: a prometheus_client child costs a lock per
    ``inc`` and several microseconds per histogram observation, on every record.
    """

    def __init__(self, stage: str, registry: CollectorRegistry | None = None):
        if not _LABEL_NAME.fullmatch(stage):
            raise ValueError(f"not a stage name: {stage!r} (Renkei's: {', '.join(STAGES)})")
        self.stage = stage
        self.registry = registry or CollectorRegistry(auto_describe=True)
        # every family, so a worker's /metrics lists each one (publisher's stays empty)
        self._series: dict[str, dict[tuple[str, ...], Any]] = {name: {} for name in METRIC_FAMILIES}
        self.registry.register(SeriesCollector(METRIC_FAMILIES, self._series))
        self.set_ready(False)
        self.set_breaker_open(False)

    def _inc(self, name: str, labels: tuple[str, ...]) -> None:
        series = self._series[name]
        series[labels] = series.get(labels, 0.0) + 1.0

    def _set(self, name: str, labels: tuple[str, ...], value: float) -> None:
        self._series[name][labels] = float(value)

    def _observe(self, name: str, labels: tuple[str, ...], value: float) -> None:
        series = self._series[name]
        histogram = series.get(labels)
        if histogram is None:
            histogram = series[labels] = BucketCounts(METRIC_FAMILIES[name].buckets)
        histogram.observe(value)

    # ---- records through the stage ------------------------------------------------------
    def record_in(self, topic: str) -> None:
        self._inc("renkei_events_in_total", (self.stage, topic))

    def record_out(self, topic: str) -> None:
        self._inc("renkei_events_out_total", (self.stage, topic))

    def record_outputs(self, outputs: Iterable[Any]) -> None:
        """Count each produced record (``.topic``, ``.value``) and observe its freshness when
        its value carries an event time (catalogue records; internal JSON messages do not)."""
        now = time.time()
        for output in outputs:
            self.record_out(output.topic)
            value = output.value
            event_time = value.get(EVENT_TIME_FIELD) if isinstance(value, dict) else None
            if isinstance(event_time, dt.datetime):
                self.observe_freshness(output.topic, event_time, now)

    def record_dlq(self, topic: str, reason: str) -> None:
        self._inc("renkei_dlq_records_total", (self.stage, topic, reason))

    def set_breaker_open(self, is_open: bool) -> None:
        self._set("renkei_dlq_breaker_open", (self.stage,), 1 if is_open else 0)

    def observe_freshness(
        self, topic: str, event_time: dt.datetime | None, now: float | None = None
    ) -> None:
        """Output time (``now``, epoch s; default: the clock) minus ``event_time``."""
        if event_time is None:
            return
        age = (time.time() if now is None else now) - _utc(event_time)
        self._observe("renkei_event_freshness_seconds", (self.stage, topic), max(age, 0.0))

    # ---- domain ------------------------------------------------------------------------
    def record_corrections(self, kinds: Iterable[str]) -> None:
        """One count per correction, by kind (stages/standardize/correction_kinds.py)."""
        for kind in kinds:
            self._inc("renkei_standardize_corrections_total", (kind,))

    def record_lookup(self, table: str, hit: bool) -> None:
        result = "hit" if hit else "miss"
        self._inc("renkei_table_lookups_total", (self.stage, table, result))

    def counted(self, table: str, store: MutableMapping[str, Any]) -> CountedTable:
        """``store`` (a faust Table) with its lookups counted as table ``table``."""
        return CountedTable(store, lambda hit: self.record_lookup(table, hit))

    def set_table_entries(self, table: str, entries: int) -> None:
        self._set("renkei_table_entries", (self.stage, table), entries)

    def observe_alert_to_list(
        self, alert_time: dt.datetime | None, now: float | None = None
    ) -> None:
        """Evacuation: the alert's event time to now, when a list for it is sent."""
        if alert_time is None:
            return
        age = (time.time() if now is None else now) - _utc(alert_time)
        self._observe("renkei_alert_to_list_seconds", (), max(age, 0.0))

    def observe_alert_lists(self, lists: Iterable[dict[str, Any]]) -> None:
        """Evacuation-support list records sent because an alert arrived: their event time is
        the alert's (``recorded_at``)."""
        now = time.time()
        for datum in lists:
            alert_time = datum.get(EVENT_TIME_FIELD)
            if isinstance(alert_time, dt.datetime):
                self.observe_alert_to_list(alert_time, now)

    # ---- consumer and worker state -------------------------------------------------------
    def set_offsets(
        self, topic: str, partition: int, committed: int, end: int, commit_age: float
    ) -> None:
        """One partition's committed and end offsets, lag, and seconds since its commit moved."""
        labels = (self.stage, topic, str(partition))
        self._set("renkei_consumer_committed_offset", labels, committed)
        self._set("renkei_consumer_end_offset", labels, end)
        self._set("renkei_consumer_lag", labels, max(end - committed, 0))
        self._set("renkei_consumer_last_commit_age_seconds", labels, commit_age)

    def forget_partition(self, topic: str, partition: int) -> None:
        """Drop a partition's offset series (revoked: another worker reports it now)."""
        labels = (self.stage, topic, str(partition))
        for name in (
            "renkei_consumer_committed_offset",
            "renkei_consumer_end_offset",
            "renkei_consumer_lag",
            "renkei_consumer_last_commit_age_seconds",
        ):
            self._series[name].pop(labels, None)

    def set_ready(self, ready: bool) -> None:
        self._set("renkei_worker_ready", (self.stage,), 1 if ready else 0)

    def set_lanes(self, *, live_lag: int, bulk_lag: int, bulk_paused: bool) -> None:
        """The lanes' lag and whether the bulk lane is paused (runtime/lanes.py)."""
        self._set("renkei_lane_lag", (self.stage, "live"), live_lag)
        self._set("renkei_lane_lag", (self.stage, "bulk"), bulk_lag)
        self._set("renkei_bulk_paused", (self.stage,), 1 if bulk_paused else 0)

    def add_bulk_paused_seconds(self, seconds: float) -> None:
        series = self._series["renkei_bulk_paused_seconds_total"]
        series[(self.stage,)] = series.get((self.stage,), 0.0) + max(seconds, 0.0)

    def exposition(self) -> bytes:
        """The text format of every family on the registry (what ``/metrics`` serves)."""
        return prometheus_client.generate_latest(self.registry)


class PublisherMetrics:
    """``renkei_publisher_records_total`` of the publisher SDK, on ``registry``."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry(auto_describe=True)
        family = METRIC_FAMILIES["renkei_publisher_records_total"]
        self._records = _collector(family, self.registry)

    def record(self, topic: str, result: Literal["acked", "rejected", "failed"]) -> None:
        self._records.labels(topic, result).inc()

    def watch(self, topic: str, delivery: Any) -> None:
        """Count ``delivery`` (an asyncio future of the broker's ack) as acked or failed."""

        def done(future: Any) -> None:
            failed = future.cancelled() or future.exception() is not None
            self.record(topic, "failed" if failed else "acked")

        delivery.add_done_callback(done)


@cache
def default_publisher_metrics() -> PublisherMetrics:
    """The process-wide publisher metrics on prometheus_client's default registry (what an
    application exposes with ``prometheus_client.start_http_server``); created once."""
    return PublisherMetrics(prometheus_client.REGISTRY)
