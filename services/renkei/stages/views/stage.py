"""The views stage (目的別ビュー): unified and derived streams → ``view.<purpose>.<short>``.

For every consumer agreement in ``deploy/agreements/`` (``settings.agreements_dir``) and every
source topic it lists, each source record is protected (``renkei.privacy.protection``: 抑止
redaction, k ≥ 10 suppression), projected to the agreed fields, its resident keys replaced by
the purpose's pseudonyms (``pseudonym.py``), and produced to the view topic. Deliveries
are counted per agreement and written to the audit log (``view.delivered``) once a window.

Retention (docs/privacy.md "Retention and people who left"): a resident who moved out or died
leaves every view keyed by resident pseudonym as a tombstone; a ``delete`` view never gets a
source record older than its retention (a replay of old history); the view topics' retention
configs follow the agreements and are reconciled at every start.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any, Unpack

from renkei.agreements.lint import format_problems, lint_agreements
from renkei.agreements.model import load_agreements
from renkei.audit import AuditLog
from renkei.contracts.stages import stage_spec
from renkei.contracts.view_projection import project_value
from renkei.contracts.views import ViewPlan, plan_views
from renkei.errors import ConfigurationError, RegistryError
from renkei.privacy.protection import PROTECTED_TOPICS, protect_output
from renkei.runtime.app import StageApp
from renkei.runtime.builder import StageBuilder, StageOptions, stage_settings
from renkei.runtime.records import Output, SourceRecord
from renkei.schemas.catalogue import Catalogue, TopicSpec, load_catalogue, renamed
from renkei.settings import Settings
from renkei.shared.values import municipality_of
from renkei.stages.views.deliveries import DeliveryWindow, audit_window
from renkei.stages.views.pseudonym import PseudonymKey, load_or_create_key, secrets_folder
from renkei.topics import reconcile_topic_configs

log = logging.getLogger(__name__)

STAGE = "views"
AUDIT_WINDOW_SECONDS = 60.0
EVENT_ID = "event_id"
HOUSEHOLD_NUMBER = "household_number"
CONTENT_TYPE = "application/avro"
Header = tuple[str, bytes]


def view_headers(
    plan: ViewPlan, key: PseudonymKey, record: SourceRecord, *, tombstone: bool = False
) -> list[Header]:
    """The CloudEvents headers of a view record, written here: nothing of the source record's
    (no department ``ce_id``, ``ce_type``, ``ce_source`` or vendor header). ``ce_id`` is the
    purpose's id of the source record's position, so two purposes never share one. A
    tombstone has no content, so no ``content-type``."""
    position = f"{record.contract_topic}|{record.partition}|{record.offset}"
    headers = {
        "ce_specversion": "1.0",
        "ce_id": key.view_id(f"record|{plan.topic}|{position}"),
        "ce_source": f"/renkei/views/{plan.purpose}",
        "ce_type": str(
            plan.spec.metadata.get("cloudevents_type") or f"jp.renkei.view.{plan.purpose}"
        ),
    }
    if not tombstone:
        headers["content-type"] = CONTENT_TYPE
    return [(name, text.encode("utf-8")) for name, text in headers.items()]


def _pseudonymize_households(value: Any, key: PseudonymKey) -> None:
    """Every ``household_number`` in a projected datum (at any depth) → the purpose's
    household pseudonym, in place."""
    if isinstance(value, dict):
        for name, child in value.items():
            if name == HOUSEHOLD_NUMBER and isinstance(child, str):
                value[name] = key.household(child)
            else:
                _pseudonymize_households(child, key)
    elif isinstance(value, list):
        for item in value:
            _pseudonymize_households(item, key)


def view_output(plan: ViewPlan, key: PseudonymKey, record: SourceRecord, value: Any) -> Output:
    """The view record of one (already protected) source value: a new record with its own
    headers and ids (``event_id`` becomes the purpose's id of the source event, a
    ``household_number`` the purpose's household pseudonym), one region granularity for
    everyone where the region would tell who is protected (``ViewPlan.uniform_region``)."""
    out_key = record.key
    if plan.pseudonymous_key and record.key is not None:
        out_key = key.pseudonym(record.key.decode("utf-8")).encode("ascii")
    datum = project_value(plan.spec.schema, value, key.pseudonym, key.key_id)
    if datum.get(EVENT_ID) is not None:
        datum[EVENT_ID] = key.view_id(f"event|{value[EVENT_ID]}")
    if plan.uniform_region and datum.get("region_code"):
        datum["region_code"] = municipality_of(str(datum["region_code"]))
    _pseudonymize_households(datum, key)
    return Output(plan.topic, out_key, datum, headers=view_headers(plan, key, record))


def view_tombstone(plan: ViewPlan, key: PseudonymKey, record: SourceRecord) -> Output | None:
    """The tombstone (null value) that removes a person who left the purpose's scope from a
    view keyed by resident pseudonym; None for a view keyed otherwise (a list, a region),
    where the source record itself says what changed."""
    if not plan.pseudonymous_key or record.key is None:
        return None
    out_key = key.pseudonym(record.key.decode("utf-8")).encode("ascii")
    return Output(
        plan.topic, out_key, None, headers=view_headers(plan, key, record, tombstone=True)
    )


def too_old(plan: ViewPlan, record: SourceRecord, now_ms: int) -> bool:
    """Whether ``record`` is older than ``plan``'s view may hold (a ``delete`` view's retention;
    e.g. a replay of old history). A record without a timestamp is judged current."""
    limit = plan.max_age_ms
    if limit is None or record.timestamp_ms is None or record.timestamp_ms < 0:
        return False
    return now_ms - record.timestamp_ms > limit


def checked_plans(settings: Settings, catalogue: Catalogue) -> list[ViewPlan]:
    """The views of ``settings.agreements_dir`` once every agreement passes
    ``renkei agreements check`` (ConfigurationError listing the problems otherwise): the stage
    projects nothing an agreement could not have been applied for, e.g. a raw or internal
    topic, a ``*`` grant or a zone step-down without egress."""
    agreements = load_agreements(settings.agreements_dir)
    problems = lint_agreements(agreements, catalogue)
    if problems:
        raise ConfigurationError(
            f"the views stage refuses the agreements in {settings.agreements_dir} "
            "(`renkei agreements check` lists the same):\n" + "\n".join(format_problems(problems))
        )
    plans = plan_views(agreements, catalogue)
    if not plans:
        raise ConfigurationError(
            f"no consumer agreement in {settings.agreements_dir}: no view to build"
        )
    return plans


def build_views(
    settings: Settings,
    *,
    plans: list[ViewPlan] | None = None,
    audit: AuditLog | None = None,
    audit_window_seconds: float = AUDIT_WINDOW_SECONDS,
    **options: Unpack[StageOptions],
) -> StageApp:
    """The views worker's App (group ``renkei-views``, web port 6070 by default).

    Phases:
    1. plans: the consumer agreements, linted as ``renkei agreements check`` does (refused on
       any problem) → one :class:`ViewPlan` per view topic (projected schema, source,
       purpose, agreements);
    2. keys: the per-purpose pseudonym secrets (generated 0600 when missing);
    3. stage: inputs = the source topics, outputs = the view topics (created when missing,
       source partitions and cleanup policy); no tables (a view is a pure function of one
       source record);
    4. startup: register each view schema not yet registered under ``<view topic>-value``
       (FULL_TRANSITIVE; `agreements apply` registers them beforehand), then the usual
       provisioning, then the view topics' retention configs reconciled with the agreements
       (``retention.ms``, ``delete.retention.ms``, ``max.compaction.lag.ms``);
    5. handler: per view of the source topic, skip a record older than a ``delete`` view's
       retention; a resident out of scope (moved out, died) → a tombstone under the purpose's
       pseudonym; otherwise protect → project → pseudonymize; count;
    6. timer: every ``audit_window_seconds`` a ``view.delivered`` audit record (and at stop).
    """
    settings = stage_settings(settings, options.get("topic_prefix"))
    catalogue = load_catalogue(settings.schemas_dir)
    plans = plans if plans is not None else checked_plans(settings, catalogue)
    unprotected = sorted({p.source.topic for p in plans} - set(PROTECTED_TOPICS))
    if unprotected:  # default deny: fail at start, not on the first record
        raise ConfigurationError(
            f"the views stage has no protection rule for {', '.join(unprotected)}; "
            f"views are built from {', '.join(PROTECTED_TOPICS)} only"
        )
    folder = secrets_folder(settings)
    keys = {purpose: load_or_create_key(folder, purpose) for purpose in {p.purpose for p in plans}}
    by_source: dict[str, list[ViewPlan]] = defaultdict(list)
    sources: dict[str, TopicSpec] = {}
    for plan in plans:
        by_source[plan.source.topic].append(plan)
        sources[plan.source.topic] = plan.source
    stage = StageBuilder.create(
        settings,
        stage_spec(STAGE),
        inputs=tuple(sources.values()),
        outputs=tuple(plan.spec for plan in plans),
        **options,
    )
    window = DeliveryWindow()
    audit_log = audit or AuditLog.open(settings, produce=options.get("send") is None)
    actor = f"stage:{STAGE} ({stage.names.group(STAGE)})"

    def on_source(record: SourceRecord, value: Any) -> list[Output]:
        protected = protect_output(record.contract_topic, value)
        now_ms = int(time.time() * 1000)
        outputs = []
        for plan in by_source[record.contract_topic]:
            if too_old(plan, record, now_ms):
                continue
            if not plan.in_scope(protected):
                tombstone = view_tombstone(plan, keys[plan.purpose], record)
                if tombstone is not None:
                    outputs.append(tombstone)
                continue
            outputs.append(view_output(plan, keys[plan.purpose], record, protected))
            window.add(plan.agreements, plan.topic)
        return outputs

    for topic in sources:
        stage.on(topic, on_source)
    app = stage.build()

    async def register_view_schemas() -> None:
        """Register each view schema that is not registered yet (`renkei agreements apply`
        registers them as the schema principal; on the secure stack the stage's own principal
        may not change schemas, and needs not when they are there)."""
        assert stage.registry is not None
        for plan in plans:
            subject = stage.names.subject(plan.topic)
            try:
                await stage.registry.lookup(subject, plan.spec.schema_text)
                continue
            except RegistryError as exc:
                if exc.status != 404:
                    raise
            try:
                await stage.registry.register(subject, plan.spec.schema_text)
                await stage.registry.set_compatibility(subject, plan.spec.compatibility)
            except RegistryError as exc:
                if exc.status not in (401, 403):
                    raise
                raise ConfigurationError(
                    f"the view schema {subject} is not registered and this worker may not "
                    "register schemas: run `renkei agreements apply` (it registers the view "
                    f"schemas as the schema principal) ({exc})"
                ) from exc

    async def reconcile_view_topics() -> None:
        """After provisioning: each view topic's retention and cleanup configs follow its
        agreements (an agreement's ``retention_days`` may have changed since the topic was
        created)."""
        specs = [renamed(plan.spec, stage.names.topic(plan.topic)) for plan in plans]
        for outcome in await reconcile_topic_configs(settings, specs):
            if outcome.action == "updated":
                log.info("topic %s: configs updated (%s)", outcome.topic, outcome.detail)

    async def flush() -> None:
        await audit_window(window, audit_log, actor)

    async def close_audit() -> None:
        await flush()
        await audit_log.aclose()

    app.startup_hooks.insert(0, register_view_schemas)
    if options.get("send") is None:  # a replaced producer (tests): no broker to configure
        app.startup_hooks.append(reconcile_view_topics)
    app.shutdown_hooks.insert(0, close_audit)
    app.timer(audit_window_seconds)(flush)
    return app
