"""The Kafka copy of the audit log: topic ``audit.access`` (Avro, key = kind).

The topic and its ``audit.access-value`` subject come from the catalogue; both are created on
first use when missing, so a process that audits does not depend on ``renkei schemas apply``
having run first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from renkei.audit.chain import canonical_json
from renkei.errors import AuditError, RenkeiError
from renkei.kafka_security import kafka_client_options
from renkei.publish.cloudevents import cloudevent_headers
from renkei.schemas.catalogue import TopicSpec, load_catalogue, renamed
from renkei.serde.avro import AvroEncoder
from renkei.serde.registry import RegistryClient, registry_client
from renkei.settings import Settings
from renkei.topics import ensure_topics

AUDIT_TOPIC = "audit.access"
_JST = dt.timezone(dt.timedelta(hours=9), "JST")


def audit_datum(record: Mapping[str, Any], log_id: str) -> dict[str, Any]:
    """The Avro datum of one file record (details as canonical JSON text)."""
    recorded_at = dt.datetime.fromisoformat(str(record["recorded_at"]).replace("Z", "+00:00"))
    return {
        "event_id": record["event_id"],
        "municipality_code": record["municipality_code"],
        "effective_date": recorded_at.astimezone(_JST).date(),
        "recorded_at": recorded_at,
        "sequence": record["sequence"],
        "kind": record["kind"],
        "actor": record["actor"],
        "details": canonical_json(record["details"]),
        "prev_hash": record["prev_hash"],
        "hash": record["hash"],
        "log_id": log_id,
    }


class AuditTopic:
    """Produces audit records to ``<prefix>audit.access``; started lazily on the first record."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.topic = f"{settings.topic_prefix}{AUDIT_TOPIC}"
        self._spec: TopicSpec | None = None
        self._registry: RegistryClient | None = None
        self._encoder: AvroEncoder | None = None
        self._producer: AIOKafkaProducer | None = None

    async def _start(self) -> tuple[AIOKafkaProducer, AvroEncoder]:
        if self._producer is not None and self._encoder is not None:
            return self._producer, self._encoder
        spec = renamed(load_catalogue(self.settings.schemas_dir).get(AUDIT_TOPIC), self.topic)
        await ensure_topics(self.settings, [spec])
        self._registry = registry_client(self.settings)
        subject = f"{self.topic}-value"
        if await self._registry.latest(subject) is None:
            await self._registry.register(subject, spec.schema_text)
            await self._registry.set_compatibility(subject, spec.compatibility)
        encoder = AvroEncoder(self._registry, subject, spec.schema)
        await encoder.prepare()
        producer = AIOKafkaProducer(
            **kafka_client_options(self.settings),
            acks="all",
            enable_idempotence=True,
            client_id="renkei-audit",
        )
        await producer.start()
        self._spec, self._encoder, self._producer = spec, encoder, producer
        return producer, encoder

    async def send(self, record: Mapping[str, Any], log_id: str) -> None:
        """Produce one record and wait for the broker's ack (AuditError when it fails)."""
        try:
            producer, encoder = await self._start()
            datum = audit_datum(record, log_id)
            headers = cloudevent_headers(
                event_id=str(record["event_id"]),
                source="/renkei/audit",
                event_type="jp.renkei.audit.access",
                time=datum["recorded_at"],
                dataschema=None,
            )
            await producer.send_and_wait(
                self.topic,
                value=encoder.encode(datum),
                key=str(record["kind"]).encode("utf-8"),
                headers=headers,
            )
        except (KafkaError, RenkeiError, OSError) as exc:
            raise AuditError(
                f"audit record {record['sequence']} is in the local file but was not produced to "
                f"{self.topic}: {type(exc).__name__}: {exc}"
            ) from exc

    async def aclose(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        if self._registry is not None:
            await self._registry.aclose()
            self._registry = None
        self._encoder = None
