"""Liveness and readiness of a stage worker, served on its faust web port.

- ``GET /health/live``: 200 while the event loop answers (the web server runs on it);
- ``GET /health/ready``: 200 only when this worker has stream partitions assigned, is not in a
  rebalance and its tables are recovered from their changelogs; 503 otherwise.

Both answer ``{"stage": …, "ready": …, "reason": …}``. Kubernetes probes use them
(deploy/k8s); ``renkei status`` reads them.
"""

from __future__ import annotations

from typing import Any

import faust
from faust import web

from renkei.ops.metrics import StageMetrics

LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"


def stream_partitions(app: faust.App) -> set[tuple[str, int]]:
    """(topic, partition) pairs assigned to this worker, table changelogs left out."""
    if app._consumer is None:  # not created yet: nothing assigned
        return set()
    changelogs = app.tables.changelog_topics
    return {
        (tp.topic, tp.partition) for tp in app.consumer.assignment() if tp.topic not in changelogs
    }


def readiness(app: faust.App) -> tuple[bool, str]:
    """(ready, why not / what is assigned). Ready = partitions assigned and recovery done."""
    if getattr(app, "fatal", None) is not None:
        return False, "stopping after a failure"
    recovery = app.tables.recovery  # type: ignore[attr-defined]  # TableManager, not its stub
    if not recovery.completed.is_set() or app.in_recovery:
        return False, "recovering tables from their changelogs"
    if app.rebalancing:
        return False, "rebalancing"
    assigned = stream_partitions(app)
    if not assigned:
        return False, "no partitions assigned"
    return True, f"{len(assigned)} partitions assigned"


def install_health(app: faust.App, stage: str, metrics: StageMetrics) -> None:
    """Register the two views on ``app``'s web server; ready also sets ``renkei_worker_ready``."""

    def body(ready: bool, reason: str) -> dict[str, Any]:
        return {"stage": stage, "ready": ready, "reason": reason}

    @app.page(LIVE_PATH)
    async def live(view: web.View, request: web.Request) -> web.Response:
        ready, reason = readiness(app)
        return view.json(body(ready, reason))

    @app.page(READY_PATH)
    async def ready(view: web.View, request: web.Request) -> web.Response:
        is_ready, reason = readiness(app)
        metrics.set_ready(is_ready)
        return view.json(body(is_ready, reason), status=200 if is_ready else 503)
