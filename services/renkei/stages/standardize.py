"""The standardize stage (標準化): each department topic → ``std.<topic>``.

Per record: decode (catalogue schema as reader) → ``standardize_event(topic, value)`` →
add ``std_meta`` (source topic/partition/offset, corrected fields, time) → encode with the
``std.<topic>`` schema → send with the same key and the CloudEvents headers carried over.
A record that does not decode or standardize goes to ``dlq.<topic>`` (runtime/dlq.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any

from renkei.errors import ConfigurationError
from renkei.runtime.app import StageApp, build_stage_app, default_web_port
from renkei.runtime.metrics import StageMetrics
from renkei.runtime.records import Output, SourceRecord
from renkei.runtime.stage import Stage, Step
from renkei.schemas.catalogue import load_catalogue
from renkei.settings import Settings
from renkei.standardize.correction_kinds import correction_kinds

log = logging.getLogger(__name__)

STAGE = "standardize"
DEPARTMENT_TOPICS = (
    "registry.resident.events",
    "health.checkup.results",
    "welfare.care.certifications",
    "disaster.area.alerts",
    "economy.region.indicators",
)
"""The department (source) topics standardized; each has a ``std.<topic>`` output."""

StandardizeEvent = Callable[[str, Any], Any]  # (topic, value) -> StdResult


def std_topic(topic: str) -> str:
    return f"std.{topic}"


def standardize_step(
    standardize_event: StandardizeEvent,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    metrics: StageMetrics | None = None,
) -> Step:
    """The stage step around ``standardize_event``: fills ``std_meta`` from the source record
    and counts the corrections by kind."""
    metrics = metrics or StageMetrics(STAGE)

    def step(record: SourceRecord, value: Any) -> list[Output]:
        result = standardize_event(record.contract_topic, value)
        metrics.record_corrections(correction_kinds(value, result.corrected_fields))
        datum = dict(result.value)
        meta = dict(datum.get("std_meta") or {})
        meta["source_topic"] = record.topic
        meta["source_partition"] = record.partition
        meta["source_offset"] = record.offset
        meta["corrected_fields"] = list(result.corrected_fields)
        meta.setdefault("standardized_at", clock())
        datum["std_meta"] = meta
        return [Output(std_topic(record.contract_topic), record.key, datum)]

    return step


def build_standardize(
    settings: Settings,
    *,
    web_port: int | None = None,
    topic_prefix: str | None = None,
    store: str = "memory://",
) -> StageApp:
    """The standardize worker's App.

    Phases:
    1. settings: ``topic_prefix`` (isolated test runs) overrides ``settings.topic_prefix``;
    2. catalogue: the department topics and their ``std.<topic>`` schemas;
    3. step: ``renkei.standardize.records.standardize_event`` (imported here, not at module
       import) with the code maps of ``settings.code_maps_dir`` (read once: a changed map
       needs a restart), wrapped by :func:`standardize_step`;
    4. app: :func:`renkei.runtime.app.build_stage_app` — one agent per department topic, DLQ
       routing with reason ``standardization`` for StandardizationError. The stage keeps no
       tables, so the default store is ``memory://``.
    """
    if topic_prefix is not None:
        settings = settings.model_copy(update={"topic_prefix": topic_prefix})
    catalogue = load_catalogue(settings.schemas_dir)
    inputs = tuple(catalogue.get(topic) for topic in DEPARTMENT_TOPICS)
    outputs = tuple(catalogue.get(std_topic(topic)) for topic in DEPARTMENT_TOPICS)
    try:
        from renkei.standardize.records import standardize_event
    except ImportError as exc:
        raise ConfigurationError(
            "renkei.standardize.records.standardize_event is not available: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    from renkei.standardize.addresses import AddressIndex
    from renkei.standardize.code_maps import load_code_maps

    # Load the Japan Post master data (~2 s) now, not on the event loop at the first record.
    AddressIndex.default()
    code_maps = load_code_maps(settings.code_maps_dir)
    metrics = StageMetrics(STAGE)
    stage = Stage(
        name=STAGE,
        inputs=inputs,
        outputs=outputs,
        step=standardize_step(
            functools.partial(standardize_event, code_maps=code_maps), metrics=metrics
        ),
        invalid_reason="standardization",
    )
    port = web_port if web_port is not None else default_web_port(settings, STAGE)
    app = build_stage_app(settings, stage, web_port=port, store=store, metrics=metrics)

    async def announce_code_maps() -> None:  # a startup hook: logging is configured by then
        for code_map in code_maps.by_source.values():
            log.info("code map for %s: %s", code_map.source_system, code_map.describe() or "empty")

    app.startup_hooks.append(announce_code_maps)
    return app
