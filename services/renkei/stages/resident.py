"""The resident stage (住民の連携): std registry events, checkups and care certifications →
``unified.resident`` (redacted) and ``internal.resident.facts`` (unredacted, platform internal).

Also home of :class:`LinkageStage`, the faust plumbing the three linkage stages (resident,
region, evacuation) share: faust tables, internal JSON topics, and every topic consumed through
the runtime's :class:`~renkei.runtime.stage.StageProcessor` (decode, DLQ, encode, send) by a
``concurrency=1`` agent that acks a record only once what it produced was delivered. The logic
is in ``renkei.linkage``; an agent here only loops, calls a handler, sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faust.types import TableT

from renkei.linkage import redelivery, resident_flow
from renkei.runtime.agent import DeliveryAcker, stage_agent
from renkei.runtime.app import StageApp, create_app, default_web_port
from renkei.runtime.changelog import ChangelogWrites
from renkei.runtime.codec import OutputEncoders, SourceDecoder, UndecodableRecord
from renkei.runtime.dlq import DeadLetterRouter, DlqBreaker, Send
from renkei.runtime.provision import provision_stage_topics
from renkei.runtime.records import Output, SourceRecord, TopicNames
from renkei.runtime.stage import Stage, StageProcessor
from renkei.schemas.catalogue import TopicSpec, load_catalogue
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from renkei.topics import ensure_topics

STAGE = "resident"
INPUTS = (
    "std.registry.resident.events",
    "std.health.checkup.results",
    "std.welfare.care.certifications",
)
OUTPUTS = ("unified.resident", "internal.resident.facts")
RESIDENT_PARTITIONS = 6
INTERNAL_RETENTION_MS = 7 * 24 * 3600 * 1000
"""Internal re-key topics hold personal data in transit: a week covers an outage, no more."""

Handler = Callable[[SourceRecord, Any], Iterable[Output]]


def internal(topic: str, key: str, value: dict[str, Any]) -> Output:
    """An Output for an internal JSON topic (no CloudEvents headers carried over)."""
    return Output(topic, key.encode("utf-8"), value, headers=())


def contract(topic: str, key: str, datum: dict[str, Any]) -> Output:
    """An Output for a catalogue topic (Avro; the source's CloudEvents headers carried)."""
    return Output(topic, key.encode("utf-8"), datum)


class _JsonCodec:
    """Decoder/encoder of the stage's internal topics (JSON, written and read only here)."""

    async def decode(self, value: bytes | None) -> Any:
        try:
            return json.loads(value or b"")
        except ValueError as exc:
            raise UndecodableRecord("deserialization", "not a JSON internal message") from exc


class _Encoders:
    """The runtime's Avro encoders for catalogue outputs plus JSON for internal topics."""

    def __init__(self, avro: OutputEncoders, internal_topics: set[str]):
        self._avro = avro
        self._internal = internal_topics

    async def prepare(self) -> dict[str, int]:
        return await self._avro.prepare()

    def schema_id(self, topic: str) -> int:
        return self._avro.schema_id(topic)

    def encode(self, topic: str, datum: Any) -> bytes:
        if topic in self._internal:
            return json.dumps(datum, ensure_ascii=False, default=str).encode("utf-8")
        return self._avro.encode(topic, datum)


def _internal_spec(kafka_name: str, partitions: int, *, compact: bool = False) -> TopicSpec:
    metadata: dict[str, object] = {"topic": kafka_name, "key": "key", "partitions": partitions}
    if compact:  # a table changelog: the latest value per key, kept for recovery
        metadata["cleanup_policy"] = "compact"
    else:
        metadata.update(cleanup_policy="delete", retention_ms=INTERNAL_RETENTION_MS)
    return TopicSpec(topic=kafka_name, folder=Path("."), schema={}, metadata=metadata)


@dataclass
class LinkageStage:
    """Builder of one linkage stage's App: declare tables, internal topics and handlers, then
    :meth:`build`. ``registry``/``send`` can be replaced in tests (fake registry, no broker)."""

    settings: Settings
    name: str
    inputs: tuple[TopicSpec, ...]
    outputs: tuple[TopicSpec, ...]
    web_port: int
    store: str = "rocksdb://"
    registry: RegistryClient | None = None
    send: Send | None = None

    def __post_init__(self) -> None:
        self.names = TopicNames(self.settings.topic_prefix)
        self.app = create_app(self.settings, self.name, web_port=self.web_port, store=self.store)
        self.registry = self.registry or RegistryClient(self.settings.schema_registry_url)
        self.internal_topics: dict[str, int] = {}
        self.handlers: dict[str, Handler] = {}
        self.decoders: dict[str, Any] = {}
        self._dlqs: dict[str, int] = {}
        self.tables: list[TableT[str, Any]] = []
        self.changelog = ChangelogWrites()

    @classmethod
    def from_catalogue(
        cls,
        settings: Settings,
        name: str,
        inputs: tuple[str, ...],
        outputs: tuple[str, ...],
        *,
        web_port: int | None,
        topic_prefix: str | None,
        store: str,
        registry: RegistryClient | None,
        send: Send | None,
    ) -> LinkageStage:
        """A stage whose inputs and outputs are catalogue topics, named by contract name."""
        if topic_prefix is not None:
            settings = settings.model_copy(update={"topic_prefix": topic_prefix})
        catalogue = load_catalogue(settings.schemas_dir)
        return cls(
            settings,
            name,
            inputs=tuple(catalogue.get(t) for t in inputs),
            outputs=tuple(catalogue.get(t) for t in outputs),
            web_port=web_port if web_port is not None else default_web_port(settings, name),
            store=store,
            registry=registry,
            send=send,
        )

    def table(self, name: str, partitions: int) -> MutableMapping[str, Any]:
        """A table (JSON values); its changelog partition is the current record's partition,
        and an input is acked only once its changelog writes are delivered too. Lookups are
        counted (``renkei_table_lookups_total``)."""
        table = self.changelog.table(self.app, name, partitions)
        self.tables.append(table)
        return self.app.metrics.counted(name, table)

    def internal_topic(self, suffix: str, partitions: int) -> str:
        """Declare an internal JSON topic ``renkei-<stage>-<suffix>``; its contract name."""
        topic = f"renkei-{self.name}-{suffix}"
        self.internal_topics[topic] = partitions
        return topic

    def on(self, topic: str, handler: Handler) -> None:
        self.handlers[topic] = handler

    def _step(self, record: SourceRecord, value: Any) -> Iterable[Output]:
        return self.handlers[record.contract_topic](record, value)

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
        """Phases: codecs (Avro for catalogue topics, JSON internal), DLQ router, processor,
        startup hook (provision topics, resolve schema ids), one agent per consumed topic."""
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
        stage = Stage(self.name, self.inputs, self.outputs, self._step, "processing")
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
        self.app.linkage = self  # type: ignore[attr-defined]  # tests reach the builder
        return self.app

    def _mount_agents(self) -> None:
        acker = DeliveryAcker(self.app.sensors.on_message_out, self.app.fail)
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
            processor = self.changelog.processor(self.processor)
            agent = stage_agent(processor, topic, acker, self.app.fail)  # type: ignore[arg-type]
            self.app.agent(channel, name=f"{self.name}.{topic}", concurrency=1)(agent)

    async def prepare_codecs(self) -> None:
        """Resolve output schema ids and prefetch input schemas (no topic provisioning)."""
        await self.encoders.prepare()
        self.processor.on_prepared()
        for spec in self.inputs:
            await self.decoders[spec.topic].prefetch_latest(self.names.subject(spec.topic))

    async def prepare(self) -> None:
        """Startup: inputs must exist; outputs, DLQs and internal topics are created."""
        found = await provision_stage_topics(
            self.settings,
            stage=self.name,
            inputs=self.inputs,
            outputs=self.outputs,
            names=self.names,
        )
        self._dlqs.update(found.dlqs)
        specs = []
        for topic, partitions in self.internal_topics.items():
            specs.append(_internal_spec(self.names.topic(topic), partitions))
            specs.append(_internal_spec(self.names.dlq(topic), partitions))
        # Changelogs are created here, before faust starts: if faust creates them itself, a
        # record that arrives before the new topic's metadata does fails the table update with
        # PartitionsMismatch (seen under load in CI).
        for table in self.tables:
            changelog = table.changelog_topic.get_topic_name()
            specs.append(_internal_spec(changelog, table.partitions or 1, compact=True))
        await ensure_topics(self.settings, specs)
        await self.prepare_codecs()


def build_resident(
    settings: Settings,
    *,
    web_port: int | None = None,
    topic_prefix: str | None = None,
    store: str = "rocksdb://",
    registry: RegistryClient | None = None,
    send: Send | None = None,
) -> StageApp:
    """The resident worker's App (group ``renkei-resident``, web port 6067 by default).

    Phases:
    1. catalogue: the three std resident-keyed topics in (6 partitions, co-partitioned: the
       standardize stage keys them by resident_key with the default partitioner), the two
       outputs;
    2. tables: ``residents`` (ResidentState per resident_key), ``households`` (members per
       household key) — both 6 partitions;
    3. internal topics: ``renkei-resident-household-members`` (key household) and
       ``renkei-resident-household-views`` (key resident_key): the household loop of
       ``linkage/household.py``;
    4. handlers: std inputs and views → resident table → outputs + membership messages;
       membership → household table → views.
    """
    stage = LinkageStage.from_catalogue(
        settings,
        STAGE,
        INPUTS,
        OUTPUTS,
        web_port=web_port,
        topic_prefix=topic_prefix,
        store=store,
        registry=registry,
        send=send,
    )
    residents = stage.table("residents", RESIDENT_PARTITIONS)
    households = stage.table("households", RESIDENT_PARTITIONS)
    members = stage.internal_topic("household-members", RESIDENT_PARTITIONS)
    views = stage.internal_topic("household-views", RESIDENT_PARTITIONS)

    def sent(result: resident_flow.StepResult, next_topic: str) -> list[Output]:
        out = [contract(t, str(d["resident_key"]), d) for t, d in result.outputs]
        return out + [internal(next_topic, k, m) for k, m in result.messages]

    def resident_step(
        record: SourceRecord, key: str, trigger: dict[str, Any], handle: Any
    ) -> list[Output]:
        """``handle(store)`` on the residents table; outputs re-sent on a redelivery whose
        state change was persisted without them (linkage/redelivery.py)."""
        result = redelivery.applied(
            residents,
            key,
            [record.topic, record.partition, record.offset],
            handle,
            lambda stored: redelivery.replay_resident(stored, trigger),
        )
        return sent(result, members)

    def on_registry(record: SourceRecord, event: Any) -> list[Output]:
        trigger = resident_flow.trigger_of(event, event_type=str(event["event_type"]))
        return resident_step(
            record,
            str(event["resident_key"]),
            trigger,
            lambda store: resident_flow.handle_registry_event(store, event),
        )

    def on_checkup(record: SourceRecord, event: Any) -> list[Output]:
        return resident_step(
            record,
            str(event["resident_key"]),
            resident_flow.trigger_of(event),
            lambda store: resident_flow.handle_checkup(store, event),
        )

    def on_care(record: SourceRecord, event: Any) -> list[Output]:
        return resident_step(
            record,
            str(event["resident_key"]),
            resident_flow.trigger_of(event),
            lambda store: resident_flow.handle_care_certification(store, event),
        )

    def on_membership(record: SourceRecord, message: Any) -> list[Output]:
        result = redelivery.applied(
            households,
            str(message["household_key"]),
            [record.topic, record.partition, record.offset],
            lambda store: resident_flow.handle_membership(store, message),
            lambda stored: redelivery.replay_household(stored, dict(message["trigger"])),
        )
        return sent(result, views)

    def on_view(record: SourceRecord, view: Any) -> list[Output]:
        resident_key = (record.key or b"").decode("utf-8")
        return resident_step(
            record,
            resident_key,
            dict(view["trigger"]),
            lambda store: resident_flow.handle_household_view(store, resident_key, view),
        )

    for topic, handler in zip(INPUTS, (on_registry, on_checkup, on_care), strict=True):
        stage.on(topic, handler)
    stage.on(members, on_membership)
    stage.on(views, on_view)
    return stage.build()
