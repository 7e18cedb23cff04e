"""Scenario h: the schema registry is down for 30 s in the middle of a load.

Runs against a private registry (port 28081) so the shared one is never stopped. The
standardize worker keeps going on the schemas it fetched at startup; a publisher that had
already resolved its schema ids keeps publishing; a publisher that starts while the registry is
down retries with a clear warning and publishes once it is back.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from tests.fault import harness as h
from tests.fault import servers

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.fault,
    pytest.mark.fault_full,
    pytest.mark.timeout(900),
]
OUTAGE = 30.0
TOPIC = "registry.resident.events"


@pytest.fixture
def registry(
    live_stack: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[servers.PrivateRegistry]:
    private = servers.PrivateRegistry(live_stack, Path(tmp_path_factory.mktemp("renkei-fault-h")))
    private.start()
    try:
        yield private
    finally:
        private.stop()
        private.drop_storage()


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _late_publisher(
    settings: Settings, catalogue: Catalogue, prefix: str, value: dict, out: dict
) -> threading.Thread:
    """A publisher started while the registry is down (nothing cached): publish one event."""

    async def run() -> None:
        async with Publisher(
            settings, h.prefixed_catalogue(catalogue, prefix), registry_wait=120
        ) as publisher:
            meta = await publisher.publish(prefix + TOPIC, value)
            out["position"] = (meta.topic, meta.partition, meta.offset)
            out["at"] = time.monotonic()

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_h_registry_down_for_30_seconds(
    registry: servers.PrivateRegistry, catalogue: Catalogue, tmp_path: Path
) -> None:
    settings, prefix = registry.settings, h.new_prefix("h")
    events = list(h.simulated(600, 300, 5))
    late_value = next(v for t, v in events if t == TOPIC)
    asyncio.run(h.prepare_topics(settings, catalogue, prefix))
    records = asyncio.run(h.encode_load(settings, catalogue, prefix, events))
    schemas = h.SchemaCache(settings.schema_registry_url)
    workers = h.Workers(prefix, tmp_path, env={"RENKEI_SCHEMA_REGISTRY_URL": registry.url})
    workers.start("standardize").wait_for("partitions assigned", timeout=120)
    publisher = h.BackgroundPublisher(settings, records, rate=len(records) / 60)
    captured = _Captured()
    logging.getLogger("renkei.publish.producer").addHandler(captured)
    late: dict = {}
    try:
        time.sleep(10)
        registry.stop()
        down_at = time.monotonic()
        assert not registry.answers
        before = _std_count(settings, prefix)
        thread = _late_publisher(settings, catalogue, prefix, late_value, late)
        time.sleep(OUTAGE)
        during = _std_count(settings, prefix) - before
        restart = registry.start()
        thread.join(180)
        result = publisher.join()
        result.acked.add(late["position"])
        result.published += 1
        records_out = asyncio.run(
            h.wait_arrived(settings, prefix, schemas, result.acked, timeout=240)
        )
    finally:
        logging.getLogger("renkei.publish.producer").removeHandler(captured)
        failures = workers.stop_all()
    tally = h.account(
        "h registry down 30 s",
        result,
        records_out,
        schemas,
        note=(
            f"{during} std records written while the registry was down; late publisher acked "
            f"{late['at'] - down_at:.0f} s after the stop (registry restart took {restart:.0f} s)"
        ),
    )
    tally.report()
    assert not failures, failures
    assert "error" not in late, late
    assert during > 0, "the stage made no progress while the registry was down"
    assert any("schema registry not available" in m and "retrying" in m for m in captured.messages)
    assert tally.lost == 0 and result.failed == 0
    h.cleanup(settings, prefix)


def _std_count(settings: Settings, prefix: str) -> int:
    return sum(asyncio.run(h.end_offsets(settings, h.std_topics(prefix))).values())
