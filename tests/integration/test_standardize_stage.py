"""Stage workers as subprocesses against the real broker and registry (`renkei stack up`).

- the stage runtime with a throwaway echo stage (tests/runtime/echo_stage.py): valid records
  reach the output, bad ones (random bytes, unknown schema id, wrong magic byte, a record the
  step rejects, a step bug) land in the DLQ with their original bytes, headers and offsets,
  processing goes on, and a clean stop commits everything;
- the DLQ breaker stops a worker fed only garbage, without committing past the tripping record;
- ``renkei worker standardize`` on every catalogue example plus bad records, read back with
  confluent-kafka's own deserializer (an independent client).

Every test has its own topic prefix: its own topics, subjects and consumer group.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import struct
import uuid
from pathlib import Path

import pytest

from renkei.contracts.dlq import header_map
from renkei.contracts.stages import std_topic
from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from tests.conftest import AppliedSchemas, RunningStages
from tests.contract_lists import DEPARTMENT_TOPICS
from tests.integration.independent_client import read_all
from tests.runtime.echo_stage import PARTITIONS, SINK, SOURCE
from tests.runtime.kafka_helpers import (
    WorkerProcess,
    committed,
    create_echo_topics,
    produce,
    read_until,
)

pytestmark = pytest.mark.kafka
ECHO = "tests.runtime.echo_stage:build_echo"
UNKNOWN_ID = 2_000_000_000


@pytest.mark.timeout(180)
def test_bad_records_go_to_the_dlq_and_processing_goes_on(
    live_stack: Settings, tmp_path: Path
) -> None:
    settings, prefix = live_stack, f"test-{uuid.uuid4().hex[:10]}."
    encoder = asyncio.run(create_echo_topics(settings, prefix))

    def valid(n: int) -> bytes:
        return encoder.encode({"id": f"id-{n}", "n": n})

    bad = {
        "random": b"\x07" + os.urandom(40),
        "unknown-id": struct.pack(">bI", 0, UNKNOWN_ID) + b"\x06abc\x02",
        "magic": b"\x01" + valid(5)[1:],
        "negative": valid(-1),
        "thirteen": valid(13),
    }
    reasons = {
        "random": ("deserialization", "(value): unknown magic byte 7"),
        "unknown-id": ("schema", f"(value): schema id {UNKNOWN_ID} is not in the registry"),
        "magic": ("deserialization", "(value): unknown magic byte 1"),
        "negative": ("standardization", "n: must not be negative"),
        "thirteen": ("processing", "ZeroDivisionError at echo_stage.py:"),
    }
    # partition 0: bad records between valid ones, so "processing goes on" is observable
    sequence: list[tuple[str, bytes]] = []
    for n, (name, value) in enumerate(bad.items()):
        sequence += [(f"valid-{n}", valid(n)), (name, value)]
    sequence.append(("valid-last", valid(100)))
    records = [
        (name.encode(), value, [("ce_id", f"ce-{name}".encode())], 0) for name, value in sequence
    ]
    records += [(f"p{p}".encode(), valid(200 + p), [], p) for p in range(1, PARTITIONS)]
    positions = asyncio.run(produce(settings, prefix + SOURCE.topic, records))
    offset_of = {record[0]: position for record, position in zip(records, positions, strict=True)}
    n_valid = len(records) - len(bad)

    worker = WorkerProcess(ECHO, tmp_path / "worker.log", {"RENKEI_TOPIC_PREFIX": prefix})
    try:
        outputs = asyncio.run(
            read_until(settings, prefix + SINK.topic, lambda r: len(r) >= n_valid, timeout=90)
        )
        dead = asyncio.run(
            read_until(settings, f"{prefix}dlq.{SOURCE.topic}", lambda r: len(r) >= len(bad), 60)
        )
    finally:
        code = worker.stop()
    log = worker.output()
    assert code == 0, log

    assert sorted(r.key for r in outputs) == sorted(k for k, *_ in records if k.decode() not in bad)
    last = next(r for r in outputs if r.key == b"valid-last")
    assert header_map(last.headers)["ce_id"] == "ce-valid-last"

    assert len(dead) == len(bad)
    for record in dead:
        name = record.key.decode()
        headers = header_map(record.headers)
        assert record.value == bad[name], name  # the original bytes, unchanged
        assert record.partition == 0
        assert headers["ce_id"] == f"ce-{name}"
        reason, detail = reasons[name]
        assert headers["renkei.dlq.reason"] == reason
        assert headers["renkei.dlq.detail"].startswith(detail)
        assert headers["renkei.dlq.stage"] == "echo"
        assert headers["renkei.dlq.topic"] == prefix + SOURCE.topic
        assert (int(headers["renkei.dlq.partition"]), int(headers["renkei.dlq.offset"])) == (
            offset_of[record.key]
        )
        assert headers["renkei.dlq.time"].endswith("+00:00")

    offsets = asyncio.run(committed(settings, f"{prefix}renkei-echo"))
    assert offsets[(prefix + SOURCE.topic, 0)] == len(sequence)  # a clean stop commits it all


@pytest.mark.timeout(120)
def test_the_dlq_breaker_stops_a_worker_fed_only_garbage(
    live_stack: Settings, tmp_path: Path
) -> None:
    settings, prefix = live_stack, f"test-{uuid.uuid4().hex[:10]}."
    asyncio.run(create_echo_topics(settings, prefix))
    garbage = [(f"g{i}".encode(), b"\x05not avro", [], 0) for i in range(60)]
    asyncio.run(produce(settings, prefix + SOURCE.topic, garbage))
    env = {
        "RENKEI_TOPIC_PREFIX": prefix,
        "RENKEI_DLQ_BREAKER_WINDOW_RECORDS": "20",
        "RENKEI_DLQ_BREAKER_MIN_RECORDS": "20",
    }
    worker = WorkerProcess(ECHO, tmp_path / "worker.log", env)
    code = worker.wait_exit(timeout=90)
    log = worker.output()
    assert code == 1, log
    assert "DLQ breaker tripped" in log
    dead = asyncio.run(
        read_until(settings, f"{prefix}dlq.{SOURCE.topic}", lambda r: len(r) >= 19, 30)
    )
    assert len(dead) == 19  # the 20th record tripped the breaker and was not routed
    offsets = asyncio.run(committed(settings, f"{prefix}renkei-echo"))
    assert offsets.get((prefix + SOURCE.topic, 0), 0) <= 19  # nor committed: redelivered on restart


async def _publish_examples(
    settings: Settings, isolated: Catalogue, prefix: str, catalogue: Catalogue
) -> dict[str, int]:
    counts = {}
    async with Publisher(settings, isolated) as publisher:
        for topic in DEPARTMENT_TOPICS:
            examples = list(catalogue.get(topic).examples.values())
            for example in examples:
                await publisher.publish(prefix + topic, example)
            counts[topic] = len(examples)
        born = copy.deepcopy(catalogue.get("registry.resident.events").examples["born"])
        born["detail"]["person"]["birth_date"] = "大正16年1月1日"  # 大正 ended in its 15th year
        await publisher.publish(prefix + "registry.resident.events", born)
    return counts


@pytest.mark.timeout(240)
def test_standardize_worker_end_to_end(
    live_stack: Settings,
    catalogue: Catalogue,
    applied_schemas: AppliedSchemas,
    running_stages: RunningStages,
) -> None:
    settings, prefix = live_stack, applied_schemas.prefix
    isolated = applied_schemas.prefixed_catalogue()
    counts = asyncio.run(_publish_examples(settings, isolated, prefix, catalogue))
    bad = [
        (
            prefix + "registry.resident.events",
            b"random",
            b"\x07" + os.urandom(29),
        ),  # never 0x00 first: that would be a (random) schema id
        (
            prefix + "health.checkup.results",
            b"unknown-id",
            struct.pack(">bI", 0, UNKNOWN_ID) + b"\x00",
        ),
        (prefix + "welfare.care.certifications", b"magic", b"\x01\x00\x00\x00\x01\x02"),
    ]
    for topic, key, value in bad:
        asyncio.run(produce(settings, topic, [(key, value, [("ce_id", b"bad")], None)]))

    worker = running_stages("standardize", env=applied_schemas.env)["standardize"]
    try:
        outputs = {
            topic: read_all(settings, prefix + std_topic(topic), count, timeout=120)
            for topic, count in counts.items()
        }
        dead = {
            topic: asyncio.run(
                read_until(settings, f"{prefix}dlq.{topic}", lambda r, n=n: len(r) >= n, 60)
            )
            for topic, n in (
                ("registry.resident.events", 2),
                ("health.checkup.results", 1),
                ("welfare.care.certifications", 1),
            )
        }
    finally:
        code = worker.stop()
    assert code == 0, worker.output()

    for topic, values in outputs.items():
        assert len(values) == counts[topic], topic
        for value in values:
            meta = value["value"]["std_meta"]
            assert meta["source_topic"] == prefix + topic
            assert meta["source_offset"] >= 0
            assert value["headers"]["ce_type"] == catalogue.get(topic).cloudevents_type
            assert "/schemas/ids/" in value["headers"]["ce_dataschema"]
    born = next(
        v["value"]
        for v in outputs["registry.resident.events"]
        if v["value"]["event_type"] == "born"
    )
    assert born["detail"]["person"]["family_name_kana"] == "サトウ"

    reasons = {
        topic: sorted(header_map(r.headers)["renkei.dlq.reason"] for r in records)
        for topic, records in dead.items()
    }
    assert reasons == {
        "registry.resident.events": ["deserialization", "standardization"],
        "health.checkup.results": ["schema"],
        "welfare.care.certifications": ["deserialization"],
    }
    standardization = next(
        header_map(r.headers)
        for r in dead["registry.resident.events"]
        if header_map(r.headers)["renkei.dlq.reason"] == "standardization"
    )
    assert standardization["renkei.dlq.detail"].startswith("detail.person.birth_date")
    assert "大正16" not in json.dumps(standardization, ensure_ascii=False)
    for topic, key, value in bad:
        [record] = [r for r in dead[topic.removeprefix(prefix)] if r.key == key]
        assert record.value == value
