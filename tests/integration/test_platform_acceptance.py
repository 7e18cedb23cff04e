"""Issue 3 acceptance on the real stack, with a client no one here wrote.

Department events are produced with confluent-kafka's own ``AvroSerializer`` (schema from the
registry) — a resident moving in with a half-width kana name, a 和暦 birth date and a
full-width address; a checkup; a care certification — and all four stages run as
`renkei worker all` on their own topic prefix. The resident appears in ``unified.resident``
standardized and linked; ``unified.region`` has the region; an alert for the region puts them on
``derived.evacuation-support`` and lifting it clears the list; random bytes and an unknown
schema id land in the DLQ while processing goes on; sending the same events again changes no
output.
"""

from __future__ import annotations

import copy
import datetime as dt
import struct
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from renkei.schemas.catalogue import Catalogue
from renkei.schemas.models import RecordValidator
from renkei.settings import Settings
from tests.conftest import apply_schemas
from tests.integration.independent_client import end_offsets, read_all
from tests.runtime.kafka_helpers import WorkerProcess, free_port_block

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]
RESIDENT = "000000055501234"
REGION = "011011:0640941"
JST = dt.timezone(dt.timedelta(hours=9))


def _events(catalogue: Catalogue) -> dict[str, dict[str, Any]]:
    """Renkei JSON-form events, validated into Python values (what a Confluent client sends)."""
    now = dt.datetime(2026, 11, 20, 10, 0, tzinfo=JST).isoformat()
    moved_in = copy.deepcopy(catalogue.get("registry.resident.events").examples["moved_in"])
    moved_in.update(
        event_id=str(uuid.uuid4()),
        resident_key=RESIDENT,
        effective_date="2026-11-18",
        recorded_at=now,
        sequence=1,
    )
    moved_in["detail"]["person"].update(
        family_name_kana="ﾀｶﾊｼ", given_name_kana="ｹﾝｲﾁ", birth_date="昭和15年4月1日"
    )
    moved_in["detail"]["address"].update(
        address_text="北海道札幌市中央区旭ケ丘５丁目６－５１", postal_code=None
    )
    moved_in["detail"]["household"].update(household_number="0005550123")
    checkup = copy.deepcopy(
        catalogue.get("health.checkup.results").examples["late_elderly_nulls_omitted"]
    )
    checkup.update(event_id=str(uuid.uuid4()), resident_key=RESIDENT, sequence=1)
    care = copy.deepcopy(
        catalogue.get("welfare.care.certifications").examples["care_level3_renewal_consent"]
    )
    care.update(event_id=str(uuid.uuid4()), resident_key=RESIDENT, sequence=1)
    return {
        "registry.resident.events": moved_in,
        "health.checkup.results": checkup,
        "welfare.care.certifications": care,
    }


def _alert(catalogue: Catalogue, action: str, sequence: int) -> dict[str, Any]:
    alert = copy.deepcopy(catalogue.get("disaster.area.alerts").examples["flood_level4_issued"])
    alert.update(
        event_id=str(uuid.uuid4()),
        municipality_code="011011",
        alert_id="accept-001",
        area_code=REGION,
        target_region_codes=[REGION],
        whole_municipality=False,
        action=action,
        sequence=sequence,
        level=4,
    )
    if action == "lifted":
        alert["lifted_at"] = dt.datetime.now(JST).isoformat()
    return alert


class ConfluentDepartment:
    """A department system using confluent-kafka's serializer with the registered schema."""

    def __init__(self, settings: Settings, catalogue: Catalogue, prefix: str):
        self.catalogue, self.prefix = catalogue, prefix
        registry = SchemaRegistryClient({"url": settings.schema_registry_url, "timeout": 10})
        self.registry = registry
        self.producer = Producer(
            {"bootstrap.servers": settings.kafka_bootstrap, "enable.idempotence": True}
        )
        self.serializers: dict[str, AvroSerializer] = {}

    def send(self, topic: str, value: dict[str, Any]) -> None:
        spec = self.catalogue.get(topic)
        serializer = self.serializers.setdefault(
            topic,
            AvroSerializer(
                self.registry,
                spec.schema_text,
                conf={"auto.register.schemas": False, "use.latest.version": True},
            ),
        )
        datum = RecordValidator(spec.schema).validate(value)
        if "detail" in datum:  # name the union branch, as Avro clients must for such unions
            datum["detail"] = (_branch(spec.schema, datum["event_type"]), datum["detail"])
        kafka_topic = self.prefix + topic
        payload = serializer(datum, SerializationContext(kafka_topic, MessageField.VALUE))
        self.producer.produce(kafka_topic, payload, key=str(value[spec.key_field]).encode())
        self.producer.flush(10)

    def send_raw(self, topic: str, key: bytes, payload: bytes) -> None:
        self.producer.produce(self.prefix + topic, payload, key=key)
        self.producer.flush(10)


def _branch(schema: dict[str, Any], event_type: str) -> str:
    field = next(f for f in schema["fields"] if f["name"] == "detail")
    record = next(b for b in field["type"] if b.get("renkei.branch_value") == event_type)
    return f"{schema['namespace']}.{record['name']}"


def _raw_keys_and_reasons(settings: Settings, topic: str, expected: int) -> list[tuple]:
    """(key, renkei.dlq.reason) of the DLQ records: raw bytes, no deserializer."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"accept-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    found: list[tuple] = []
    deadline = time.monotonic() + 60
    try:
        while len(found) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                headers = dict(message.headers() or [])
                found.append((message.key(), headers.get("renkei.dlq.reason")))
    finally:
        consumer.close()
    return found


def _wait(settings: Settings, topic: str, check: Any, timeout: float = 120.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        records = read_all(settings, topic, 10**6, timeout=2)
        if check(records):
            return records
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{topic}: not as expected after {timeout}s: {len(records)} records"
            )


def test_department_events_become_linked_streams_and_an_evacuation_list(
    live_stack: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    applied = apply_schemas(live_stack, catalogue, "accept")
    settings, prefix = live_stack, applied.prefix
    workers = WorkerProcess(
        "all",
        tmp_path / "workers.log",
        {"RENKEI_TOPIC_PREFIX": prefix, "RENKEI_WORKER_WEB_PORT_BASE": str(free_port_block(5))},
    )
    department = ConfluentDepartment(settings, catalogue, prefix)
    try:
        events = _events(catalogue)
        for topic, value in events.items():
            department.send(topic, value)
        department.send_raw("registry.resident.events", b"bad-1", b"\x07random bytes")
        department.send_raw(
            "registry.resident.events", b"bad-2", struct.pack(">bI", 0, 1_999_999_999) + b"\x02x"
        )

        def linked(records: list[dict]) -> bool:
            mine = [r["value"] for r in records if r["key"] == RESIDENT]
            return bool(mine) and mine[-1]["care"] is not None and mine[-1]["checkup"] is not None

        profile = _wait(settings, prefix + "unified.resident", linked)[-1]["value"]
        assert (
            profile["family_name_kana"] == "タカハシ" and profile["given_name_kana"] == "ケンイチ"
        )
        assert profile["birth_date"] == dt.date(1940, 4, 1)
        assert profile["address"]["region_code"] == REGION
        assert profile["address"]["chome"] == 5 and profile["address"]["prefecture"] == "北海道"
        assert profile["care"]["care_level_code"] == "23"
        assert profile["evacuation_support"]["candidate"] is True
        _wait(settings, prefix + "unified.region", lambda rs: any(r["key"] == REGION for r in rs))

        issued_at = time.monotonic()
        department.send("disaster.area.alerts", _alert(catalogue, "issued", 1))
        listed = _wait(
            settings,
            prefix + "derived.evacuation-support",
            lambda rs: any(
                r["value"]["status"] == "active" and r["value"]["count"] >= 1 for r in rs
            ),
            60,
        )
        latency = time.monotonic() - issued_at
        # the 町域 list (the alert's municipality-level list, for protected persons, is empty)
        town_list = f"accept-001:{REGION}"
        active = [
            r["value"] for r in listed if r["value"]["status"] == "active" and r["key"] == town_list
        ][-1]
        assert [p["resident_key"] for p in active["persons"]] == [RESIDENT]
        assert active["mode"] == "disaster"
        assert latency < 30, f"list appeared {latency:.1f}s after the alert"  # generous: no SLA

        department.send("disaster.area.alerts", _alert(catalogue, "lifted", 2))
        cleared = _wait(
            settings,
            prefix + "derived.evacuation-support",
            lambda rs: bool(rs) and rs[-1]["value"]["status"] == "lifted",
            60,
        )
        assert cleared[-1]["value"]["persons"] == []

        dlq = _raw_keys_and_reasons(settings, f"{prefix}dlq.registry.resident.events", 2)
        assert {key for key, _ in dlq} == {b"bad-1", b"bad-2"}
        assert {reason for _, reason in dlq} == {b"deserialization", b"schema"}

        before = {
            t: end_offsets(settings, prefix + t, n)
            for t, n in (("unified.resident", 6), ("unified.region", 3))
        }
        for topic, value in events.items():  # redelivery of the same events
            department.send(topic, value)
        time.sleep(10)
        after = {
            t: end_offsets(settings, prefix + t, n)
            for t, n in (("unified.resident", 6), ("unified.region", 3))
        }
        assert after == before
    finally:
        assert workers.stop() == 0, workers.output()
