"""The department publisher: validated, encoded, idempotent publishing to department topics.

``Publisher`` validates each record against its topic's schema (pydantic models derived from the
Avro schema, with check digits and the 個人番号 guard), encodes it in the Confluent wire format,
keys it by the topic's key field and sends it with an idempotent producer (acks=all).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError

from renkei.contracts.names import TopicNames
from renkei.errors import (
    ConfigurationError,
    InvalidRecord,
    PublishError,
    RegistryError,
    StackError,
)
from renkei.kafka_security import kafka_client_options
from renkei.ops.metrics import PublisherMetrics, default_publisher_metrics
from renkei.publish.cloudevents import cloudevent_headers
from renkei.publish.rejects import rejected_record
from renkei.schemas.catalogue import Catalogue, TopicSpec, bulk_topic, is_bulk
from renkei.schemas.jsonform import to_datum
from renkei.schemas.models import RecordValidator
from renkei.serde.avro import AvroEncoder
from renkei.serde.registry import RegistryClient, registry_client
from renkei.settings import Settings
from renkei.topics import ensure_topics

MAX_RECORD_BYTES = 1024 * 1024
"""The producer's request limit, equal to the broker's default record limit (1 MiB)."""

log = logging.getLogger(__name__)

REGISTRY_WAIT = 60.0
"""Seconds a publisher keeps retrying a schema registry that does not answer (a restart of the
registry takes ~20 s) before it gives up with :class:`RegistryError`."""


def registry_unavailable(exc: RegistryError) -> bool:
    """Worth retrying: no answer at all, or a 5xx (starting, overloaded); a 4xx is final."""
    return exc.status is None or exc.status >= 500


@dataclass(frozen=True)
class PreparedRecord:
    """A validated record ready to send: topic, key, framed value and headers."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class _TopicWriter:
    """Validation and encoding for one topic."""

    def __init__(self, spec: TopicSpec, client: RegistryClient, source: str):
        self.spec = spec
        self.validator = RecordValidator(spec.schema)
        self.encoder = AvroEncoder(client, spec.subject, spec.schema)
        self.source = source
        self.dataschema = ""

    async def prepare(self, registry_url: str, wait: float = REGISTRY_WAIT) -> None:
        """Resolve the schema id, retrying (with a warning each time) while the registry is
        unreachable, for at most ``wait`` seconds."""
        deadline = time.monotonic() + wait
        delay = 0.5
        while True:
            try:
                schema_id = await self.encoder.prepare()
                break
            except RegistryError as exc:
                left = deadline - time.monotonic()
                if not registry_unavailable(exc) or left <= 0:
                    if registry_unavailable(exc):
                        raise RegistryError(
                            f"{self.spec.topic}: schema registry at {registry_url} still not "
                            f"available after {wait:g} s of retries; nothing was published for "
                            f"this topic ({exc})",
                            status=exc.status,
                        ) from exc
                    raise
                log.warning(
                    "%s: schema registry not available (%s); retrying in %.1f s "
                    "(giving up in %.0f s)",
                    self.spec.topic,
                    exc,
                    min(delay, left),
                    left,
                )
                await asyncio.sleep(min(delay, left))
                delay = min(delay * 2, 5.0)
        self.dataschema = f"{registry_url}/schemas/ids/{schema_id}"

    def build(self, value: Any) -> PreparedRecord:
        """Validate and encode; raises InvalidRecord on a bad record."""
        record = self.validator.validate(value)
        framed = self.encoder.encode(to_datum(self.spec.schema, record))
        headers = cloudevent_headers(
            event_id=str(record["event_id"]),
            source=f"/renkei/{record.get('source_system') or self.source}",
            event_type=self.spec.cloudevents_type,
            time=record.get("recorded_at") or dt.datetime.now(dt.UTC),
            dataschema=self.dataschema,
        )
        key = str(record[self.spec.key_field]).encode("utf-8")
        return PreparedRecord(self.spec.topic, key, framed, headers)


class Publisher:
    """Publishes department events. ``async with Publisher(settings, catalogue) as pub: ...``

    Counts records acked, rejected (validation) and failed (send or ack) in
    ``renkei_publisher_records_total`` of ``metrics`` (default: on prometheus_client's default
    registry, which the application exposes as it likes).

    ``bulk=True`` publishes to the bulk lane of each topic (``<topic>.bulk``: an initial
    snapshot, a yearly batch, a replay), which the stages consume only while their live
    topics have no lag (docs/design/streaming-core.md, "Lanes"); a topic without a bulk lane
    is a ConfigurationError. A bulk twin named directly (``registry.resident.events.bulk``)
    works either way.
    """

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue,
        *,
        linger_ms: int = 20,
        metrics: PublisherMetrics | None = None,
        registry_wait: float = REGISTRY_WAIT,
        bulk: bool = False,
    ):
        self.settings = settings
        self.bulk = bulk
        self.metrics = metrics or default_publisher_metrics()
        self.registry_wait = registry_wait
        self.catalogue = catalogue
        self.registry = registry_client(settings)
        self._writers: dict[str, _TopicWriter] = {}
        self._producer = AIOKafkaProducer(
            **kafka_client_options(settings),
            acks="all",
            enable_idempotence=True,
            linger_ms=linger_ms,
            max_batch_size=256 * 1024,
            max_request_size=MAX_RECORD_BYTES,
            compression_type=None,
            client_id=f"renkei-publisher-{settings.source_system}",
        )
        self._started = False
        self._dlq_ready: set[str] = set()

    async def __aenter__(self) -> Publisher:
        try:
            await self._producer.start()
        except KafkaError as exc:
            await self._producer.stop()
            await self.registry.aclose()
            raise StackError(
                f"Kafka at {self.settings.kafka_bootstrap} not reachable ({type(exc).__name__}); "
                "is the stack up? (renkei stack up)"
            ) from exc
        self._started = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._started:
            await self._producer.stop()
        await self.registry.aclose()

    def lane_topic(self, topic: str, *, bulk: bool | None = None) -> str:
        """``topic`` on the publisher's lane (``bulk``: its ``<topic>.bulk`` twin; default: the
        publisher's ``bulk`` option). ConfigurationError when the topic has no bulk lane."""
        if not (self.bulk if bulk is None else bulk) or is_bulk(topic):
            return topic
        spec = self.catalogue.get(topic)
        twin = bulk_topic(topic)
        if not spec.bulk_lane or twin not in self.catalogue.topics:
            lanes = ", ".join(t.removesuffix(".bulk") for t in self.catalogue.bulk_topics())
            raise ConfigurationError(
                f"{topic} has no bulk lane (bulk_lane in its topic.yaml); topics with one: "
                f"{lanes or 'none'}"
            )
        return twin

    async def writer(self, topic: str) -> _TopicWriter:
        """The (cached) writer of ``topic`` on the publisher's lane; resolves its schema id on
        first use."""
        topic = self.lane_topic(topic)
        existing = self._writers.get(topic)
        if existing is None:
            existing = _TopicWriter(
                self.catalogue.get(topic), self.registry, self.settings.source_system
            )
            await existing.prepare(self.registry.base_url, self.registry_wait)
            self._writers[topic] = existing
        return existing

    async def prepare(self, topic: str, value: Any) -> PreparedRecord:
        """Validate and encode one record without sending it (InvalidRecord when bad)."""
        writer = await self.writer(topic)
        try:
            return writer.build(value)
        except InvalidRecord:
            self.metrics.record(self._label(writer.spec.topic), "rejected")
            raise

    async def send(self, record: PreparedRecord) -> asyncio.Future[Any]:
        """Queue a prepared record; the returned future resolves when the broker acks it."""
        try:
            future: asyncio.Future[Any] = await self._producer.send(
                record.topic, value=record.value, key=record.key, headers=record.headers
            )
        except MessageSizeTooLargeError as exc:
            self.metrics.record(self._label(record.topic), "failed")
            size = (len(record.value) + len(record.key)) / 1024 / 1024
            raise PublishError(
                f"{record.topic}: record of {size:.1f} MiB is larger than a Kafka record may be "
                f"({MAX_RECORD_BYTES // 1024 // 1024} MiB): not sent"
            ) from exc
        except KafkaError as exc:
            self.metrics.record(self._label(record.topic), "failed")
            raise PublishError(f"{record.topic}: send failed: {type(exc).__name__}") from exc
        self.metrics.watch(self._label(record.topic), future)
        return future

    def _label(self, topic: str) -> str:
        """The metric label of a topic: its contract name (no test prefix)."""
        return topic.removeprefix(self.settings.topic_prefix)

    async def publish(self, topic: str, value: Any) -> Any:
        """Validate, encode, send and wait for the broker's ack; returns RecordMetadata."""
        future = await self.send(await self.prepare(topic, value))
        return await _acked(future, topic)

    def dlq_topic(self, topic: str) -> str:
        """``dlq.<topic>`` (under the test prefix, if any, like the stages' DLQs)."""
        prefix = self.settings.topic_prefix
        return TopicNames(prefix).dlq(topic.removeprefix(prefix))

    async def dead_letter(
        self, topic: str, value: Any, problems: Sequence[tuple[str, str]], *, origin: str
    ) -> asyncio.Future[Any]:
        """Keep a refused input in ``dlq.<topic>`` (JSON, My Numbers masked, reasons in
        headers); returns the delivery future. ``problems`` are value-free (path, reason)
        pairs, ``origin`` says where the input came from (file and line)."""
        spec = self.catalogue.get(topic)
        dlq = self.dlq_topic(topic)
        if dlq not in self._dlq_ready:
            dlq_spec = replace(
                spec,
                topic=dlq,
                metadata={**spec.metadata, "topic": dlq, "cleanup_policy": "delete"},
            )
            await ensure_topics(self.settings, [dlq_spec])
            self._dlq_ready.add(dlq)
        rejected = rejected_record(
            dlq, topic, value, problems, origin=origin, key_field=spec.key_field
        )
        try:
            future: asyncio.Future[Any] = await self._producer.send(
                dlq, value=rejected.value, key=rejected.key, headers=rejected.headers
            )
            return future
        except KafkaError as exc:
            raise PublishError(f"{dlq}: send failed: {type(exc).__name__}") from exc

    async def flush(self) -> None:
        await self._producer.flush()


async def _acked(future: asyncio.Future[Any], topic: str) -> Any:
    try:
        return await future
    except KafkaError as exc:
        raise PublishError(f"{topic}: broker did not acknowledge: {type(exc).__name__}") from exc


async def wait_acked(futures: list[asyncio.Future[Any]], topic: str) -> int:
    """Wait for every future; returns how many were acked, raising on the first failure."""
    for future in futures:
        await _acked(future, topic)
    return len(futures)
