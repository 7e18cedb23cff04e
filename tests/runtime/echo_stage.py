"""A throwaway stage for runtime tests: tiny schemas, a trivial step, no catalogue files.

``echo.source`` {id: string, n: int} → ``echo.sink`` {id, doubled: long}. The step rejects
a negative ``n`` (an InvalidRecord of reason class ``standardization``) and fails on ``n == 13``
(a step bug → DLQ reason ``processing``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from renkei.contracts.stages import StageSpec
from renkei.errors import InvalidRecord
from renkei.runtime.app import StageApp
from renkei.runtime.builder import StageBuilder
from renkei.runtime.records import Output, SourceRecord
from renkei.runtime.stage import Stage
from renkei.schemas.catalogue import TopicSpec
from renkei.settings import Settings

SOURCE_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "EchoSource",
    "namespace": "jp.renkei.test",
    "fields": [{"name": "id", "type": "string"}, {"name": "n", "type": "int"}],
}
SINK_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "EchoSink",
    "namespace": "jp.renkei.test",
    "fields": [{"name": "id", "type": "string"}, {"name": "doubled", "type": "long"}],
}
PARTITIONS = 3


def spec(topic: str, schema: dict[str, Any]) -> TopicSpec:
    metadata = {
        "topic": topic,
        "key": "id",
        "partitions": PARTITIONS,
        "cleanup_policy": "delete",
        "retention_ms": 3_600_000,
        "compatibility": "BACKWARD",
        "network_zone": "test",
        "pii": {},
    }
    return TopicSpec(topic=topic, folder=Path("."), schema=schema, metadata=metadata)


SOURCE = spec("echo.source", SOURCE_SCHEMA)
SINK = spec("echo.sink", SINK_SCHEMA)


ECHO = StageSpec(
    name="echo",
    title="echo (tests)",
    builder="tests.runtime.echo_stage:build_echo",
    web_port_offset=33,
    inputs=(SOURCE.topic,),
    outputs=(SINK.topic,),
    store="memory://",
)


class NegativeN(InvalidRecord):
    dlq_reason = "standardization"


def echo_step(record: SourceRecord, value: dict[str, Any]) -> list[Output]:
    if value["n"] < 0:
        raise NegativeN([("n", "must not be negative")])
    if value["n"] == 13:
        raise ZeroDivisionError("unlucky " + value["id"])  # the message quotes the record
    return [Output("echo.sink", record.key, {"id": value["id"], "doubled": 2 * value["n"]})]


def echo_stage() -> Stage:
    return Stage(name="echo", inputs=(SOURCE,), outputs=(SINK,), step=echo_step)


def build_echo(settings: Settings, *, web_port: int | None = None) -> StageApp:
    """The echo stage's App (``renkei worker tests.runtime.echo_stage:build_echo``)."""
    builder = StageBuilder.create(
        settings, ECHO, inputs=(SOURCE,), outputs=(SINK,), web_port=web_port or 6099
    )
    builder.on(SOURCE.topic, echo_step)
    return builder.build()


def build_echo_with_table(settings: Settings, *, web_port: int | None = None) -> StageApp:
    """The echo App plus a table, so faust must declare a changelog topic at startup."""
    app = build_echo(settings, web_port=web_port)
    app.Table("seen", default=int, partitions=PARTITIONS)
    return app
