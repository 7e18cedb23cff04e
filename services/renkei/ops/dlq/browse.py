"""Reading DLQ topics for ``renkei dlq list`` (counts) and ``renkei dlq show`` (records)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from renkei.errors import RegistryError, SerializationError
from renkei.ops.dlq.entries import DlqEntry, DlqTopic, is_dlq_topic, mask_my_numbers
from renkei.ops.dlq.kafka import DlqReader
from renkei.ops.dlq.replay import check_topics
from renkei.ops.dlq.summary import SummaryRow, summarize
from renkei.schemas.jsonform import to_json
from renkei.serde.avro import AvroDecoder
from renkei.serde.registry import registry_client
from renkei.settings import Settings


async def list_dlqs(
    settings: Settings, only: DlqTopic | None = None
) -> tuple[list[SummaryRow], list[str]]:
    """(rows of every DLQ topic with records, names of DLQ topics without any); ``only``
    restricts it to one topic (UnknownDlqTopic when it does not exist)."""
    rows: list[SummaryRow] = []
    empty: list[str] = []
    async with DlqReader(settings) as reader:
        if only is not None:
            if only.dlq not in await reader.topics():
                await check_topics(reader, only)
            topics = [only.dlq]
        else:
            topics = sorted(
                t for t in await reader.topics() if is_dlq_topic(t, settings.topic_prefix)
            )
        by_topic: dict[str, list[DlqEntry]] = {topic: [] for topic in topics}
        async with aclosing(reader.scan_topics(topics)) as batches:
            async for batch in batches:
                for entry in batch:
                    by_topic[entry.topic].append(entry)
        for topic, entries in by_topic.items():
            found = summarize(topic, entries, await reader.memory(topic))
            rows.extend(found)
            if not found:
                empty.append(topic)
    return rows, empty


@dataclass(frozen=True)
class ShowOptions:
    """Which records ``show`` prints: from ``offset`` of each partition (or of ``partition``
    only), of one ``reason`` class, at most ``limit``."""

    limit: int = 20
    offset: int = 0
    partition: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Shown:
    """A DLQ record for display: its value decoded (None when it does not decode, with
    ``undecodable`` saying why), 個人番号-like values masked in key, headers and value."""

    entry: DlqEntry
    key: str | None
    headers: dict[str, str]
    value: Any
    undecodable: str | None
    replayed: bool


async def show_entries(
    settings: Settings, topic: DlqTopic, options: ShowOptions
) -> AsyncIterator[Shown]:
    """The records ``options`` choose, in partition order then offset order per batch."""
    async with DlqReader(settings) as reader, registry_client(settings) as reg:
        await check_topics(reader, topic)
        memory = await reader.memory(topic.dlq)
        partitions = None if options.partition is None else [options.partition]
        if partitions is not None and options.partition not in await reader.partitions(topic.dlq):
            return
        decoder = AvroDecoder(reg)
        shown = 0
        scan = reader.scan(topic.dlq, lambda p: options.offset, partitions)
        async with aclosing(scan) as batches:
            async for batch in batches:
                for entry in sorted(batch, key=lambda e: (e.partition, e.offset)):
                    if options.reason is not None and entry.reason != options.reason:
                        continue
                    yield await _shown(entry, decoder, memory.replayed(entry))
                    shown += 1
                    if shown >= options.limit:
                        return


async def _shown(entry: DlqEntry, decoder: AvroDecoder, replayed: bool) -> Shown:
    value: Any = None
    undecodable = None
    try:
        value = mask_my_numbers(to_json(await decoder.decode(entry.value)))
    except (SerializationError, RegistryError) as exc:
        value = _json_value(entry.value)
        undecodable = None if value is not None else str(exc)
    key = None if entry.key is None else mask_my_numbers(entry.key.decode("utf-8", "replace"))
    headers = {
        name: mask_my_numbers((raw or b"").decode("utf-8", "replace"))
        for name, raw in entry.headers
    }
    return Shown(entry, key, headers, value, undecodable, replayed)


def _json_value(raw: bytes | None) -> Any:
    """A JSON object value (what the publisher's rejected input lines hold), masked; None when
    the bytes are not one."""
    if not raw or raw[:1] not in (b"{", b"["):
        return None
    try:
        return mask_my_numbers(json.loads(raw))
    except ValueError:
        return None
