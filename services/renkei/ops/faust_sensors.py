"""faust's Prometheus sensors, counted per message in plain Python and published per scrape.

faust's ``PrometheusMonitor`` updates its Prometheus collectors on every message, stream event,
table read and send: a ``labels(...)`` lookup and a locked increment each, plus a regular
expression over the stream's label for every event — about 20 µs per consumed record on this
machine (faust's plain ``Monitor`` alone: ~5 µs), 8–10 % of a busy linkage worker in the
profiles (docs/performance.md). :class:`DeferredPrometheusMonitor` keeps faust's plain
``Monitor`` bookkeeping on the per-message path (integer and dict counters it keeps anyway)
and brings the same ``faust_*`` families up to date from it whenever the registry is read
(``/metrics``, a test's ``get_sample_value``): a :class:`_SyncFirst` collector registered
before faust's families runs :meth:`DeferredPrometheusMonitor.sync` first. Same families,
labels and values at every read; only *when* the collectors are touched moves.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from typing import Any, cast

from aiohttp.web import Response
from faust.sensors.monitor import Monitor
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP, AppT, CollectionT, EventT, StreamT
from faust.types.transports import ProducerT
from faust.types.tuples import Message, PendingMessage, RecordMetadata
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import Metric

_TABLE_OPERATIONS = (
    ("keys_retrieved", PrometheusMonitor.KEYS_RETRIEVED),
    ("keys_updated", PrometheusMonitor.KEYS_UPDATED),
    ("keys_deleted", PrometheusMonitor.KEYS_DELETED),
)


class PendingHistogram:
    """Observations of one Prometheus histogram (no labels) kept as bucket counts and a sum
    until :meth:`publish` adds them: per observation a bisection instead of a locked add per
    bucket walked. ``publish`` adds to the histogram's own bucket and sum values (the
    attributes ``observe`` updates; ``tests/ops/test_faust_sensors.py`` checks the result
    equals ``observe``'s, so a prometheus_client that changes them fails there)."""

    def __init__(self, histogram: Any):
        self._histogram = histogram
        self._bounds: list[float] = list(histogram._upper_bounds)
        self._counts = [0] * len(self._bounds)
        self._sum = 0.0
        self._pending = False

    def observe(self, amount: float) -> None:
        self._counts[bisect_left(self._bounds, amount)] += 1
        self._sum += amount
        self._pending = True

    def publish(self) -> None:
        if not self._pending:
            return
        counts, self._counts = self._counts, [0] * len(self._bounds)
        total, self._sum, self._pending = self._sum, 0.0, False
        self._histogram._raise_if_not_observable()
        self._histogram._sum.inc(total)
        for bucket, count in zip(self._histogram._buckets, counts, strict=True):
            if count:
                bucket.inc(count)


class DeferredPrometheusMonitor(PrometheusMonitor):
    """faust's ``PrometheusMonitor`` whose per-message hooks only do ``Monitor``'s counting;
    :meth:`sync` publishes the difference since the last sync to the Prometheus families."""

    def __init__(self, metrics: FaustMetrics, **kwargs: Any) -> None:
        super().__init__(metrics, **kwargs)
        self._received_synced = 0
        self._events_synced = 0
        self._by_topic_synced: dict[str, int] = {}
        self._sent_by_topic_synced: dict[str, int] = {}
        self._read_offsets_synced: dict[TP, int] = {}
        self._table_synced: dict[tuple[str, str], int] = {}
        self._stream_events: Counter[StreamT[Any]] = Counter()
        self._stream_labels: dict[StreamT[Any], str] = {}
        self._runtimes_ms = PendingHistogram(metrics.events_runtime_latency)
        self._send_ms = PendingHistogram(metrics.producer_send_latency)
        self._sends_completed = 0

    # -- the per-message path: Monitor's counting, nothing else --------------------------
    def on_message_in(self, tp: TP, offset: int, message: Message) -> None:
        Monitor.on_message_in(self, tp, offset, message)

    def on_stream_event_in(
        self, tp: TP, offset: int, stream: StreamT[Any], event: EventT[Any]
    ) -> dict[str, Any] | None:
        state = Monitor.on_stream_event_in(self, tp, offset, stream, event)
        self._stream_events[stream] += 1
        return state

    def on_stream_event_out(
        self,
        tp: TP,
        offset: int,
        stream: StreamT[Any],
        event: EventT[Any],
        state: dict[str, Any] | None = None,
    ) -> None:
        Monitor.on_stream_event_out(self, tp, offset, stream, event, state)
        if state is not None:
            self._runtimes_ms.observe(float(state["time_total"]) * 1000.0)

    def on_message_out(self, tp: TP, offset: int, message: Message) -> None:
        Monitor.on_message_out(self, tp, offset, message)

    def on_table_get(self, table: CollectionT, key: Any) -> None:
        Monitor.on_table_get(self, table, key)

    def on_table_set(self, table: CollectionT, key: Any, value: Any) -> None:
        Monitor.on_table_set(self, table, key, value)

    def on_table_del(self, table: CollectionT, key: Any) -> None:
        Monitor.on_table_del(self, table, key)

    def on_send_initiated(
        self,
        producer: ProducerT,
        topic: str,
        message: PendingMessage,
        keysize: int,
        valsize: int,
    ) -> Any:
        return Monitor.on_send_initiated(self, producer, topic, message, keysize, valsize)

    def on_send_completed(self, producer: ProducerT, state: Any, metadata: RecordMetadata) -> None:
        self._send_ms.observe(self.ms_since(cast(float, state)))
        self._sends_completed += 1
        Monitor.on_send_completed(self, producer, state, metadata)

    # -- publishing ------------------------------------------------------------------------
    def sync(self) -> None:
        """Bring the ``faust_*`` families up to date with what was counted since last time."""
        m = self._metrics
        received = self.messages_received_total
        if received != self._received_synced:
            m.messages_received.inc(received - self._received_synced)
            self._received_synced = received
        m.active_messages.set(self.messages_active)
        _add_by_label(
            m.messages_received_per_topics, self.messages_received_by_topic, self._by_topic_synced
        )
        for tp, offset in list(self.tp_read_offsets.items()):
            if self._read_offsets_synced.get(tp) != offset:
                m.messages_received_per_topics_partition.labels(
                    topic=tp.topic, partition=tp.partition
                ).set(offset)
                self._read_offsets_synced[tp] = offset
        events = self.events_total
        if events != self._events_synced:
            m.total_events.inc(events - self._events_synced)
            self._events_synced = events
        m.total_active_events.set(self.events_active)
        stream_events, self._stream_events = self._stream_events, Counter()
        for stream, count in stream_events.items():
            m.total_events_per_stream.labels(stream=self._stream_events_label(stream)).inc(count)
        self._runtimes_ms.publish()
        for name, table in list(self.tables.items()):
            for attribute, operation in _TABLE_OPERATIONS:
                count = int(getattr(table, attribute))
                synced = self._table_synced.get((name, operation), 0)
                if count != synced:
                    m.table_operations.labels(table=f"table.{name}", operation=operation).inc(
                        count - synced
                    )
                    self._table_synced[(name, operation)] = count
        _add_by_label(
            m.topic_messages_sent,
            self.messages_sent_by_topic,
            self._sent_by_topic_synced,
            label=lambda topic: f"topic.{topic}",
        )
        sends, self._sends_completed = self._sends_completed, 0
        if sends:
            m.total_sent_messages.inc(sends)
        self._send_ms.publish()

    def _stream_events_label(self, stream: StreamT[Any]) -> str:
        label = self._stream_labels.get(stream)
        if label is None:
            label = self._stream_labels[stream] = f"stream.{self._stream_label(stream)}.events"
        return label

    def _clear_partition_related_metrics(self) -> None:
        """As faust: the per-topic and per-partition series start afresh after a rebalance
        (what was counted before is published first, then removed with them)."""
        self.sync()
        super()._clear_partition_related_metrics()
        self._by_topic_synced = dict(self.messages_received_by_topic)
        self._sent_by_topic_synced = dict(self.messages_sent_by_topic)
        self._read_offsets_synced = {}


def _add_by_label(
    family: Any,
    counts: dict[str, int],
    synced: dict[str, int],
    label: Any = None,
) -> None:
    for topic, count in list(counts.items()):
        done = synced.get(topic, 0)
        if count != done:
            family.labels(topic=label(topic) if label else topic).inc(count - done)
            synced[topic] = count


class _SyncFirst:
    """A collector that yields nothing and syncs the monitor: registered before faust's
    families, it runs first whenever the registry is collected."""

    def __init__(self) -> None:
        self.monitor: DeferredPrometheusMonitor | None = None

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        if self.monitor is not None:
            self.monitor.sync()
        return []


def setup_faust_sensors(
    app: AppT, registry: CollectorRegistry, name_prefix: str, pattern: str = "/metrics"
) -> DeferredPrometheusMonitor:
    """What faust's ``setup_prometheus_sensors`` does — its families on ``registry``, the
    monitor on ``app``, ``registry`` served at ``pattern`` — with the deferred monitor."""
    first = _SyncFirst()
    registry.register(first)  # a duck-typed collector
    monitor = DeferredPrometheusMonitor(metrics=FaustMetrics.create(registry, name_prefix))
    first.monitor = monitor
    app.monitor = monitor

    @app.page(pattern)
    async def metrics_handler(view: Any, request: Any) -> Any:
        headers = {"Content-Type": CONTENT_TYPE_LATEST}
        return Response(body=generate_latest(registry), headers=headers, status=200)

    return monitor
