"""The CDC adapter (``renkei cdc run``): Debezium's change events → department events.

Phases of :func:`run_adapter`:

1. consume the table's change topic and the connector's transaction topic (consumer group
   ``renkei-cdc.<connector>``, nothing auto-committed);
2. group changes by database transaction (:mod:`~renkei.input_formats.cdc_transactions`);
3. for each complete transaction, in commit order: map every change through the mapping
   (:mod:`~renkei.input_formats.cdc_events`), validate and send the events together with the
   publisher SDK (each with the ``renkei.source.position`` header: table and LSN), send the
   refused changes to ``dlq.<topic>`` with that position as their origin;
4. once the broker acknowledged all of it, commit the positions before what is still held.

A record of those topics that is no Debezium event (another producer, garbage) is not dropped:
it goes to ``dlq.<topic>`` with its topic, partition and offset as origin (no value kept).

A crash between 3 and 4 re-sends the transaction's events under the same ids (the stages
ignore repeats). Statistics go to the log and to :class:`AdapterStats`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from renkei.contracts.dlq import SOURCE_POSITION_HEADER, SOURCE_TRANSACTION_HEADER
from renkei.errors import InvalidRecord, StackError
from renkei.input_formats.cdc_connector import CdcTopics
from renkei.input_formats.cdc_events import CdcEventBuilder, MappedChange
from renkei.input_formats.cdc_transactions import PendingTransaction, TransactionGrouper
from renkei.input_formats.csv_events import CsvEventBuilder
from renkei.input_formats.csv_mapping import CsvMapping
from renkei.input_formats.debezium import parse_change, parse_marker
from renkei.kafka_security import kafka_client_options
from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class AdapterStats:
    """What the adapter did so far."""

    transactions: int = 0
    published: int = 0
    rejected: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    unreadable: int = 0

    def line(self) -> str:
        skipped = ", ".join(f"{why} {n}" for why, n in sorted(self.skipped.items()))
        return (
            f"{self.transactions} transactions: {self.published} events published, "
            f"{self.rejected} changes refused to the DLQ, skipped: {skipped or 'none'}"
            + (f", {self.unreadable} unreadable records" if self.unreadable else "")
        )


def adapter_group(settings: Settings, name: str) -> str:
    return f"{settings.topic_prefix}renkei-cdc.{name}"


class CdcAdapter:
    """One connector's adapter: consumer, grouping, mapping, publishing, committing."""

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue,
        mapping: CsvMapping,
        topics: CdcTopics,
        group: str,
    ):
        if mapping.cdc is None:
            raise ValueError("not a cdc mapping")
        self.settings = settings
        self.mapping = mapping
        self.topics = topics
        self.spec = catalogue.get(mapping.topic)
        self.catalogue = catalogue
        builder = CsvEventBuilder(mapping, self.spec, imported_at=dt.datetime.now(dt.UTC))
        self.events = CdcEventBuilder(mapping, builder)
        self.grouper = TransactionGrouper(mapping.cdc.table)
        self.stats = AdapterStats()
        self._unreadable: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        """(origin, problems) of records read that are no Debezium event: sent to the DLQ."""
        self.consumer = AIOKafkaConsumer(
            **kafka_client_options(settings),
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=2000,
        )

    async def run(self, stop: asyncio.Event, on_batch: Callable[[AdapterStats], None]) -> None:
        """Consume until ``stop`` is set."""
        publisher = Publisher(
            self.settings.model_copy(update={"source_system": self.mapping.source_system}),
            self.catalogue,
        )
        try:
            await self.consumer.start()
        except KafkaError as exc:
            await self.consumer.stop()
            raise StackError(
                f"Kafka at {self.settings.kafka_bootstrap} not reachable ({type(exc).__name__})"
            ) from exc
        try:
            self.consumer.subscribe([self.topics.changes, self.topics.transactions])
            async with publisher:
                while not stop.is_set():
                    fetched = await self.consumer.getmany(timeout_ms=500, max_records=1000)
                    self._take(fetched)
                    done = list(self.grouper.ready())
                    if done or self._unreadable:
                        await self._publish(publisher, done)
                        on_batch(self.stats)
                    if done or fetched:
                        await self._commit()
        finally:
            await self.consumer.stop()

    def _take(self, fetched: dict[TopicPartition, list[Any]]) -> None:
        for tp, messages in fetched.items():
            for message in messages:
                if message.value is None:
                    continue  # a tombstone (the connector is configured not to write them)
                try:
                    if tp.topic == self.topics.transactions:
                        self.grouper.add_marker(message.offset, parse_marker(message.value))
                    else:
                        self.grouper.add_change(message.offset, parse_change(message.value))
                except InvalidRecord as exc:
                    self.stats.unreadable += 1
                    origin = f"{tp.topic} [{tp.partition}] @{message.offset}"
                    log.error("%s: %s", origin, exc.reasons)
                    self._unreadable.append((origin, tuple(exc.reasons)))

    async def _publish(self, publisher: Publisher, done: list[PendingTransaction]) -> None:
        topic = self.spec.topic
        futures: list[asyncio.Future[Any]] = []
        for origin, problems in self._unreadable:  # kept, never silently dropped
            futures.append(await publisher.dead_letter(topic, None, problems, origin=origin))
        self._unreadable.clear()
        for transaction in done:
            self.stats.transactions += 1
            for change in transaction.events:
                mapped = self.events.map(change)
                if mapped.outcome == "event":
                    sent = await self._send(publisher, mapped)
                    if not isinstance(sent, MappedChange):
                        futures.append(sent)
                        continue
                    mapped = sent
                if mapped.outcome == "skipped":
                    self.stats.skipped[mapped.why] += 1
                    continue
                self.stats.rejected += 1
                futures.append(
                    await publisher.dead_letter(
                        topic, mapped.value, mapped.problems, origin=change.position
                    )
                )
        for future in futures:
            await future

    async def _send(
        self, publisher: Publisher, mapped: MappedChange
    ) -> asyncio.Future[Any] | MappedChange:
        """Validate and send (the delivery future), or the refusal when the schema refuses."""
        # the connector's initial snapshot (op r, published with snapshot: as_recorded) is a
        # bulk load by nature: it goes to the topic's bulk lane, the live changes do not
        snapshot = mapped.change.op == "r" and self.spec.bulk_lane
        topic = publisher.lane_topic(self.spec.topic, bulk=snapshot)
        try:
            record = await publisher.prepare(topic, mapped.value)
        except InvalidRecord as exc:
            key = {k: v for k, v in (mapped.value or {}).items() if k == self.spec.key_field}
            return MappedChange("rejected", mapped.change, key or None, tuple(exc.reasons))
        record.headers.append((SOURCE_POSITION_HEADER, mapped.change.position.encode()))
        if mapped.change.transaction_id:
            transaction = mapped.change.transaction_id.encode()
            record.headers.append((SOURCE_TRANSACTION_HEADER, transaction))
        self.stats.published += 1
        return await publisher.send(record)

    async def _commit(self) -> None:
        held_change, held_marker = self.grouper.held_from()
        offsets: dict[TopicPartition, int] = {}
        for tp in self.consumer.assignment():
            held = held_marker if tp.topic == self.topics.transactions else held_change
            offsets[tp] = held if held is not None else await self.consumer.position(tp)
        if offsets:
            await self.consumer.commit(offsets)


async def run_adapter(
    settings: Settings,
    catalogue: Catalogue,
    mapping: CsvMapping,
    topics: CdcTopics,
    group: str,
    stop: asyncio.Event,
    on_batch: Callable[[AdapterStats], None],
) -> AdapterStats:
    """Run one adapter until ``stop``; its statistics."""
    adapter = CdcAdapter(settings, catalogue, mapping, topics, group)
    await adapter.run(stop, on_batch)
    return adapter.stats
