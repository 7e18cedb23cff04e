"""Everything an operator sees of a worker, installed on its App in one call.

:func:`instrument` adds to a stage App: faust's Prometheus sensors (counted per message,
published per scrape: ops/faust_sensors.py) and Renkei's families (ops/metrics.py) on one
fresh registry served at ``/metrics``, the health views (ops/health.py), and a timer that
every few seconds reads the group's offsets from the broker (ops/offsets.py), samples table
sizes and the ready gauge.
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from renkei.ops.faust_sensors import setup_faust_sensors
from renkei.ops.health import install_health, readiness, stream_partitions
from renkei.ops.metrics import FAUST_PREFIX, StageMetrics
from renkei.ops.offsets import COLLECT_INTERVAL, OffsetsCollector
from renkei.settings import Settings

log = logging.getLogger(__name__)


def table_entries(table: Any) -> int:
    """Keys in a table's active partitions: RocksDB's estimate (counting would read every key
    of a large table every few seconds), the exact count of an in-memory table."""
    store = table.data
    dbs = getattr(store, "_dbs_for_actives", None)
    if dbs is None:
        return len(store)
    return sum(int(db.property_int_value("rocksdb.estimate-num-keys") or 0) for db in dbs())


def instrument(
    app: faust.App, settings: Settings, stage: str, metrics: StageMetrics
) -> OffsetsCollector:
    """Install metrics, health views and the periodic observer on ``app``; returns the offsets
    collector (close it when the app stops)."""
    setup_faust_sensors(app, metrics.registry, FAUST_PREFIX)
    install_health(app, stage, metrics)
    prefix = settings.topic_prefix

    def contract_name(topic: str) -> str:
        return topic[len(prefix) :] if prefix and topic.startswith(prefix) else topic

    collector = OffsetsCollector(
        settings,
        app.conf.id,
        metrics,
        assigned=lambda: stream_partitions(app),
        contract_name=contract_name,
    )

    async def observe() -> None:
        # never raise: an exception in a faust timer would crash the worker
        try:
            metrics.set_ready(readiness(app)[0])
            for table in list(app.tables.values()):
                metrics.set_table_entries(table.name, table_entries(table))
        except Exception as exc:  # e.g. a store closing during a rebalance: next tick
            log.debug("%s: state not sampled: %r", stage, exc)
        await collector.collect()

    observe.__name__ = observe.__qualname__ = f"observe_{stage}"
    app.timer(COLLECT_INTERVAL)(observe)
    return collector
