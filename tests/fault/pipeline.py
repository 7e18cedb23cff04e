"""The standardize → resident pipeline under test, and its clean reference run.

Scenarios a, b and d compare their outputs with a clean run of the same load: the latest value
per key of every ``std.*`` topic (without ``std_meta``) and of ``unified.resident`` and
``internal.resident.facts`` (without the envelope fields that name the triggering event).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from renkei.contracts.stages import STAGES as STAGES_REGISTRY
from renkei.publish.producer import PreparedRecord
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from tests.fault import harness as h

STAGES = ("standardize", "resident")
LINKED = ("unified.resident", "internal.resident.facts")
RESIDENT = STAGES_REGISTRY["resident"]
RESIDENT_INPUTS = RESIDENT.inputs + tuple(
    RESIDENT.internal_topic(s) for s in RESIDENT.internal_topics
)
RESIDENTS, EVENTS, SEED = 1000, 500, 11
"""About 1,800 department records (1,169 registry events, 383 checkups, 119 care
certifications, economy and alerts): a scenario's load runs for about a minute here."""


@dataclass
class Outcome:
    """What a run left in its output topics."""

    std: dict[tuple[str, str], Any]
    linked: dict[tuple[str, str], Any]
    records: list[h.RawRecord]
    linked_records: int = 0
    """Records in the linked output topics (the clean run's tells how far a load has got)."""
    prefix: str = ""


def linked_topics(prefix: str) -> list[str]:
    return [prefix + t for t in LINKED]


async def load(
    settings: Settings, catalogue: Catalogue, prefix: str, order_seed: int | None = None
) -> list[PreparedRecord]:
    """Create the prefixed topics and encode the scenario load (shuffled if ``order_seed``)."""
    await h.prepare_topics(settings, catalogue, prefix)
    events = list(h.simulated(RESIDENTS, EVENTS, SEED))
    if order_seed is not None:
        events = h.shuffled(events, order_seed)
    return await h.encode_load(settings, catalogue, prefix, events)


def settle(
    settings: Settings,
    prefix: str,
    schemas: h.SchemaCache,
    result: h.PublishResult,
    timeout: float = 300.0,
) -> Outcome:
    """Wait until every acked record was standardized, the resident stage has committed all
    it consumes (its std inputs and its household loop) and the linked outputs are quiet."""
    started = time.monotonic()
    records = asyncio.run(h.wait_arrived(settings, prefix, schemas, result.acked, timeout=timeout))
    consumed = [prefix + t for t in RESIDENT_INPUTS]
    group = f"{prefix}renkei-resident"
    assert h.poll(
        lambda: asyncio.run(h.group_lag(settings, group, consumed)) == 0,
        timeout=max(timeout - (time.monotonic() - started), 60.0),
        interval=2.0,
    ), f"{group} still has lag"
    asyncio.run(h.wait_quiet(settings, linked_topics(prefix), quiet=8.0, timeout=120))
    linked = asyncio.run(h.read_topics(settings, linked_topics(prefix)))
    return Outcome(
        linked_records=len(linked),
        std=h.latest_per_key(
            [r for r in records if r.topic.startswith(prefix + "std.")], schemas, prefix
        ),
        linked=h.latest_per_key(linked, schemas, prefix, drop=h.ENVELOPE),
        records=records,
    )


def clean_run(settings: Settings, catalogue: Catalogue, folder: Path) -> Outcome:
    """The reference: the same load, published once, no fault."""
    prefix = h.new_prefix("clean")
    records = asyncio.run(load(settings, catalogue, prefix))
    workers = h.Workers(prefix, folder)
    try:
        for stage in STAGES:
            workers.start(stage)
        result = asyncio.run(h.publish(settings, records))
        outcome = settle(settings, prefix, h.SchemaCache(settings.schema_registry_url), result)
    finally:
        failures = workers.stop_all()
    assert not failures, failures
    assert len(result.acked) == len(records)
    outcome.prefix = prefix
    return outcome


def progress(settings: Settings, prefix: str) -> int:
    """Records in the linked outputs so far."""
    return sum(asyncio.run(h.end_offsets(settings, linked_topics(prefix))).values())


def wait_progress(settings: Settings, prefix: str, share: float, clean: Outcome) -> str:
    """Until the linked outputs hold ``share`` of the clean run's records (a fault then lands
    mid-load, whatever the machine's speed); where it got, for the report."""
    target = int(share * clean.linked_records)
    h.poll(lambda: progress(settings, prefix) >= target, timeout=240, interval=0.3)
    return f"{progress(settings, prefix)}/{clean.linked_records}"


def compare(expected: Outcome, actual: Outcome, *, std: bool = True) -> list[str]:
    """Differences of the latest values per key (std topics too unless ``std`` is False)."""
    problems = h.differences(expected.linked, actual.linked)
    if std:
        problems += h.differences(expected.std, actual.std)
    return problems
