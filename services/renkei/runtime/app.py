"""faust plumbing shared by every stage: the App, and a Stage mounted on it.

Nothing here runs at import time; :func:`build_stage_app` builds everything from settings.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import faust

from renkei.errors import RenkeiError
from renkei.kafka_security import faust_broker_credentials
from renkei.runtime.agent import DeliveryAcker, stage_agent
from renkei.runtime.codec import OutputEncoders, SourceDecoder
from renkei.runtime.dlq import DeadLetterRouter, DlqBreaker, describe
from renkei.runtime.metrics import StageMetrics
from renkei.runtime.observe import instrument
from renkei.runtime.provision import StageTopics, provision_stage_topics
from renkei.runtime.records import TopicNames
from renkei.runtime.stage import Stage, StageProcessor
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings

log = logging.getLogger(__name__)

STOP_GRACE = 70.0
"""Seconds a stopping worker gets before it exits hard. faust can hang in stop: a consumer
stopped inside a group join waits up to its 60 s timeouts, and then a non-daemon consumer
thread may keep the process alive for good. Nothing is lost by exiting: what was not acked is
not committed, and is processed again."""

STAGE_PORT_OFFSETS = {"standardize": 0, "resident": 1, "region": 2, "evacuation": 3, "views": 4}
LIBRARY_LOGGERS = ("aiokafka", "faust", "mode", "kafka", "httpx", "httpcore")

Hook = Callable[[], Awaitable[None]]


def default_web_port(settings: Settings, stage: str) -> int:
    """standardize 6066, resident 6067, region 6068, evacuation 6069, views 6070 (from the base
    port)."""
    if stage not in STAGE_PORT_OFFSETS:
        raise RenkeiError(f"no default web port for stage {stage!r}; pass web_port")
    return settings.worker_web_port_base + STAGE_PORT_OFFSETS[stage]


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
    """Set by :func:`create_app` (runtime/metrics.py), served at ``/metrics``."""

    def __init__(self, id: str, **options: Any):
        super().__init__(id, **options)
        self.startup_hooks: list[Hook] = []
        self.shutdown_hooks: list[Hook] = []
        self.fatal: BaseException | None = None
        self._prepared = False
        self._watchdog: threading.Timer | None = None
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

    async def on_stop(self) -> None:
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
    ``/metrics`` and ``/health/*`` (runtime/observe.py; ``metrics`` defaults to a fresh
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
    app.metrics = metrics or StageMetrics(stage_name)
    app.shutdown_hooks.append(instrument(app, settings, stage_name, app.metrics).close)
    return app


def build_stage_app(
    settings: Settings,
    stage: Stage,
    *,
    web_port: int,
    store: str = "rocksdb://",
    metrics: StageMetrics | None = None,
) -> StageApp:
    """Mount ``stage`` on a new App.

    Phases:
    1. names: contract topics → Kafka names (``settings.topic_prefix``, empty in production);
    2. app: :func:`create_app` (group ``renkei-<stage>``, at-least-once, web port);
    3. codecs: a decoder per input (reader = catalogue schema), an encoder per output;
    4. DLQ: breaker thresholds from settings, router sending through the app's producer;
    5. startup hook, before the consumer starts: check inputs, create outputs and DLQs, resolve
       output schema ids, prefetch input schemas;
    6. agents: one per input topic, concurrency=1, raw bytes, acked once outputs are delivered.
    """
    names = TopicNames(settings.topic_prefix)
    app = create_app(
        settings,
        stage.name,
        web_port=web_port,
        store=store,
        partitions=max(spec.partitions for spec in stage.inputs),
        metrics=metrics,
    )

    registry = RegistryClient(settings.schema_registry_url)
    decoders = {
        spec.topic: SourceDecoder(registry, spec, topic=names.topic(spec.topic))
        for spec in stage.inputs
    }
    encoders = OutputEncoders(registry, stage.outputs, names)

    topics = StageTopics(inputs={}, dlqs={})

    async def send(
        topic: str, key: bytes | None, value: bytes | None, partition: int | None, headers: Any
    ) -> Any:
        return await app.producer.send(topic, key, value, partition, None, headers)

    router = DeadLetterRouter(
        stage=stage.name,
        send=send,
        breaker=DlqBreaker(
            window_records=settings.dlq_breaker_window_records,
            window_seconds=settings.dlq_breaker_window_seconds,
            min_records=settings.dlq_breaker_min_records,
            max_failure_ratio=settings.dlq_breaker_max_failure_ratio,
        ),
        dlq_topic=names.dlq,
        dlq_partitions=lambda contract_topic: topics.dlqs.get(contract_topic),
        metrics=app.metrics,
    )
    processor = StageProcessor(
        stage,
        decoders=decoders,
        encoders=encoders,
        names=names,
        send=send,
        router=router,
        registry_url=settings.schema_registry_url,
        metrics=app.metrics,
    )

    async def prepare() -> None:
        nonlocal topics
        topics = await provision_stage_topics(
            settings, stage=stage.name, inputs=stage.inputs, outputs=stage.outputs, names=names
        )
        await encoders.prepare()
        processor.on_prepared()
        for spec in stage.inputs:
            await decoders[spec.topic].prefetch_latest(names.subject(spec.topic))
        log.info(
            "%s ready: %s -> %s (DLQ %s)",
            app.conf.id,
            ", ".join(names.topic(s.topic) for s in stage.inputs),
            ", ".join(names.topic(s.topic) for s in stage.outputs),
            ", ".join(names.dlq(s.topic) for s in stage.inputs),
        )

    app.startup_hooks.append(prepare)
    app.shutdown_hooks.append(registry.aclose)

    acker = DeliveryAcker(app.sensors.on_message_out, app.fail)
    for spec in stage.inputs:
        topic = app.topic(
            names.topic(spec.topic),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=spec.partitions,
        )
        app.agent(topic, name=f"{stage.name}.{spec.topic}", concurrency=1)(
            stage_agent(processor, spec.topic, acker, app.fail)
        )
    return app
