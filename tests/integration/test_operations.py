"""Issue 4 as an operator sees it: the four stage workers as subprocesses on the real broker and
registry, a small simulated municipality published through the publisher SDK.

- each worker's ``/health/ready`` turns 200 and ``/health/live`` answers;
- each ``/metrics`` serves every family of contract A plus faust's own, and the values move
  with the load (events in/out, freshness, corrections, DLQ, table lookups and sizes, offsets);
- ``renkei status`` shows every stage ready with its lag drained and its freshness p99;
- after one stage is stopped, ``renkei status`` shows it DOWN (exit code 2) and its lag growing
  as more input arrives.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from click.testing import CliRunner
from prometheus_client import CollectorRegistry

from renkei.cli import cli
from renkei.contracts.stages import default_web_port
from renkei.errors import InvalidRecord
from renkei.kafka_security import kafka_client_options
from renkei.ops.metrics import METRIC_FAMILIES, PublisherMetrics, faust_families
from renkei.ops.scrape import Sample, samples
from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from renkei.simulator import Simulation
from tests.conftest import apply_schemas
from tests.runtime.kafka_helpers import WorkerProcess, free_port_block, produce

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]
STAGES = ("standardize", "resident", "region", "evacuation")
JST = dt.timezone(dt.timedelta(hours=9))
ONLY = [option for stage in STAGES for option in ("--stage", stage)]
"""The stages this test runs (the views stage is tested on its own)."""


def _prefixed(catalogue: Catalogue, prefix: str) -> Catalogue:
    topics = {
        prefix + s.topic: replace(
            s, topic=prefix + s.topic, metadata={**s.metadata, "topic": prefix + s.topic}
        )
        for s in catalogue
    }
    return Catalogue(root=catalogue.root, topics=topics)


async def _publish_simulation(
    settings: Settings, catalogue: Catalogue, prefix: str, seed: int, metrics: PublisherMetrics
) -> int:
    """A small municipality, stamped as recorded now (freshness is measured from recorded_at);
    plus one invalid record the SDK rejects. Returns the records sent."""
    events = list(Simulation("011011", residents=15, events=30, seed=seed))
    start = dt.datetime.now(JST)
    async with Publisher(settings, _prefixed(catalogue, prefix), metrics=metrics) as publisher:
        futures = []
        for i, event in enumerate(events):
            value = dict(event.value)
            value["recorded_at"] = (start + dt.timedelta(milliseconds=i)).isoformat()
            futures.append(
                await publisher.send(await publisher.prepare(prefix + event.topic, value))
            )
        await asyncio.gather(*futures)
        with pytest.raises(InvalidRecord):
            await publisher.prepare(prefix + "registry.resident.events", {"event_id": "x"})
    return len(events)


async def _delete_topics(settings: Settings, prefix: str) -> None:
    """Remove the run's topics: the shared broker keeps files open for every partition."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


def _scrape(port: int) -> list[Sample]:
    return samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)


def _total(parsed: list[Sample], name: str, **labels: str) -> float:
    return sum(
        s.value
        for s in parsed
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def _status(env: dict[str, str]) -> tuple[int, dict[str, dict[str, Any]]]:
    result = CliRunner().invoke(cli, ["status", "--json", *ONLY], env=env)
    document = json.loads(result.output)
    return result.exit_code, {s["stage"]: s for s in document["stages"]}


def _table(env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["status", *ONLY], env=env)
    return result.exit_code, result.output


def _eventually(check: Any, timeout: float, what: str) -> Any:
    started = time.monotonic()
    deadline = started + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            print(f"{what}: {time.monotonic() - started:.1f}s")
            return last
        time.sleep(1)
    raise AssertionError(f"{what}: not reached in {timeout}s (last: {last!r})")


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_metrics_health_and_status(
    live_stack: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    applied = apply_schemas(live_stack, catalogue, "ops")
    settings, prefix = live_stack, applied.prefix
    base = free_port_block(4)
    ports = {
        stage: default_web_port(settings.model_copy(update={"worker_web_port_base": base}), stage)
        for stage in STAGES
    }
    env = {"RENKEI_TOPIC_PREFIX": prefix, "RENKEI_WORKER_WEB_PORT_BASE": str(base)}
    workers = {
        stage: WorkerProcess(stage, tmp_path / f"{stage}.log", env, web_port=ports[stage])
        for stage in STAGES
    }
    try:
        for stage in STAGES:
            try:
                _eventually(lambda s=stage: _ready(ports[s]), 120, f"{stage} /health/ready 200")
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{workers[stage].output()[-3000:]}") from None
        live = httpx.get(f"http://127.0.0.1:{ports['region']}/health/live", timeout=2)
        assert live.status_code == 200 and live.json()["stage"] == "region"
        assert live.json()["ready"] is True

        publisher_metrics = PublisherMetrics(CollectorRegistry())
        sent = asyncio.run(_publish_simulation(settings, catalogue, prefix, 3, publisher_metrics))
        asyncio.run(
            produce(settings, prefix + "registry.resident.events", [(b"k", b"\x07junk", [], 0)])
        )
        publisher = samples(publisher_metrics_text(publisher_metrics))
        assert _total(publisher, "renkei_publisher_records_total", result="acked") == sent
        assert _total(publisher, "renkei_publisher_records_total", result="rejected") == 1

        # the pipeline drains: every stage ready, no lag, freshness measured
        def drained() -> Any:
            code, stages = _status(env)
            done = code == 0 and all(s["lag"] == 0 and s["ready"] for s in stages.values())
            # the offsets collector samples every 5 s: the commit age shows from its first
            # sample after the assignment, not at once
            sampled = all(s["last_commit_age_seconds"] is not None for s in stages.values())
            return (
                stages
                if done and sampled and stages["evacuation"]["freshness_p99_seconds"]
                else None
            )

        try:
            stages = _eventually(drained, 120, "every stage ready with lag 0")
        except AssertionError as exc:
            logs = "\n".join(f"--- {n}\n{w.output()[-1500:]}" for n, w in workers.items())
            raise AssertionError(f"{exc}\n{_table(env)[1]}\n{logs}") from None
        assert stages["standardize"]["dlq_records"] == 1
        assert "registry.resident.events" in {t["topic"] for t in stages["standardize"]["inputs"]}
        fresh = stages["resident"]["freshness_p99_seconds"]["unified.resident"]
        assert fresh is not None and 0 <= fresh < 60  # recorded moments ago
        assert stages["resident"]["last_commit_age_seconds"] is not None
        code, table = _table(env)
        print(table)  # what an operator reads (pytest -s)
        assert code == 0 and "ready" in table and "DOWN" not in table, table

        _check_metrics(ports, sent)

        # one stage stops: shown DOWN, its lag grows with more input
        assert workers["region"].stop() == 0
        code, stages = _status(env)
        assert code == 2 and stages["region"]["up"] is False
        code, table = _table(env)
        print(table)
        assert code == 2 and "DOWN" in table, table
        lags = [stages["region"]["lag"]]
        for seed in (11, 12):
            asyncio.run(_publish_simulation(settings, catalogue, prefix, seed, publisher_metrics))
            lags.append(
                _eventually(
                    lambda: (lag := _status(env)[1]["region"]["lag"]) > lags[-1] and lag,
                    60,
                    "region lag growing",
                )
            )
        assert lags[0] < lags[1] < lags[2]
        assert _status(env)[1]["resident"]["ready"] is True
    finally:
        for worker in workers.values():  # all at once: they stop in parallel
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        # signal 0 only checks the process: a second SIGTERM would make a worker exit at once
        codes = [worker.stop(sig=0) for worker in workers.values()]
        asyncio.run(_delete_topics(settings, prefix))
    assert codes == [0, 0, 0, 0], "\n".join(w.output()[-2000:] for w in workers.values())


def publisher_metrics_text(metrics: PublisherMetrics) -> str:
    from prometheus_client import generate_latest

    return generate_latest(metrics.registry).decode()


def _check_metrics(ports: dict[str, int], sent: int) -> None:
    """What each worker's /metrics shows after the load."""

    # the lag gauges are sampled by each worker's offsets collector every 5 s, while
    # `renkei status` reads the offsets itself: wait for the sample after the drain
    def lag_sampled() -> dict[str, list[Sample]] | None:
        scraped = {stage: _scrape(port) for stage, port in ports.items()}
        settled = all(
            _total(scraped[stage], "renkei_consumer_lag", stage=stage) == 0 for stage in STAGES
        )
        return scraped if settled else None

    scraped = _eventually(lag_sampled, 30, "every worker's renkei_consumer_lag at 0")
    families = {s.name for parsed in scraped.values() for s in parsed}
    text = httpx.get(f"http://127.0.0.1:{ports['resident']}/metrics", timeout=5).text
    for name, family in METRIC_FAMILIES.items():
        assert f"# TYPE {name} {family.kind}" in text, name
    for name in ("faust_messages_received_total", "faust_topic_messages_sent_total"):
        assert name in faust_families() and name in families, name

    std = scraped["standardize"]
    assert _total(std, "renkei_events_in_total") == sent + 1
    assert _total(std, "renkei_events_out_total") == sent
    assert _total(std, "renkei_dlq_records_total", reason="deserialization") == 1
    assert _total(std, "renkei_standardize_corrections_total") > 0
    assert _total(std, "renkei_event_freshness_seconds_count") == sent
    assert _total(std, "faust_messages_received_total") >= sent + 1
    for stage in STAGES:
        parsed = scraped[stage]
        assert _total(parsed, "renkei_worker_ready", stage=stage) == 1, stage
        assert _total(parsed, "renkei_events_in_total", stage=stage) > 0, stage
        assert _total(parsed, "renkei_consumer_lag", stage=stage) == 0, stage
        assert _total(parsed, "renkei_consumer_end_offset", stage=stage) > 0, stage
        assert _total(parsed, "renkei_dlq_breaker_open", stage=stage) == 0, stage
    resident = scraped["resident"]
    assert _total(resident, "renkei_table_lookups_total", table="residents", result="hit") > 0
    assert _total(resident, "renkei_table_lookups_total", table="residents", result="miss") > 0
    assert _total(resident, "renkei_table_entries", table="residents") > 0
    assert _total(resident, "renkei_event_freshness_seconds_count", topic="unified.resident") > 0
    evacuation = scraped["evacuation"]
    assert _total(evacuation, "renkei_alert_to_list_seconds_count") > 0
    assert _total(scraped["region"], "renkei_events_out_total", topic="unified.region") > 0
    # Renkei's labels carry contract names, not the test prefix (faust's carry Kafka names)
    ours = [s for p in scraped.values() for s in p if s.name.startswith("renkei_")]
    assert ours and all(not s.labels.get("topic", "").startswith("ops-") for s in ours)
