"""A stateful throwaway stage for the commit-interval tests: a running total per key.

``echo.source`` {id, n} → table ``totals`` (id → total and the offset last applied) →
``echo.sink`` {id, doubled = the running total}, declared state-valued (coalesced per batch).
A record at or below the offset a key last applied is a redelivery: it changes nothing and
re-sends the key's current total (idempotent by offset, as the stages are by revision).

``build_tally_crashing`` is the same stage, 50 ms per record, with a crash (``os._exit``) in
the first flush after faust committed an earlier batch (it commits every 2.8 s), at the point
``TALLY_CRASH_AT`` names: ``outputs`` (outputs delivered, tables not written), ``tables``
(outputs and table changes delivered, nothing acked).
"""

from __future__ import annotations

import os
import time
from typing import Any

from renkei.contracts.stages import StageSpec
from renkei.runtime.app import StageApp
from renkei.runtime.builder import StageBuilder
from renkei.runtime.records import Output, SourceRecord
from renkei.settings import Settings
from tests.runtime.echo_stage import PARTITIONS, SINK, SOURCE

TALLY = StageSpec(
    name="tally",
    title="tally (tests)",
    builder="tests.runtime.tally_stage:build_tally",
    web_port_offset=34,
    inputs=(SOURCE.topic,),
    outputs=(SINK.topic,),
    state_outputs=(SINK.topic,),
    tables={"totals": PARTITIONS},
)


def _builder(settings: Settings, web_port: int | None, slow_s: float = 0.0) -> StageBuilder:
    builder = StageBuilder.create(
        settings, TALLY, inputs=(SOURCE,), outputs=(SINK,), web_port=web_port or 6098
    )
    totals = builder.table("totals")

    def step(record: SourceRecord, value: dict[str, Any]) -> list[Output]:
        time.sleep(slow_s)
        key = value["id"]
        stored = totals.get(key) or {"total": 0, "offset": -1}
        if record.offset > stored["offset"]:
            stored = {"total": stored["total"] + value["n"], "offset": record.offset}
            totals[key] = stored
        return [Output(SINK.topic, record.key, {"id": key, "doubled": stored["total"]})]

    builder.on(SOURCE.topic, step)
    return builder


def build_tally(settings: Settings, *, web_port: int | None = None) -> StageApp:
    """``renkei worker tests.runtime.tally_stage:build_tally``."""
    return _builder(settings, web_port).build()


def build_tally_crashing(settings: Settings, *, web_port: int | None = None) -> StageApp:
    """The tally stage, killed in a flush (see the module docstring)."""
    builder = _builder(settings, web_port, slow_s=0.05)
    app = builder.build()
    batch = builder.batch
    where = os.environ["TALLY_CRASH_AT"]
    crashing = [False]
    write_tables, ack = batch._write_tables, batch._ack

    def crash(point: str) -> None:
        if where == point and crashing[0]:
            print(f"tally: crashing after {point} in a flush", flush=True)
            os._exit(3)

    def writing_tables() -> list[Any]:
        committed = app.consumer._committed_offset.values()
        crashing[0] = any(offset is not None for offset in committed)
        crash("outputs")
        return write_tables()

    def acking(event: Any) -> None:
        crash("tables")
        ack(event)

    batch._write_tables = writing_tables  # type: ignore[method-assign]
    batch._ack = acking
    return app
