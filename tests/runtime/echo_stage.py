"""A throwaway stage for runtime tests: tiny schemas, a trivial step, no catalogue files.

``echo.source`` {id: string, n: int} → ``echo.sink`` {id, doubled: long}. The step rejects
a negative ``n`` (InvalidRecord → DLQ reason ``standardization``) and fails on ``n == 13``
(a step bug → DLQ reason ``processing``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from renkei.errors import InvalidRecord
from renkei.runtime.app import StageApp
from renkei.runtime.builder import build_stage_app
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


def echo_step(record: SourceRecord, value: dict[str, Any]) -> list[Output]:
    if value["n"] < 0:
        raise InvalidRecord([("n", "must not be negative")])
    if value["n"] == 13:
        raise ZeroDivisionError("unlucky " + value["id"])  # the message quotes the record
    return [Output("echo.sink", record.key, {"id": value["id"], "doubled": 2 * value["n"]})]


def echo_stage() -> Stage:
    return Stage(
        name="echo",
        inputs=(SOURCE,),
        outputs=(SINK,),
        step=echo_step,
        invalid_reason="standardization",
    )


def build_echo(settings: Settings, *, web_port: int | None = None) -> StageApp:
    """The echo stage's App (``renkei worker tests.runtime.echo_stage:build_echo``)."""
    return build_stage_app(settings, echo_stage(), web_port=web_port or 6099, store="memory://")


def build_echo_with_table(settings: Settings, *, web_port: int | None = None) -> StageApp:
    """The echo App plus a table, so faust must declare a changelog topic at startup."""
    app = build_echo(settings, web_port=web_port)
    app.Table("seen", default=int, partitions=PARTITIONS)
    return app
