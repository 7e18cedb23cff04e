"""The one stage builder: every stage — stateless (standardize, views) or stateful (resident,
region, evacuation) — is mounted on its faust App here.

A stage package declares what it does with :class:`StageBuilder`: its tables and internal
topics (by the names the stage registry, ``renkei.contracts.stages``, declares), a handler per
consumed topic; then :meth:`StageBuilder.build`. Everything else is the framework's: codecs,
DLQ routing, topic provisioning, changelog-aware acks, metrics and health.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

import orjson
from faust.types import TableT

from renkei.contracts.names import TopicNames
from renkei.contracts.stages import StageSpec, default_web_port
from renkei.runtime.agent import DeliveryAcker, batch_agent
from renkei.runtime.app import StageApp, create_app
from renkei.runtime.batch import BatchLimits, CachedTable, CommitBatch
from renkei.runtime.changelog import rocksdb_options, tracked_table
from renkei.runtime.codec import OutputEncoders, SourceDecoder, UndecodableRecord
from renkei.runtime.dlq import DeadLetterRouter, DlqBreaker, Send
from renkei.runtime.lanes import LaneController
from renkei.runtime.provision import provision_stage_topics
from renkei.runtime.records import Output, SourceRecord
from renkei.runtime.stage import Stage, StageProcessor
from renkei.schemas.catalogue import TopicSpec, is_bulk, live_topic, load_catalogue
from renkei.serde.registry import RegistryClient, registry_client
from renkei.settings import Settings
from renkei.topics import ensure_topics

log = logging.getLogger(__name__)

Handler = Callable[[SourceRecord, Any], Iterable[Output] | Awaitable[Iterable[Output]]]
"""``handler(record, value)`` → the records to produce; may be async. Raises
:class:`~renkei.errors.InvalidRecord` for a bad record."""


def internal(topic: str, key: str, value: dict[str, Any]) -> Output:
    """An Output for an internal JSON topic (no CloudEvents headers carried over)."""
    return Output(topic, key.encode("utf-8"), value, headers=())


def contract(topic: str, key: str, datum: dict[str, Any]) -> Output:
    """An Output for a catalogue topic (Avro; the source's CloudEvents headers carried)."""
    return Output(topic, key.encode("utf-8"), datum)


_JSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
"""orjson with the values ``json.dumps(default=str)`` gave before (dates and datetimes through
``str``): the internal messages decode to the same content, at a fraction of the CPU."""


class _JsonCodec:
    """Decoder of the stage's internal topics (JSON, written and read only by the stage)."""

    async def decode(self, value: bytes | None) -> Any:
        try:
            return orjson.loads(value or b"")
        except ValueError as exc:
            raise UndecodableRecord("deserialization", "not a JSON internal message") from exc


class _Encoders:
    """Avro encoders for catalogue outputs plus JSON for internal topics."""

    def __init__(self, avro: OutputEncoders, internal_topics: set[str]):
        self._avro = avro
        self._internal = internal_topics

    async def prepare(self) -> dict[str, int]:
        return await self._avro.prepare()

    def schema_id(self, topic: str) -> int:
        return self._avro.schema_id(topic)

    def encode(self, topic: str, datum: Any) -> bytes:
        if topic in self._internal:
            return orjson.dumps(datum, default=str, option=_JSON_OPTIONS)
        return self._avro.encode(topic, datum)


class StageOptions(TypedDict, total=False):
    """What every stage builder accepts besides its settings (``renkei worker`` passes
    ``web_port``; tests and tools the rest)."""

    web_port: int | None
    """Web server port (default: the stage registry's, from the base port)."""
    topic_prefix: str | None
    """A prefix for every topic, subject and group (isolated test runs)."""
    store: str | None
    """Table store (default: the registry's, ``rocksdb://`` for a stage with tables)."""
    registry: RegistryClient | None
    """A schema registry client (default: one for ``settings.schema_registry_url``)."""
    send: Send | None
    """Replaces the producer (tests without a broker)."""


def stage_settings(settings: Settings, topic_prefix: str | None) -> Settings:
    """``settings`` with a test topic prefix, if one is given."""
    if topic_prefix is None:
        return settings
    return settings.model_copy(update={"topic_prefix": topic_prefix})


@dataclass
class StageBuilder:
    """Builder of one stage's App: declare tables, internal topics and handlers, then
    :meth:`build`. ``registry``/``send`` can be replaced in tests (fake registry, no broker)."""

    settings: Settings
    spec: StageSpec
    inputs: tuple[TopicSpec, ...]
    outputs: tuple[TopicSpec, ...]
    web_port: int
    store: str
    registry: RegistryClient | None = None
    send: Send | None = None
    internal_topics: dict[str, int] = field(default_factory=dict)
    handlers: dict[str, Handler] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ValueError(f"stage {self.spec.name!r} has no input topics")
        self.name = self.spec.name
        self.names = TopicNames(self.settings.topic_prefix)
        # The App's own topics default to the inputs' count in a stage without tables (a
        # stateful stage gives every table and internal topic its count explicitly).
        partitions = None if self.spec.tables else max(spec.partitions for spec in self.inputs)
        self.app: StageApp = create_app(
            self.settings,
            self.name,
            web_port=self.web_port,
            store=self.store,
            partitions=partitions,
        )
        self.registry = self.registry or registry_client(self.settings)
        self.decoders: dict[str, Any] = {}
        self.tables: list[TableT[str, Any]] = []
        self._dlqs: dict[str, int] = {}
        acker = DeliveryAcker(self.app.sensors.on_message_out, self.app.fail)
        self.batch = CommitBatch(
            send=self._send_output,
            ack=lambda event: acker.ack_when_delivered(event, []),
            fail=self.app.fail,
            limits=BatchLimits(
                max_records=self.settings.stage_batch_max_records,
                max_ms=self.settings.stage_batch_max_ms,
            ),
            state_topics=frozenset(self.names.topic(t) for t in self.spec.state_outputs),
            urgent_topics=frozenset(self.spec.urgent_inputs),
            # a replaced producer (tests without a broker) cannot deliver changelog writes
            await_changelog=self.send is None,
            refresh_metadata=self._refresh_consumer_metadata,
            on_sent=lambda outputs, sent: self.processor.outputs_sent(outputs, sent),
        )
        self.app.on_partitions_revoked.connect(self._flush_before_revoke)
        self.lanes = LaneController(
            (self.names.topic(s.topic) for s in self.inputs if is_bulk(s.topic)),
            consumer=lambda: self.app.consumer,
            busy=self._rebalancing,
            metrics=self.app.metrics,
            check_s=self.settings.stage_lane_check_ms / 1000,
            internal_topics=(self.names.topic(t) for t in self.spec_internal_topics()),
            internal_slack=self.settings.stage_batch_max_records,
        )
        if self.lanes.active:
            self.app.on_partitions_revoked.connect(self._forget_revoked_lanes)

    @classmethod
    def create(
        cls,
        settings: Settings,
        spec: StageSpec,
        *,
        inputs: tuple[TopicSpec, ...] | None = None,
        outputs: tuple[TopicSpec, ...] | None = None,
        **options: Unpack[StageOptions],
    ) -> StageBuilder:
        """A builder for ``spec``; its catalogue inputs and outputs are those the stage
        registry gives (``inputs``/``outputs`` override them, e.g. the views of given plans)."""
        settings = stage_settings(settings, options.get("topic_prefix"))
        web_port = options.get("web_port")
        if inputs is None or outputs is None:
            catalogue = load_catalogue(settings.schemas_dir)
            if inputs is None:
                names = spec.contract_inputs(catalogue, settings.agreements_dir)
                inputs = tuple(catalogue.get(t) for t in names)
            if outputs is None:
                names = spec.contract_outputs(catalogue, settings.agreements_dir)
                outputs = tuple(catalogue.get(t) for t in names)
        return cls(
            settings,
            spec,
            inputs=inputs,
            outputs=outputs,
            web_port=web_port if web_port is not None else default_web_port(settings, spec.name),
            store=options.get("store") or spec.store,
            registry=options.get("registry"),
            send=options.get("send"),
        )

    def table(self, name: str) -> MutableMapping[str, Any]:
        """The declared table ``name`` (JSON values), seen through the batch's write-back
        cache (runtime/batch.py): a changed key is written once per batch, to the partition
        of the record that changed it last, and the batch is acked only once its changelog
        writes are delivered too. Lookups are counted (``renkei_table_lookups_total``)."""
        options = rocksdb_options(
            self.settings.table_write_buffer_mb, self.settings.table_block_cache_mb
        )
        table = tracked_table(
            self.app, name, self.spec.table_partitions(name), self.batch, dict(options)
        )
        self.tables.append(table)
        return self.app.metrics.counted(name, CachedTable(name, table, self.batch))

    def internal_topic(self, suffix: str) -> str:
        """The declared internal JSON topic ``renkei-<stage>-<suffix>``; its contract name."""
        topic = self.spec.internal_topic(suffix)
        self.internal_topics[topic] = self.spec.internal_topics[suffix]
        return topic

    def on(self, topic: str, handler: Handler) -> None:
        """Handle the records of ``topic`` (a catalogue input or a declared internal topic)."""
        self.handlers[topic] = handler

    def spec_internal_topics(self) -> list[str]:
        """The stage's internal topics (contract names) as the stage registry declares them."""
        return [self.spec.internal_topic(suffix) for suffix in self.spec.internal_topics]

    def _rebalancing(self) -> bool:
        """A rebalance or table recovery runs (faust pauses and resumes partitions itself)."""
        app: Any = self.app
        if app.rebalancing or app.in_recovery or not app.consumer.flow_active:
            return True
        return not app.tables.recovery.completed.is_set()

    async def _forget_revoked_lanes(self, sender: Any, /, *args: Any, **kwargs: Any) -> None:
        """Partitions move away: the lanes forget them and what they paused."""
        self.lanes.on_revoked(args[0] if args else ())

    def _step(self, record: SourceRecord, value: Any) -> Iterable[Output] | Awaitable[Any]:
        return self.handlers[record.contract_topic](record, value)

    async def _refresh_consumer_metadata(self) -> None:
        """Ask faust's consumer (in its own thread) to fetch cluster metadata now; its
        coordinator's partition-count snapshot follows (see CommitBatch)."""
        thread = getattr(self.app.consumer, "_thread", None)
        ensure = getattr(thread, "_ensure_consumer", None)
        if thread is None or ensure is None:
            return

        async def refresh() -> None:
            await ensure()._client.force_metadata_update()

        try:
            await thread.call_thread(refresh)
        except Exception as exc:  # best effort: the caller retries on a timer anyway
            log.debug("metadata refresh failed: %r", exc)

    async def _send_output(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        headers: Any,
    ) -> Any:
        return await (self.send or self._send)(topic, key, value, partition, headers)

    async def _flush_before_revoke(self, sender: Any, /, *args: Any, **kwargs: Any) -> None:
        """Partitions move away: deliver and ack what the open batch holds first, so its
        cached table changes are not written after another worker took the partitions."""
        if len(self.batch) and self.batch.failed is None:
            await self.batch.flush()

    async def _send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        headers: Any,
    ) -> Any:
        return await self.app.producer.send(topic, key, value, partition, None, headers)

    def build(self) -> StageApp:
        """Mount the stage on its App.

        Phases:
        1. codecs: a decoder per catalogue input (reader = catalogue schema), JSON for internal
           topics; an Avro encoder per catalogue output, JSON for internal topics;
        2. DLQ: breaker thresholds from settings, router sending through the App's producer;
        3. processor: decode → handler → encode → send, or the DLQ (runtime/stage.py);
        4. startup hook, before the consumer starts: inputs must exist; outputs, DLQs, internal
           topics and changelogs are created; output schema ids resolved, input schemas
           prefetched;
        5. agents: one per consumed topic, concurrency=1, raw bytes, on the stage's one
           commit-interval batch (runtime/batch.py): outputs and table writes of a batch
           delivered, then its records acked in offset order;
        6. lanes: the bulk twins (``<topic>.bulk``) among the inputs, handled as their live
           topic, paused while a live input has lag (runtime/lanes.py), checked every
           ``stage_lane_check_ms``.
        """
        consumed = {s.topic for s in self.inputs} | set(self.internal_topics)
        for topic in consumed:  # a bulk twin is handled as its live topic unless told otherwise
            if is_bulk(topic) and topic not in self.handlers and live_topic(topic) in self.handlers:
                self.handlers[topic] = self.handlers[live_topic(topic)]
        unhandled = sorted(consumed - set(self.handlers))
        if unhandled:
            raise ValueError(f"stage {self.name!r} has no handler for {', '.join(unhandled)}")
        assert self.registry is not None
        self.decoders = {
            spec.topic: SourceDecoder(self.registry, spec, topic=self.names.topic(spec.topic))
            for spec in self.inputs
        }
        self.decoders.update(dict.fromkeys(self.internal_topics, _JsonCodec()))
        avro = OutputEncoders(self.registry, self.outputs, self.names)
        self.encoders = _Encoders(avro, set(self.internal_topics))
        send = self.send or self._send
        s = self.settings
        router = DeadLetterRouter(
            stage=self.name,
            send=send,
            dlq_topic=self.names.dlq,
            breaker=DlqBreaker(
                window_records=s.dlq_breaker_window_records,
                window_seconds=s.dlq_breaker_window_seconds,
                min_records=s.dlq_breaker_min_records,
                max_failure_ratio=s.dlq_breaker_max_failure_ratio,
            ),
            dlq_partitions=lambda topic: self.internal_topics.get(topic) or self._dlqs.get(topic),
            metrics=self.app.metrics,
        )
        stage = Stage(self.name, self.inputs, self.outputs, self._step)
        self.processor = StageProcessor(
            stage,
            decoders=self.decoders,
            encoders=self.encoders,  # type: ignore[arg-type]
            names=self.names,
            send=send,
            router=router,
            registry_url=s.schema_registry_url,
            metrics=self.app.metrics,
        )
        self.app.startup_hooks.append(self.prepare)
        self.app.shutdown_hooks.append(self.registry.aclose)
        self._mount_agents()
        self.app.builder = self  # type: ignore[attr-defined]  # tests reach the builder
        return self.app

    def _mount_agents(self) -> None:
        consumed = {s.topic: s.partitions for s in self.inputs} | self.internal_topics
        for topic, partitions in consumed.items():
            channel = self.app.topic(
                self.names.topic(topic),
                key_type=bytes,
                value_type=bytes,
                key_serializer="raw",
                value_serializer="raw",
                partitions=partitions,
            )
            agent = batch_agent(
                self.processor,
                topic,
                self.batch,
                self.app.fail,
                lanes=self.lanes if self.lanes.active else None,
                bulk=is_bulk(topic),
            )
            self.app.agent(channel, name=f"{self.name}.{topic}", concurrency=1)(agent)
        if self.lanes.active:
            lanes = self.lanes

            async def check_lanes() -> None:
                await lanes.run()

            self.app.task(check_lanes)

    async def prepare_codecs(self) -> None:
        """Resolve output schema ids and prefetch input schemas (no topic provisioning)."""
        await self.encoders.prepare()
        self.processor.on_prepared()
        for spec in self.inputs:
            await self.decoders[spec.topic].prefetch_latest(self.names.subject(spec.topic))

    async def prepare(self) -> None:
        """Startup: inputs must exist; outputs, DLQs, internal topics and changelogs are
        created; then the codecs are prepared."""
        found = await provision_stage_topics(
            self.settings,
            stage=self.name,
            inputs=self.inputs,
            outputs=self.outputs,
            names=self.names,
        )
        self._dlqs.update(found.dlqs)
        # Internal topics and changelogs are created here, before faust starts: if faust creates
        # a changelog itself, a record that arrives before the new topic's metadata does fails
        # the table update with PartitionsMismatch (seen under load in CI).
        created = [spec for _, spec in self.spec.created_topics(self.names)]
        if created:
            await ensure_topics(self.settings, created)
        await self.prepare_codecs()
        log.info(
            "%s ready: %s -> %s (DLQ %s)",
            self.app.conf.id,
            ", ".join(self.names.topic(s.topic) for s in self.inputs),
            ", ".join(self.names.topic(s.topic) for s in self.outputs),
            ", ".join(self.names.dlq(s.topic) for s in self.inputs),
        )
