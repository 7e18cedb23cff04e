"""Lanes on the real broker and registry (docs/design/streaming-core.md, "Lanes"): the resident
worker drains a large backlog on its bulk lane ``std.registry.resident.events.bulk``; live
events published on ``std.registry.resident.events`` while it drains reach
``unified.resident`` before the backlog is done, the worker reports the time its bulk lane was
paused for them, and a live move-out published while the same resident's bulk snapshot record
is still queued ends in the moved-out state (event time, not arrival, decides)."""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

import pytest

from renkei.bench.baselines import fill
from renkei.schemas.jsonform import to_datum
from renkei.serde.avro import AvroEncoder
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from tests.conftest import AppliedSchemas, RunningStages
from tests.integration.independent_client import read_all
from tests.runtime.kafka_helpers import free_port_block, produce, read_until
from tests.stages import factories as f

# A known failure (below), so not in CI's fast subset: `make test-long` runs it.
pytestmark = [pytest.mark.kafka, pytest.mark.long]
LIVE_TOPIC = "std.registry.resident.events"
BULK_TOPIC = "std.registry.resident.events.bulk"
OUT = "unified.resident"
BACKLOG = 6000
BULK_KEYS = [f"{n:015d}" for n in range(100_001, 100_001 + BACKLOG)]
LIVE_KEYS = [f"{n:015d}" for n in range(900_001, 900_021)]
LEAVER = "000000000999999"
"""Snapshot record (moved in 2026-04-01) last in the bulk backlog; moved out live on 07-01."""


async def _encoded(
    settings: Settings, prefix: str, topic: str, records: list[tuple[str, dict[str, Any]]]
) -> list[tuple[bytes, bytes]]:
    client = RegistryClient(settings.schema_registry_url)
    try:
        schema = f.spec(LIVE_TOPIC).schema  # a bulk twin has its topic's schema
        encoder = AvroEncoder(client, f"{prefix}{topic}-value", schema)
        await encoder.prepare()
        return [(key.encode(), encoder.encode(to_datum(schema, datum))) for key, datum in records]
    finally:
        await client.aclose()


def _moved_in(key: str, n: int) -> dict[str, Any]:
    """A resident with a household and an address of its own (one address group each: the
    stage answers a resident after its address group, and one crowded address would make
    the test measure that group's growth)."""
    where = f.address(rest=f"{n // 100 + 1}番{n % 100 + 1}号")
    return f.moved_in(key, "2026-04-01", 1, where=where, hh=f.household(f"{n:010d}"))


def _metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    ]
    assert values, f"{name} not on /metrics"
    return sum(values)


@pytest.mark.xfail(
    strict=True,
    reason="failed on 2026-12-08 (load 17 on 2 cores): every one of 6,000 bulk residents was "
    "out before the last of the 20 live ones, although a 3,000-record run of the same worker "
    "showed the live ones out with 2,612 bulk records still queued; open (see the lanes "
    "report): a live change's household round trip can queue behind up to one batch of "
    "bulk messages per internal partition",
)
@pytest.mark.timeout(600)
def test_live_events_overtake_a_bulk_backlog(
    applied_schemas: AppliedSchemas, running_stages: RunningStages
) -> None:
    settings, prefix = applied_schemas.settings, applied_schemas.prefix
    backlog = [(key, _moved_in(key, n)) for n, key in enumerate(BULK_KEYS)]
    backlog.append((LEAVER, _moved_in(LEAVER, 30_000)))
    bulk = asyncio.run(_encoded(settings, prefix, BULK_TOPIC, backlog))
    asyncio.run(fill(settings, prefix + BULK_TOPIC, bulk))

    port = free_port_block(1)
    running_stages("resident", env=applied_schemas.env, run="lanes", web_port_base=port)
    # the worker is draining the backlog: its first outputs are out
    asyncio.run(read_until(settings, prefix + OUT, lambda found: len(found) >= 50, timeout=180))

    live = [(key, _moved_in(key, 20_000 + n)) for n, key in enumerate(LIVE_KEYS)]
    live.append((LEAVER, f.moved_out(LEAVER, "2026-07-01", 2)))
    encoded = asyncio.run(_encoded(settings, prefix, LIVE_TOPIC, live))
    asyncio.run(produce(settings, prefix + LIVE_TOPIC, [(k, v, [], None) for k, v in encoded]))

    wanted = {*BULK_KEYS, *LIVE_KEYS, LEAVER}

    def complete(found: list[Any]) -> bool:
        return wanted <= {r.key.decode() for r in found}

    found = asyncio.run(read_until(settings, prefix + OUT, complete, timeout=400))
    assert complete(found), f"{len(found)} unified.resident records, not every resident"

    first_output = {}
    for record in found:
        first_output.setdefault(record.key.decode(), (record.timestamp, record.offset))
    live_done = max(first_output[key][0] for key in LIVE_KEYS)
    later_bulk = [key for key in BULK_KEYS if first_output[key][0] > live_done]
    # every live resident was out while part of the backlog still waited on the bulk lane
    assert len(later_bulk) > BACKLOG // 10, (
        f"only {len(later_bulk)} of {BACKLOG} bulk residents came out after the live ones"
    )
    assert _metric(port, "renkei_bulk_paused_seconds_total") > 0
    assert _metric(port, 'renkei_lane_lag{lane="bulk"') >= 0

    # the move-out (live, effective 07-01) came before the snapshot's move-in (04-01): the
    # resident ends moved out whatever the arrival order
    leaver = [
        r["value"] for r in read_all(settings, prefix + OUT, len(found)) if r["key"] == LEAVER
    ]
    assert leaver and leaver[-1]["status"] == "moved_out", leaver[-1:]
