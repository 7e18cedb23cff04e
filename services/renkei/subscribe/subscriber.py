"""The subscriber: an async iterator of typed records that commits only what was processed.

    async with Subscriber(settings, catalogue, "derived.evacuation-support",
                          group_id="fire-dept-notifier") as subscriber:
        async for record in subscriber:
            handle(record.value)          # a pydantic model built from the topic's Avro schema

The offset of a record is committed when the caller asks for the next one (or leaves the loop
normally), i.e. after the loop body has processed it: a crash inside the body redelivers that
record (at-least-once). Values are decoded with the writer's schema from the registry and
resolved to the catalogue's schema, so producers may evolve compatibly. A record that does not
decode or validate is skipped with a warning and counted in ``skipped`` — never silently.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import BaseModel

from renkei.errors import InvalidRecord, RegistryError, SerializationError, StackError
from renkei.kafka_security import kafka_client_options
from renkei.schemas.catalogue import Catalogue
from renkei.schemas.models import RecordValidator
from renkei.serde.avro import AvroDecoder
from renkei.serde.registry import registry_client
from renkei.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """One delivered record. ``value`` is None for a tombstone (a deleted key)."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: BaseModel | None
    headers: dict[str, str]


class Subscriber:
    """Reads one topic in a consumer group, yielding typed records."""

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue,
        topic: str,
        *,
        group_id: str,
        from_beginning: bool = True,
    ):
        self.spec = catalogue.get(topic)
        self.settings = settings
        self.registry = registry_client(settings)
        self._decoder = AvroDecoder(self.registry, reader_schema=self.spec.schema)
        self._validator = RecordValidator(self.spec.schema)
        self._consumer = AIOKafkaConsumer(
            topic,
            **kafka_client_options(settings),
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest" if from_beginning else "latest",
        )
        self._pending: tuple[TopicPartition, int] | None = None
        self.skipped = 0

    async def __aenter__(self) -> Subscriber:
        try:
            await self._consumer.start()
        except KafkaError as exc:
            await self.registry.aclose()
            raise StackError(
                f"Kafka at {self.settings.kafka_bootstrap} not reachable ({type(exc).__name__})"
            ) from exc
        return self

    async def __aexit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is None:
                await self.commit()
        finally:
            await self._consumer.stop()
            await self.registry.aclose()

    async def commit(self) -> None:
        """Commit the last record handed out (the caller is done with it)."""
        if self._pending is not None:
            partition, offset = self._pending
            await self._consumer.commit({partition: offset + 1})
            self._pending = None

    def __aiter__(self) -> AsyncIterator[Record]:
        return self._records()

    async def _records(self) -> AsyncIterator[Record]:
        while True:
            await self.commit()
            message = await self._consumer.getone()
            record = await self._typed(message)
            self._pending = (TopicPartition(message.topic, message.partition), message.offset)
            if record is not None:
                yield record

    async def _typed(self, message: Any) -> Record | None:
        value: BaseModel | None = None
        if message.value is not None:
            try:
                value = self._validator.model(await self._decoder.decode(message.value))
            except (SerializationError, RegistryError, InvalidRecord) as exc:
                self.skipped += 1
                log.warning(
                    "skipping %s[%d]@%d: %s", message.topic, message.partition, message.offset, exc
                )
                return None
        return Record(
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key.decode("utf-8") if message.key is not None else None,
            value=value,
            headers={k: (v or b"").decode("utf-8", "replace") for k, v in message.headers or []},
        )
