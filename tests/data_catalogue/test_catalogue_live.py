"""Issue 18 acceptance: the catalogue page against the running platform, in headless Chromium.

The catalogue is applied under a test prefix and a second version of one subject is registered
(an added field). ``renkei worker all`` runs the five stages; a simulated 札幌市中央区 and three
undecodable records go in. ``renkei catalogue serve`` serves the page; Chromium renders it
(Japanese, then English), and a screenshot of each is written. Every figure on the page is
compared with an independent read: every topic and DLQ read record by record from the start
with confluent-kafka's own consumer (counts, newest timestamp, records since the window start,
freshness), the registry through confluent's SchemaRegistryClient (versions, ids, the field
that changed, compatibility), and the stages' consumer groups through confluent's AdminClient
(each drawn edge topic → stage is a topic that stage's group has committed on).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaProducer
from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from renkei.contracts.stages import STAGES
from renkei.contracts.views import load_view_plans
from renkei.identity import hash_password
from renkei.ops.metrics import FRESHNESS_BUCKETS
from renkei.ops.scrape import histogram_quantile
from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from renkei.simulator import Simulation
from tests.conftest import REPO, AppliedSchemas, apply_schemas
from tests.runtime.kafka_helpers import WorkerProcess, free_port, free_port_block
from tests.staff_view.chromium import FLAGS, Node, chromium, dump_dom, parse

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(600)]
CHANGED = "health.checkup.results"
BAD_RECORDS = 3
WINDOW_SECONDS = 60


# ---- the independent read ---------------------------------------------------------------


def _consumer(settings: Settings) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": "catalogue-test-reader",
            "enable.auto.commit": False,
        }
    )


def _offsets(consumer: Consumer, topic: str, partition: int) -> tuple[int, int]:
    """(low, high) watermarks; a partition just created may have no leader for a moment."""
    for _ in range(20):
        try:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            return int(low), int(high)
        except KafkaException:
            time.sleep(0.5)
    raise AssertionError(f"no watermarks for {topic}[{partition}]")


def _partitions(consumer: Consumer, topic: str) -> list[int] | None:
    metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return None
    return sorted(metadata.partitions)


def read_topic(
    settings: Settings, topic: str, registry: SchemaRegistryClient, decode: bool
) -> dict[str, Any] | None:
    """Every record of ``topic`` from each partition's start to its high watermark: per
    partition the (timestamp ms, recorded_at seconds or None) of each record. None: no topic."""
    consumer = _consumer(settings)
    deserializer = AvroDeserializer(registry)
    try:
        partitions = _partitions(consumer, topic)
        if partitions is None:
            return None
        records: dict[int, list[tuple[int, float | None]]] = {}
        for p in partitions:
            low, high = _offsets(consumer, topic, p)
            records[p] = []
            if high <= low:
                continue
            consumer.assign([TopicPartition(topic, p, low)])
            while len(records[p]) < high - low:
                message = consumer.poll(5)
                assert message is not None, f"{topic}[{p}]: stopped before {high}"
                assert not message.error(), message.error()
                recorded = None
                if decode and message.value() and message.value()[:1] == b"\x00":
                    context = SerializationContext(topic, MessageField.VALUE)
                    value = deserializer(message.value(), context)
                    stamp = value.get("recorded_at")  # a view may not carry it
                    recorded = stamp.timestamp() if stamp is not None else None
                records[p].append((message.timestamp()[1], recorded))
        return records
    finally:
        consumer.close()


def watermarks(settings: Settings, topics: list[str]) -> dict[str, int]:
    consumer = _consumer(settings)
    try:
        totals = {}
        for topic in topics:
            partitions = _partitions(consumer, topic) or []
            totals[topic] = sum(_offsets(consumer, topic, p)[1] for p in partitions)
        return totals
    finally:
        consumer.close()


def _quiet(
    settings: Settings, topics: list[str], seconds: float = 12, timeout: float = 300
) -> None:
    """Wait until no topic grew for ``seconds`` (the stages have drained)."""
    deadline = time.monotonic() + timeout
    last, since = watermarks(settings, topics), time.monotonic()
    while time.monotonic() - since < seconds:
        assert time.monotonic() < deadline, f"topics still growing after {timeout}s"
        time.sleep(2)
        now = watermarks(settings, topics)
        if now != last:
            last, since = now, time.monotonic()


def _bucket(value: float) -> int:
    """Index of the freshness bucket holding ``value`` (PromQL buckets are (lower, upper])."""
    return next(
        (n for n, bound in enumerate(FRESHNESS_BUCKETS) if value <= bound), len(FRESHNESS_BUCKETS)
    )


def _quantile(values: list[float], q: float) -> float | None:
    """``q`` quantile of ``values`` by the histogram rule (buckets of the metric family)."""
    counts = [(bound, float(sum(v <= bound for v in values))) for bound in FRESHNESS_BUCKETS]
    return histogram_quantile(q, [*counts, (float("inf"), float(len(values)))])


# ---- the platform ------------------------------------------------------------------------


def _ready(port_base: int, workers: WorkerProcess, timeout: float = 180) -> None:
    """Every stage answers /health/ready (partitions assigned, tables recovered)."""
    deadline = time.monotonic() + timeout
    waiting = set(range(5))
    while waiting:
        assert workers.process.poll() is None, workers.output()
        assert time.monotonic() < deadline, f"stages not ready: {waiting}\n{workers.output()}"
        for n in sorted(waiting):
            try:
                url = f"http://127.0.0.1:{port_base + n}/health/ready"
                with urllib.request.urlopen(url, timeout=3) as response:
                    if response.status == 200:
                        waiting.discard(n)
            except OSError:
                pass
        time.sleep(1)


async def _publish(applied: AppliedSchemas, events: list[tuple[str, dict[str, Any]]]) -> None:
    async with Publisher(applied.settings, applied.prefixed_catalogue()) as publisher:
        for topic, value in events:
            await publisher.publish(applied.topic(topic), value)
    producer = AIOKafkaProducer(bootstrap_servers=applied.settings.kafka_bootstrap)
    await producer.start()
    try:
        for n in range(BAD_RECORDS):  # not Avro in the wire format: standardize's DLQ
            await producer.send_and_wait(
                applied.topic("registry.resident.events"), b"not avro", key=f"bad-{n}".encode()
            )
    finally:
        await producer.stop()


def _register_second_version(
    registry: SchemaRegistryClient, catalogue: Catalogue, subject: str
) -> dict[str, Any]:
    schema = copy.deepcopy(catalogue.get(CHANGED).schema)
    schema["fields"].append(
        {
            "name": "remarks",
            "type": ["null", "string"],
            "default": None,
            "doc": "備考（自由記述） / Remarks (free text)",
        }
    )
    registry.register_schema(subject, Schema(json.dumps(schema, ensure_ascii=False), "AVRO"))
    return schema


STAFF_USER, STAFF_PASSWORD = "sato.m", "catalogue live test 7"


def users_file(folder: Path) -> Path:
    """A staff users file (0600) with one user (issue 14's staff login)."""
    path = folder / "staff-users.yaml"
    entry = {"id": STAFF_USER, "display_name": "佐藤 (企画課)"}
    entry["password_hash"] = hash_password(STAFF_PASSWORD)
    path.write_text(yaml.safe_dump({"users": [entry]}, allow_unicode=True), encoding="utf-8")
    path.chmod(0o600)
    return path


class CatalogueProcess:
    """``renkei catalogue serve`` on a free port, behind the staff login of a users file."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.log = log
        self._out = log.open("wb")
        users = users_file(log.parent)
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "renkei"),
                "catalogue",
                "serve",
                "--port",
                str(self.port),
            ],
            cwd=REPO,
            env={
                **os.environ,
                **env,
                "RENKEI_STAFF_USERS_FILE": str(users),
                "RENKEI_CATALOGUE_LIVE_CACHE_SECONDS": "0",
                "RENKEI_CATALOGUE_WINDOW_SECONDS": str(WINDOW_SECONDS),
            },
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        """The address without credentials (answers 401 but /health/*)."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def signed_in_url(self) -> str:
        """The address a browser signs in with (HTTP Basic in the address)."""
        return f"http://{STAFF_USER}:{STAFF_PASSWORD.replace(' ', '%20')}@127.0.0.1:{self.port}/"

    def get(self, path: str) -> Any:
        """GET ``path`` with the staff user's credentials (an open response)."""
        request = urllib.request.Request(self.url + path)
        token = base64.b64encode(f"{STAFF_USER}:{STAFF_PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        return urllib.request.urlopen(request, timeout=60)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text(errors="replace")
            try:
                with urllib.request.urlopen(self.url + "health/ready", timeout=3):
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError("the catalogue page did not start:\n" + self.log.read_text())

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._out.close()


def screenshot(url: str, path: Path, profile: Path, height: int = 2600) -> None:
    result = subprocess.run(
        [
            chromium(),
            *FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=8000",
            f"--window-size=1500,{height}",
            "--hide-scrollbars",
            f"--screenshot={path}",
            url,
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0 and path.stat().st_size > 10_000, result.stderr[-2000:]
    keep = os.environ.get("RENKEI_CATALOGUE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


# ---- the checks ------------------------------------------------------------------------------


def _value(section: Node, field: str) -> str:
    return section.one(data_live=field).attrs["data-value"]


def check_live(
    section: Node,
    topic: str,
    read: dict[str, Any] | None,
    dlq: dict[str, Any] | None,
    window_start: int,
) -> dict[str, int]:
    """The live figures of one topic's section against the independent read; returns the
    counts the stage figures are checked with."""
    if read is None:
        assert _value(section, "records") == ""
        return {"records": 0}
    stamps = [ts for records in read.values() for ts, _ in records]
    assert _value(section, "records") == str(len(stamps)), topic
    recent = 0
    for records in read.values():  # from the first record stamped at or after the window start
        first = next((n for n, (ts, _) in enumerate(records) if ts >= window_start), len(records))
        recent += len(records) - first
    assert _value(section, "recent_records") == str(recent), topic
    assert _value(section, "latest_ms") == (str(max(stamps)) if stamps else ""), topic
    held = None if dlq is None else sum(len(r) for r in dlq.values())
    assert _value(section, "dlq_records") == ("" if held is None else str(held)), topic
    lags = [
        ts / 1000 - recorded
        for records in read.values()
        for ts, recorded in records
        if recorded is not None
    ]
    p50 = section.one(data_live="freshness_p50")
    if lags and p50.attrs["data-value"]:
        assert p50.attrs["data-count"] == str(len(lags)), topic
        for q, field in ((0.5, "freshness_p50"), (0.99, "freshness_p99")):
            shown, independent = float(_value(section, field)), _quantile(lags, q)
            assert independent is not None
            # the metric stamps a record when the stage hands it over, Kafka when it is sent:
            # the same bucket, or the next one for a value on a bucket's edge
            assert abs(_bucket(shown) - _bucket(independent)) <= 1, (topic, q, shown, independent)
    return {"records": len(stamps), "dlq": held or 0}


def check_versions(section: Node, subject: str, registry: SchemaRegistryClient) -> list[int]:
    try:
        versions = registry.get_versions(subject)
    except Exception:  # not registered (a view whose stage has not registered it)
        versions = []
    rows = section.all(data_version=None)
    assert sorted(int(r.attrs["data-version"]) for r in rows) == sorted(versions), subject
    for row in rows:
        registered = registry.get_version(subject, int(row.attrs["data-version"]))
        assert row.attrs["data-schema-id"] == str(registered.schema_id), subject
    if versions:
        try:
            shown = f"({registry.get_compatibility(subject)})"
        except Exception:  # no subject-level setting
            shown = "—"
        assert section.one(data_fact="registryCompat").text().endswith(shown), subject
    return versions


def check_edges(dom: Node, settings: Settings, prefix: str, nonempty: set[str]) -> None:
    """Every drawn topic → stage edge from a topic holding records: the stage's consumer group
    committed on that topic."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    edges = [e.attrs["data-edge"].split("->") for e in dom.all(data_edge=None)]
    stages = {target.split(":")[1] for source, target in edges if target.startswith("stage:")}
    committed: dict[str, set[str]] = {}
    for stage in stages:
        group = f"{prefix}renkei-{stage}"
        future = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group]
        committed[stage] = {
            tp.topic for tp in future.result(timeout=30).topic_partitions if tp.offset >= 0
        }
    for source, target in edges:
        if target.startswith("stage:") and source.startswith("topic:"):
            stage, topic = target.split(":")[1], source.split(":", 1)[1]
            if topic not in nonempty:
                continue
            assert prefix + topic in committed[stage], (topic, stage, sorted(committed[stage]))


def test_catalogue_page_shows_what_the_topics_and_the_registry_hold(
    live_stack: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    chromium()
    applied = apply_schemas(live_stack, catalogue, "catalogue")
    settings, prefix = applied.settings, applied.prefix
    # what the page must list, from the catalogue and the agreements (not the page's model)
    agreements = REPO / "deploy" / "agreements"
    views = [plan.topic for plan in load_view_plans(agreements, catalogue)]
    topics = sorted([*catalogue.topics, *views])
    stage_io = {
        name: (
            spec.contract_inputs(catalogue, agreements),
            spec.contract_outputs(catalogue, agreements),
        )
        for name, spec in STAGES.items()
    }
    registry = SchemaRegistryClient({"url": settings.schema_registry_url, "timeout": 10})
    changed = _register_second_version(registry, catalogue, f"{prefix}{CHANGED}-value")
    port_base = free_port_block(5)
    env = {"RENKEI_TOPIC_PREFIX": prefix, "RENKEI_WORKER_WEB_PORT_BASE": str(port_base)}
    workers = WorkerProcess("all", tmp_path / "workers.log", env)
    page = CatalogueProcess(env, tmp_path / "catalogue.log")
    try:
        _ready(port_base, workers)
        simulation = Simulation("011011", residents=80, events=40, seed=20261207)
        asyncio.run(_publish(applied, [(e.topic, e.value) for e in simulation]))
        page.wait_ready()
        # the staff login: no credentials or a wrong password show nothing of the catalogue
        wrong = page.signed_in_url.replace(STAFF_PASSWORD.replace(" ", "%20"), "wrong")
        for url in (page.url, wrong):
            refused = dump_dom(url, tmp_path / "chromium-refused", budget_ms=3000)
            assert "registry.resident.events" not in refused and "whoami" not in refused
        for path in ("", "api/catalogue", "catalogue.jsonld"):
            with pytest.raises(urllib.error.HTTPError) as unauthorized:
                urllib.request.urlopen(page.url + path, timeout=30)
            assert unauthorized.value.code == 401
        kafka_topics = [prefix + t for t in topics] + [f"{prefix}dlq.{t}" for t in topics]
        for _attempt in range(5):
            _quiet(settings, kafka_topics)
            before = watermarks(settings, kafka_topics)
            html = dump_dom(page.signed_in_url, tmp_path / "chromium", budget_ms=8000)
            reads = {
                t: read_topic(settings, prefix + t, registry, decode=t != "audit.access")
                for t in topics
            }
            dlqs = {
                t: read_topic(settings, f"{prefix}dlq.{t}", registry, decode=False) for t in topics
            }
            if watermarks(settings, kafka_topics) == before:
                break
        else:
            raise AssertionError("the topics never held still around a page load")
        dom = parse(html)
        who = dom.one(id="whoami")
        assert who.attrs["data-signed-in"] == "true" and "佐藤 (企画課)" in who.text()
        status = dom.one(id="status")
        assert status.attrs["data-loaded"] == "true"
        assert dom.one(id="stages-up").attrs["data-value"] == "5"
        window_start = int(status.attrs["data-window-start"])
        sections = {s.attrs["data-topic"]: s for s in dom.all(data_topic=None)}
        assert set(sections) == set(topics)
        assert dom.one(id="total-topics").attrs["data-value"] == str(len(topics))
        counts = {t: check_live(sections[t], t, reads[t], dlqs[t], window_start) for t in topics}
        assert dom.one(id="total-dlq").attrs["data-value"] == str(
            sum(c.get("dlq", 0) for c in counts.values())
        )
        # the stages' own counts: each reader read, and the writer wrote, every record
        for t in topics:
            read_by = json.loads(_value(sections[t], "read_by"))
            written_by = json.loads(_value(sections[t], "written_by"))
            readers = {name for name, (ins, _) in stage_io.items() if t in ins}
            writers = {name for name, (_, outs) in stage_io.items() if t in outs}
            records, dlq = counts[t]["records"], counts[t].get("dlq", 0)
            # at least once: a record redelivered after a rebalance (a loaded machine) is read
            # again, so each reader read every record and may show a few more
            assert set(read_by) == readers or not records, (t, read_by)
            assert all(n >= records for n in read_by.values()), (t, read_by)
            assert set(written_by) <= writers, (t, written_by)
            if writers and records:
                assert sum(written_by.values()) == records, (t, written_by)
                if reads[t] and any(rec is not None for r in reads[t].values() for _, rec in r):
                    # every produced record with an event time was observed once
                    assert _value(sections[t], "freshness_p50") != "", t
            if readers and records:
                rate = _value(sections[t], "dlq_rate")
                assert float(rate) == pytest.approx(dlq / sum(read_by.values())), t
        events = sections["registry.resident.events"]
        assert (
            float(_value(events, "dlq_rate")) > 0
            and counts["registry.resident.events"]["dlq"] == BAD_RECORDS
        )
        # the registry: versions, ids, compatibility, and what changed
        for t in topics:
            versions = check_versions(sections[t], f"{prefix}{t}-value", registry)
            if t in catalogue.topics:
                assert versions, t  # schemas apply registered every catalogue subject
        health = sections[CHANGED]
        [v2] = health.all(data_version="2")
        assert [
            (c.attrs["data-change-kind"], c.attrs["data-path"])
            for c in v2.all(data_change_kind=None)
        ] == [("added", "remarks")]
        assert health.one(data_matches_catalogue=None).attrs["data-matches-catalogue"] == "false"
        assert changed["fields"][-1]["name"] == "remarks"
        # lineage: what the stages really consume
        nonempty = {t for t in topics if counts[t]["records"]}
        assert len(nonempty) >= 15, sorted(set(topics) - nonempty)
        check_edges(dom, settings, prefix, nonempty)
        # the DCAT export: newest record and newest version, as read independently (the views
        # stage may have written an audit record since the page was read: re-read what moved)
        for _attempt in range(5):
            marks = watermarks(settings, kafka_topics)
            with page.get("catalogue.jsonld") as response:
                assert response.headers["Content-Type"].startswith("application/ld+json")
                datasets = {d["dct:identifier"]: d for d in json.load(response)["dcat:dataset"]}
            if watermarks(settings, kafka_topics) == marks:
                break
        assert set(datasets) == set(topics)
        for t in nonempty:
            read = reads[t]
            if marks[prefix + t] != before[prefix + t]:
                read = read_topic(settings, prefix + t, registry, decode=False)
            newest = max(ts for r in (read or {}).values() for ts, _ in r)
            moment = dt.datetime.fromtimestamp(newest / 1000, dt.UTC).isoformat(timespec="seconds")
            assert datasets[t]["dct:modified"]["@value"] == moment, t
        assert datasets[CHANGED]["dcat:version"] == "2"
        # owner, PII and documentation of a field, as the catalogue files say
        spec = catalogue.get("registry.resident.events")
        assert events.one(data_fact="owner").text() == spec.metadata["owner_department"]
        measure = events.one(data_field_path="detail.measure")
        assert measure.one(data_pii=None).attrs["data-pii"] == "sensitive"
        # English
        english = parse(
            dump_dom(page.signed_in_url + "?lang=en", tmp_path / "chromium", budget_ms=8000)
        )
        assert english.one(id="title").text() == "Data catalogue (Renkei)"
        en_events = english.one(data_topic="registry.resident.events")
        assert (
            en_events.one(data_field_path="detail.measure").all(data_pii=None)[0].text()
            == "special care (要配慮)"
        )
        screenshot(page.signed_in_url, tmp_path / "catalogue-ja.png", tmp_path / "chromium")
        screenshot(
            page.signed_in_url + "?lang=en&q=registry.resident.events",
            tmp_path / "catalogue-en.png",
            tmp_path / "chromium",
            height=4600,
        )
    finally:
        page_rc = page.stop()
        workers_rc = workers.stop()
    assert page_rc == 0, page.log.read_text(errors="replace")
    assert workers_rc == 0, workers.output()
