"""The faust App every stage runs on (:class:`StageApp`, :func:`create_app`).

Nothing here runs at import time; the stage builder (``runtime/builder.py``) mounts a stage on
an App made by :func:`create_app`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import faust

from renkei.contracts.names import TopicNames
from renkei.kafka_security import faust_broker_credentials
from renkei.ops.metrics import StageMetrics
from renkei.ops.observe import instrument
from renkei.runtime.dlq import describe
from renkei.runtime.fence import CoordinatorFence
from renkei.settings import Settings

log = logging.getLogger(__name__)

STOP_GRACE = 70.0
"""Seconds a stopping worker gets before it exits hard. faust can hang in stop: a consumer
stopped inside a group join waits up to its 60 s timeouts, and then a non-daemon consumer
thread may keep the process alive for good. Nothing is lost by exiting: what was not acked is
not committed, and is processed again."""

FENCE_SHARE = 0.8
"""A worker silent towards its coordinator for this share of the session timeout stops
(runtime/fence.py): the group drops it at the full timeout, the new owner writes only after a
rebalance more."""

LIBRARY_LOGGERS = ("aiokafka", "faust", "mode", "kafka", "httpx", "httpcore")

Hook = Callable[[], Awaitable[None]]


def quiet_library_logs(level: int = logging.WARNING) -> None:
    """Set the *logger* levels of faust, mode, aiokafka and httpx.

    Handler levels are not enough: faust's worker sets the root logger to DEBUG for its
    progress spinner, and aiokafka/faust then build a LogRecord for every ``log.debug`` on the
    per-message path just to throw it away (about a tenth of a busy worker's time).
    """
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(level)


class StageApp(faust.App):
    """A faust App with async startup hooks that run before the consumer starts, and a
    :meth:`fail` that stops the worker loudly (non-zero exit) without acking."""

    # faust's own lifecycle lines stay under the faust logger (quiet), not under renkei.*
    logger = logging.getLogger("faust.app")
    metrics: StageMetrics
    """Set by :func:`create_app` (ops/metrics.py), served at ``/metrics``."""

    def __init__(self, id: str, **options: Any):
        super().__init__(id, **options)
        self.startup_hooks: list[Hook] = []
        self.shutdown_hooks: list[Hook] = []
        self.fatal: BaseException | None = None
        self._prepared = False
        self._watchdog: threading.Timer | None = None
        self.fence_enabled = False
        """Set by :func:`create_app` from ``worker_fence``: :class:`CoordinatorFence` runs."""
        self._fence: CoordinatorFence | None = None
        self.on_partitions_assigned.connect(self._log_assignment)

    async def _log_assignment(self, sender: Any, /, *args: Any, **kwargs: Any) -> None:
        """One line per rebalance: an operator sees when a stage really consumes."""
        assigned = args[0] if args else kwargs.get("assigned", ())
        log.info("%s: %d partitions assigned", self.conf.id, len(assigned))

    async def prepare(self) -> None:
        """Run the startup hooks once. The worker calls this before faust starts, so a setup
        error (missing topic, unregistered schema) is one clear message, not a faust crash."""
        if self._prepared:
            return
        for hook in self.startup_hooks:
            await hook()
        self._prepared = True

    async def on_first_start(self) -> None:
        # faust creates the data directory without its parents
        Path(self.conf.datadir).parent.mkdir(parents=True, exist_ok=True)
        await super().on_first_start()
        await self.prepare()
        if self.fence_enabled and self._fence is None:
            limit = FENCE_SHARE * self.conf.broker_session_timeout
            self._fence = CoordinatorFence(self.conf.id, limit).start()

    async def on_stop(self) -> None:
        if self._fence is not None:
            self._fence.stop()
        await super().on_stop()
        for hook in self.shutdown_hooks:
            await hook()

    async def fail(self, exc: BaseException) -> None:
        """Stop the worker because of ``exc`` (the record in hand stays uncommitted)."""
        if self.fatal is not None:
            return
        self.fatal = exc
        log.critical("%s: stopping: %s: %s", self.conf.id, type(exc).__name__, describe(exc))
        self.arm_stop_watchdog()
        await self.crash(exc)

    def arm_stop_watchdog(self, grace: float = STOP_GRACE) -> None:
        """Exit the process (code 1) if it has not stopped ``grace`` seconds from now."""
        if self._watchdog is not None:
            return

        def give_up() -> None:
            log.error("%s did not stop within %gs: exiting now", self.conf.id, grace)
            logging.shutdown()
            os._exit(1)

        self._watchdog = threading.Timer(grace, give_up)
        self._watchdog.daemon = True
        self._watchdog.start()


def create_app(
    settings: Settings,
    stage_name: str,
    *,
    web_port: int,
    store: str = "rocksdb://",
    partitions: int | None = None,
    metrics: StageMetrics | None = None,
) -> StageApp:
    """The faust App of one stage: its own consumer group ``renkei-<stage>`` (with the test
    topic prefix, if any), at-least-once, quiet library logs, web server on ``web_port`` with
    ``/metrics`` and ``/health/*`` (ops/observe.py; ``metrics`` defaults to a fresh
    :class:`StageMetrics`).

    ``partitions`` is the partition count of the stage's internal topics (table changelogs):
    the catalogue count of its co-partitioned inputs.
    """
    names = TopicNames(settings.topic_prefix)
    app_id = names.group(stage_name)
    quiet_library_logs()
    options: dict[str, Any] = {
        "broker": [f"kafka://{host.strip()}" for host in settings.kafka_bootstrap.split(",")],
        "broker_client_id": app_id,
        "broker_credentials": faust_broker_credentials(settings),
        "store": store,
        "datadir": str(settings.home / "workers" / app_id),
        "processing_guarantee": "at_least_once",  # exactly_once has open bugs (PLATFORM-NOTES)
        "autodiscover": False,
        # Internal topics (changelogs) are created by faust through the admin API, which works
        # with broker auto-creation disabled; the leader-election topic is not needed.
        "topic_allow_declare": True,
        "topic_disable_leader": True,
        "topic_replication_factor": settings.topic_replication_factor,
        "broker_session_timeout": settings.worker_session_timeout,
        "consumer_auto_offset_reset": "earliest",  # a new stage processes what is already there
        "producer_acks": -1,
        "producer_linger": 0.005,
        "producer_max_batch_size": 256 * 1024,
        "web_enabled": True,
        "web_port": web_port,
        "web_bind": settings.worker_web_bind,
        "web_host": settings.worker_web_bind,
    }
    if partitions is not None:
        options["topic_partitions"] = partitions
    app = StageApp(app_id, **options)
    app.fence_enabled = settings.worker_fence
    app.metrics = metrics or StageMetrics(stage_name)
    app.shutdown_hooks.append(instrument(app, settings, stage_name, app.metrics).close)
    return app
