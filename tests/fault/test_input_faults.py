"""Scenarios d, e and f: what the input streams themselves can do wrong.

d. duplicates and out-of-order input: the load shuffled (effective dates out of order within
   and across topics), then replayed from the start in another order → the linked outputs
   equal the clean run's latest value per key;
e. poison pills mid-stream (random bytes, an unknown schema id, a truncated body, an
   unstandardizable date) → each in its DLQ with its reason, every good record standardized;
f. producers on v1 and v2 of a schema at once (v2 adds an optional field with a default,
   registered under this run's subject, which must accept it as FULL_TRANSITIVE) → both
   standardized, nothing in the DLQ.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
from pathlib import Path
from typing import Any

import fastavro
import pytest

from renkei.publish.producer import PreparedRecord
from renkei.schemas.catalogue import Catalogue
from renkei.serde.registry import RegistryClient
from renkei.serde.wire import frame, unframe
from renkei.settings import Settings
from tests.fault import harness as h
from tests.fault import pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.fault, pytest.mark.timeout(900)]
REG = "registry.resident.events"


def test_d_duplicates_and_out_of_order_input(
    live_stack: Settings, catalogue: Catalogue, clean_outcome: pipeline.Outcome, tmp_path: Path
) -> None:
    settings, prefix = live_stack, h.new_prefix("d")
    first = asyncio.run(pipeline.load(settings, catalogue, prefix, order_seed=1))
    replay = h.shuffled(first, 2)
    workers = h.Workers(prefix, tmp_path)
    for stage in pipeline.STAGES:
        workers.start(stage)
    try:
        result = asyncio.run(h.publish(settings, first))
        schemas = h.SchemaCache(settings.schema_registry_url)
        pipeline.settle(settings, prefix, schemas, result)
        linked_before = sum(
            asyncio.run(h.end_offsets(settings, pipeline.linked_topics(prefix))).values()
        )
        asyncio.run(h.publish(settings, replay, result=result))
        outcome = pipeline.settle(settings, prefix, schemas, result)
        linked_after = sum(
            asyncio.run(h.end_offsets(settings, pipeline.linked_topics(prefix))).values()
        )
    finally:
        failures = workers.stop_all()
    # std.* follows input order (stateless): only the linked outputs must be order-independent
    problems = pipeline.compare(clean_outcome, outcome, std=False)
    tally = h.account(
        "d duplicates+out-of-order",
        result,
        outcome.records,
        schemas,
        note=f"{len(first)} records shuffled, then all replayed in another order; the replay "
        f"added {linked_after - linked_before} linked records",
        differing=len(problems),
    )
    tally.report()
    assert not failures, failures
    assert tally.lost == 0 and result.failed == 0
    assert problems == [], problems[:10]
    h.cleanup(settings, prefix)


def _reencode(
    record: PreparedRecord, schemas: h.SchemaCache, change: Any, schema_id: int | None = None
) -> PreparedRecord:
    """``record`` with its datum changed by ``change(datum)`` (same or another schema id)."""
    old_id, body = unframe(record.value)
    writer = schemas.parsed(old_id)
    datum = fastavro.schemaless_reader(io.BytesIO(body), writer, None, return_record_name=True)
    change(datum)
    new_id = schema_id or old_id
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schemas.parsed(new_id), datum)
    return PreparedRecord(record.topic, record.key, frame(new_id, out.getvalue()), record.headers)


def _poison(record: PreparedRecord, kind: str, schemas: h.SchemaCache) -> PreparedRecord:
    if kind == "deserialization":
        value = b"\x07not avro at all"
    elif kind == "schema":
        value = frame(1_999_999_999, b"\x02x")
    elif kind == "truncated":
        value = record.value[:8]
    else:  # standardization: a birth date no calendar has

        def bad_date(datum: dict[str, Any]) -> None:
            datum["detail"][1]["person"]["birth_date"] = "平成99年13月40日"

        return _reencode(record, schemas, bad_date)
    return PreparedRecord(record.topic, record.key, value, record.headers)


def test_e_poison_pills_mid_stream(
    live_stack: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    settings, prefix = live_stack, h.new_prefix("e")
    asyncio.run(h.prepare_topics(settings, catalogue, prefix))
    records = asyncio.run(h.encode_load(settings, catalogue, prefix, h.simulated(800, 400, 9)))
    schemas = h.SchemaCache(settings.schema_registry_url)
    kinds = ["deserialization", "schema", "truncated", "standardization"]
    rng = random.Random(4)
    registry_events = [i for i, r in enumerate(records) if r.topic == prefix + REG]
    moved_in = [i for i in registry_events if b"moved_in" in _event_type(records[i], schemas)]
    poisoned = sorted(rng.sample(moved_in, 40))  # ~4 % of the stream, spread through it
    for n, index in enumerate(poisoned):
        records[index] = _poison(records[index], kinds[n % len(kinds)], schemas)
    workers = h.Workers(prefix, tmp_path)
    workers.start("standardize")
    try:
        result = asyncio.run(h.publish(settings, records, rate=len(records) / 30))
        out = asyncio.run(h.wait_arrived(settings, prefix, schemas, result.acked, timeout=240))
    finally:
        failures = workers.stop_all()
    dlq = [r for r in out if r.topic.startswith(prefix + "dlq.")]
    reasons = sorted(dict(r.headers)["renkei.dlq.reason"].decode() for r in dlq)
    tally = h.account(
        "e poison pills",
        result,
        out,
        schemas,
        note=f"{len(poisoned)} pills -> {len(dlq)} DLQ records {_counts(reasons)}",
    )
    tally.report()
    assert not failures, failures
    assert tally.lost == 0 and result.failed == 0
    assert len({(r.topic, r.partition, r.offset) for r in dlq}) == len(poisoned)
    assert set(reasons) == {"deserialization", "schema", "standardization"}
    h.cleanup(settings, prefix)


def _event_type(record: PreparedRecord, schemas: h.SchemaCache) -> bytes:
    return str(schemas.decode(record.value).get("event_type")).encode()


def _counts(items: list[str]) -> str:
    return json.dumps({k: items.count(k) for k in sorted(set(items))})


def test_f_v1_and_v2_producers_at_once(
    live_stack: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    settings, prefix = live_stack, h.new_prefix("f")
    asyncio.run(h.prepare_topics(settings, catalogue, prefix))
    v2_id = asyncio.run(_register_v2(settings, catalogue, prefix))
    records = asyncio.run(h.encode_load(settings, catalogue, prefix, h.simulated(800, 400, 13)))
    schemas = h.SchemaCache(settings.schema_registry_url)

    def note(datum: dict[str, Any]) -> None:
        datum["source_note"] = "v2 producer"

    mixed = [
        _reencode(r, schemas, note, v2_id) if r.topic == prefix + REG and i % 2 else r
        for i, r in enumerate(records)
    ]
    v2_count = sum(1 for a, b in zip(records, mixed, strict=True) if a is not b)
    workers = h.Workers(prefix, tmp_path)
    workers.start("standardize")
    try:
        result = asyncio.run(h.publish(settings, mixed, rate=len(mixed) / 30))
        out = asyncio.run(h.wait_arrived(settings, prefix, schemas, result.acked, timeout=240))
    finally:
        failures = workers.stop_all()
    dlq = [r for r in out if r.topic.startswith(prefix + "dlq.")]
    tally = h.account(
        "f schema v1+v2",
        result,
        out,
        schemas,
        note=f"{v2_count} records on v2 (schema id {v2_id}), {len(dlq)} in the DLQ",
    )
    tally.report()
    assert not failures, failures
    assert tally.lost == 0 and result.failed == 0 and dlq == []
    h.cleanup(settings, prefix)


async def _register_v2(settings: Settings, catalogue: Catalogue, prefix: str) -> int:
    """v2 of the registry events schema (an optional ``source_note``, default null) under
    this run's subject, set to FULL_TRANSITIVE first; the registry must accept it."""
    spec = catalogue.get(REG)
    v2 = json.loads(json.dumps(spec.schema))
    v2["fields"].append(
        {
            "name": "source_note",
            "type": ["null", "string"],
            "default": None,
            "doc": "fault suite: an optional field added in v2",
        }
    )
    text = json.dumps(v2, ensure_ascii=False)
    subject = f"{prefix}{REG}-value"
    async with RegistryClient(settings.schema_registry_url) as client:
        await client.set_compatibility(subject, "FULL_TRANSITIVE")
        compatible, messages = await client.is_compatible(subject, text)
        assert compatible, messages
        return await client.register(subject, text)
