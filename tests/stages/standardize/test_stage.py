"""The standardize stage without a broker: its step, its App's shape, and every catalogue
example run through the real StageProcessor (decode → standardize_event → encode)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import fastavro

from renkei.contracts.dlq import header_map
from renkei.contracts.names import TopicNames
from renkei.contracts.stages import std_topic
from renkei.runtime.codec import OutputEncoders, SourceDecoder
from renkei.runtime.dlq import DeadLetterRouter, DlqBreaker
from renkei.runtime.records import SourceRecord
from renkei.runtime.stage import Stage, StageProcessor
from renkei.schemas.catalogue import Catalogue
from renkei.schemas.jsonform import to_datum
from renkei.schemas.models import RecordValidator
from renkei.settings import Settings
from renkei.stages.standardize import records
from renkei.stages.standardize.stage import build_standardize, standardize_step
from tests.contract_lists import DEPARTMENT_TOPICS
from tests.runtime.fake_registry import URL, FakeRegistry, encode
from tests.runtime.test_dlq import FakeSend

NOW = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
BULK_LANES = ("registry.resident.events", "health.checkup.results", "welfare.care.certifications")


@dataclass(frozen=True)
class FakeResult:
    value: dict[str, Any]
    corrected_fields: tuple[str, ...]


def test_step_adds_the_source_position_to_std_meta() -> None:
    def fake(topic: str, value: Any) -> FakeResult:
        return FakeResult({"x": value["x"].upper(), "std_meta": {"source_topic": topic}}, ("x",))

    record = SourceRecord("p.health.checkup.results", "health.checkup.results", 3, 99, b"k", b"")
    [output] = standardize_step(fake, clock=lambda: NOW)(record, {"x": "a"})
    assert output.topic == "std.health.checkup.results"
    assert output.key == b"k"
    assert output.headers == []  # only the source's CloudEvents headers (it had none)
    assert output.value == {
        "x": "A",
        "std_meta": {
            "source_topic": "p.health.checkup.results",
            "source_partition": 3,
            "source_offset": 99,
            "corrected_fields": ["x"],
            "standardized_at": NOW,
        },
    }


def test_build_standardize_mounts_one_agent_per_department_topic(
    catalogue: Catalogue, tmp_path: Any
) -> None:
    settings = Settings(home=tmp_path)
    app = build_standardize(settings, web_port=6199, topic_prefix="p.")
    assert app.conf.id == "p.renkei-standardize"
    assert app.conf.web_port == 6199
    assert app.conf.topic_partitions == 6
    # each department topic and the bulk lanes (<topic>.bulk) of those that have one
    consumed = {*DEPARTMENT_TOPICS, *(f"{t}.bulk" for t in BULK_LANES)}
    assert sorted(app.agents) == sorted(f"standardize.{t}" for t in consumed)
    topics = {t for agent in app.agents.values() for t in agent.channel.topics}
    assert topics == {f"p.{t}" for t in consumed}


def test_a_bulk_lane_record_is_standardized_as_its_topic_into_the_std_bulk_lane() -> None:
    seen = []

    def fake(topic: str, value: Any) -> FakeResult:
        seen.append(topic)
        return FakeResult({"std_meta": {}}, ())

    record = SourceRecord(
        "p.health.checkup.results.bulk", "health.checkup.results.bulk", 0, 7, b"k", b""
    )
    [output] = standardize_step(fake, clock=lambda: NOW)(record, {})
    assert seen == ["health.checkup.results"]
    assert output.topic == "std.health.checkup.results.bulk"
    assert output.value["std_meta"]["source_topic"] == "p.health.checkup.results.bulk"


def _datum_bytes(schema: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    """What a department producer sends, decoded back as the stage sees it."""
    record = RecordValidator(schema).validate(example)
    buffer = io.BytesIO()
    parsed = fastavro.parse_schema(schema)
    fastavro.schemaless_writer(buffer, parsed, to_datum(schema, record))
    datum: dict[str, Any] = fastavro.schemaless_reader(io.BytesIO(buffer.getvalue()), parsed, None)
    return datum


async def test_every_catalogue_example_standardizes_and_encodes(catalogue: Catalogue) -> None:
    registry = FakeRegistry()
    client = registry.client()
    names = TopicNames()
    stage = Stage(
        "standardize",
        inputs=tuple(catalogue.get(t) for t in DEPARTMENT_TOPICS),
        outputs=tuple(catalogue.get(std_topic(t)) for t in DEPARTMENT_TOPICS),
        step=standardize_step(records.standardize_event),
    )
    ids = {
        spec.topic: registry.add(spec.subject, spec.schema) for spec in stage.inputs + stage.outputs
    }
    encoders = OutputEncoders(client, stage.outputs, names)
    send = FakeSend()
    processor = StageProcessor(
        stage,
        decoders={s.topic: SourceDecoder(client, s) for s in stage.inputs},
        encoders=encoders,
        names=names,
        send=send,
        router=DeadLetterRouter(
            stage="standardize", send=send, breaker=DlqBreaker(), dlq_topic=names.dlq
        ),
        registry_url=URL,
    )
    await encoders.prepare()
    processor.on_prepared()
    expected = 0
    for spec in stage.inputs:
        for offset, example in enumerate(spec.examples.values()):
            datum = _datum_bytes(spec.schema, example)
            value = encode(spec.schema, ids[spec.topic], datum)
            record = SourceRecord(
                spec.topic, spec.topic, 1, offset, b"key", value, (("ce_id", b"x"),)
            )
            await processor.process(record)
            expected += 1
    dlq = [header_map(h) for topic, _, _, _, h in send.sent if topic.startswith("dlq.")]
    assert dlq == []
    assert len(send.sent) == expected
    for topic, _, value, _, headers in send.sent:
        std = catalogue.get(topic)
        decoded = fastavro.schemaless_reader(io.BytesIO(value[5:]), std.parsed_schema, None)
        assert decoded["std_meta"]["source_partition"] == 1
        assert decoded["std_meta"]["source_topic"] == topic.removeprefix("std.")
        assert dict(headers)["ce_dataschema"].endswith(f"/schemas/ids/{ids[topic]}".encode())
