"""Privacy at the source, on the real broker and registry (issue 12's acceptance).

standardize, resident, region, evacuation and views run as worker subprocesses under a test
prefix. An independent client (confluent-kafka's Producer with the registry's AvroSerializer)
publishes department records as a registry system would; another (its Consumer, reading raw
bytes and decoding with the registry's AvroDeserializer) reads **every** record of every topic
the test created — outputs, views, internal topics and DLQs — and checks:

- no address, 町域, household number or head-of-household name of anyone at the protected
  address (the applicant, her mother in her own 世帯 at the same address, and her sister named
  with her at another address) in any output or view, in any record ever written (not only the
  latest per key), while all three are still listed for the alert, at municipality level;
- no event id or header value shared by two views, no department or vendor header on a view;
- no 個人番号 in any form in anything the platform wrote (values, keys, headers of every
  topic but the department topics the vendor wrote to; DLQ copies masked).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from renkei.identifiers.mynumber import my_number_check_digit
from renkei.schemas.jsonform import to_datum
from renkei.schemas.models import RecordValidator
from renkei.settings import Settings
from renkei.stages.views.pseudonym import load_or_create_key
from tests.conftest import AppliedSchemas, RunningStages
from tests.runtime.kafka_helpers import free_port_block
from tests.stages import factories as f
from tests.stages.views.harness import view_plans

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(900)]
REG = "registry.resident.events"
CARE = "welfare.care.certifications"
ALERTS = "disaster.area.alerts"
STAGES = ("standardize", "resident", "region", "evacuation", "views")
DAUGHTER, MOTHER, SISTER, NEIGHBOUR, BAD = (
    "000000000000701",
    "000000000000702",
    "000000000000703",
    "000000000000704",
    "000000000000705",
)
PROTECTED = (DAUGHTER, MOTHER, SISTER)
NUMBER = "98765432109" + str(my_number_check_digit("98765432109"))
GROUPED = f"{NUMBER[:4]}\u2212{NUMBER[4:8]}\u2212{NUMBER[8:]}"
HOME_TEXT = "北海道札幌市中央区旭ケ丘5丁目8番8号"
SISTER_TEXT = "北海道札幌市中央区宮の森二条7丁目3番15号"
ELSEWHERE_TEXT = "北海道札幌市中央区旭ケ丘5丁目2番2号"
HOUSEHOLDS = {DAUGHTER: "7100000701", MOTHER: "7100000702", SISTER: "7100000703"}
# What no output may show of the three protected persons (their names may: they are listed,
# by name, for the alert; as head-of-household names they may not, checked per person below).
FORBIDDEN = (HOME_TEXT, SISTER_TEXT, *HOUSEHOLDS.values())
OUTPUTS = ("unified.resident", "unified.region", "derived.evacuation-support")
VIEW_HEADERS = {"ce_specversion", "ce_id", "ce_source", "ce_type", "content-type", "ce_dataschema"}


def _event(
    key: str,
    event_type: str,
    detail: dict[str, Any],
    day: str,
    seq: int,
    reason: str,
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "source_system": "jumin-kiroku",
        "municipality_code": f.MUNI,
        "effective_date": day,
        "recorded_at": f"{day}T10:00:00+09:00",
        "sequence": seq,
        "resident_key": key,
        "event_type": event_type,
        "reason": reason,
        "detail": detail,
    }


def _moved_in(
    key: str, given: str, text: str, postal: str, head: bool, protected: bool, seq: int = 1
) -> dict[str, Any]:
    detail = {
        "person": {
            "family_name": "鷲見" if key in PROTECTED else "石田",
            "given_name": given,
            "family_name_kana": "スミ",
            "given_name_kana": "ミサキ",
            "birth_date": "昭和15年1月1日" if key in (MOTHER, NEIGHBOUR) else "1990-01-01",
            "sex": "2",
            "resident_type": "japanese",
            "nationality": None,
            "foreign_resident_status": None,
        },
        "address": {"postal_code": postal, "address_text": text, "building": None},
        "household": {
            "household_number": HOUSEHOLDS.get(key, "7100000704"),
            "relationship": "世帯主" if head else "子",
            "is_head": head,
        },
        "previous_municipality_code": "131016",
        "previous_address_text": None,
        "from_abroad": False,
        "protection": {
            "protected": protected,
            "measure": "DV" if protected else None,
            "valid_until": "2027-06-30" if protected else None,
        },
    }
    return _event(key, "moved_in", detail, "2026-04-01", seq, "国内転入")


def _care(key: str) -> dict[str, Any]:
    """要介護5 with consent (a candidate for evacuation support), from the catalogue example."""
    care = dict(f.spec(CARE).examples["care_level3_renewal_consent"])
    care.update(
        event_id=str(uuid.uuid4()),
        resident_key=key,
        care_level_code="25",
        care_level_name="要介護5",
        lives_alone=False,
    )
    return care


def _alert() -> dict[str, Any]:
    """Level 4 on the 町域 of the protected address and the sister's, from the example."""
    alert = dict(f.spec(ALERTS).examples["flood_level4_issued"])
    alert.update(
        event_id=str(uuid.uuid4()),
        municipality_code=f.MUNI,
        area_code=f.MUNI,
        alert_id="P1",
        target_region_codes=[f.REGION_A, f.REGION_B],
        message="避難指示（警戒レベル4）",
    )
    return alert


class Publisher:
    """confluent-kafka's Producer with the registry's AvroSerializer (latest version)."""

    def __init__(self, settings: Settings, prefix: str) -> None:
        self.prefix = prefix
        self.registry = SchemaRegistryClient({"url": settings.schema_registry_url, "timeout": 10})
        self.producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
        self.serializers: dict[str, AvroSerializer] = {}

    def send(
        self,
        topic: str,
        key: str,
        event: dict[str, Any],
        headers: list[tuple[str, bytes]],
        raw: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """Publish ``event``; ``raw`` edits the datum after validation, as a vendor system
        writing straight to the topic (no SDK) would send what the SDK refuses."""
        name = self.prefix + topic
        if topic not in self.serializers:
            latest = self.registry.get_latest_version(f"{name}-value")
            self.serializers[topic] = AvroSerializer(
                self.registry,
                latest.schema.schema_str,
                conf={"auto.register.schemas": False, "use.latest.version": True},
            )
        schema = f.spec(topic).schema
        datum = to_datum(schema, RecordValidator(schema).validate(event))
        if raw is not None:
            raw(datum)
        value = self.serializers[topic](datum, SerializationContext(name, MessageField.VALUE))
        self.producer.produce(name, key=key.encode(), value=value, headers=headers)
        assert self.producer.flush(30) == 0


def _ce(event_id: str, topic: str) -> list[tuple[str, bytes]]:
    return [
        ("ce_specversion", b"1.0"),
        ("ce_id", event_id.encode()),
        ("ce_source", b"jumin-kiroku"),
        ("ce_type", f"jp.renkei.{topic}".encode()),
        ("content-type", b"application/avro"),
        ("x-vendor-trace", b"vendor-trace-0042"),
    ]


class Reader:
    """Every record of a topic from the start: raw key, value, headers, and the decoded
    value when it is Avro with a registered schema."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.deserializer = AvroDeserializer(
            SchemaRegistryClient({"url": settings.schema_registry_url, "timeout": 10})
        )

    def all(self, topic: str) -> list[dict[str, Any]]:
        consumer = Consumer(
            {
                "bootstrap.servers": self.settings.kafka_bootstrap,
                "group.id": f"renkei-privacy-test-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        try:
            metadata = consumer.list_topics(topic, timeout=10).topics[topic]
            parts = [TopicPartition(topic, p) for p in metadata.partitions]
            ends = {p.partition: consumer.get_watermark_offsets(p, timeout=10)[1] for p in parts}
            consumer.assign([TopicPartition(topic, p.partition, 0) for p in parts])
            records: list[dict[str, Any]] = []
            done = {p for p, end in ends.items() if end == 0}
            deadline = time.monotonic() + 60
            while len(done) < len(ends) and time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None or message.error():
                    continue
                records.append(self._record(topic, message))
                if message.offset() + 1 >= ends[message.partition()]:
                    done.add(message.partition())
            return records
        finally:
            consumer.close()

    def _record(self, topic: str, message: Any) -> dict[str, Any]:
        raw = message.value() or b""
        decoded = None
        if raw[:1] == b"\x00" and not topic.split(".")[-1].startswith("changelog"):
            try:
                context = SerializationContext(topic, MessageField.VALUE, message.headers())
                decoded = self.deserializer(raw, context)
            except Exception:
                decoded = None
        return {
            "key": message.key() or b"",
            "value": raw,
            "headers": [(k, v or b"") for k, v in message.headers() or []],
            "decoded": decoded,
        }


def _wait(reader: Reader, topic: str, done: Callable[[list[dict[str, Any]]], bool]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if done(reader.all(topic)):
            return
        time.sleep(1)
    raise AssertionError(f"{topic}: condition not met in 180 s")


def _text(record: dict[str, Any]) -> str:
    parts = [record["key"].decode("utf-8", "replace"), record["value"].decode("utf-8", "replace")]
    parts += [f"{k}={v.decode('utf-8', 'replace')}" for k, v in record["headers"]]
    parts.append(json.dumps(record["decoded"], ensure_ascii=False, default=str))
    return "\n".join(parts)


def _digits(text: str) -> str:
    from renkei.identifiers.mynumber import _normalized

    return re.sub(r"\D", "", _normalized(text))


def _persons(record: dict[str, Any]) -> list[dict[str, Any]]:
    return list((record["decoded"] or {}).get("persons") or [])


def test_privacy_at_the_source_on_the_real_stack(
    live_stack: Settings,
    applied_schemas: AppliedSchemas,
    running_stages: RunningStages,
    tmp_path: Path,
) -> None:
    settings, prefix = live_stack, applied_schemas.prefix
    home = tmp_path / "home"
    workers = running_stages(
        *STAGES,
        env={**applied_schemas.env, "RENKEI_HOME": str(home)},
        web_port_base=free_port_block(len(STAGES)),
    )
    publisher, reader = Publisher(settings, prefix), Reader(settings)
    try:
        # 1. The applicant moves in with her 支援措置 recorded at the same counter visit, and
        #    names her sister (併せて支援を求める者).
        daughter = _moved_in(DAUGHTER, "美咲", HOME_TEXT, "0640941", True, True)
        protection = _event(
            DAUGHTER,
            "protection_set",
            {"measure": "DV", "valid_until": "2027-06-30", "named_resident_keys": [SISTER]},
            "2026-04-01",
            2,
            "支援措置開始",
        )
        for event in (daughter, protection):
            publisher.send(REG, DAUGHTER, event, _ce(event["event_id"], REG))
        _wait(
            reader,
            prefix + "unified.resident",
            lambda rs: any(r["key"] == DAUGHTER.encode() for r in rs),
        )
        time.sleep(5)  # the naming reaches the sister's partition through an internal topic
        # 2. Her mother at the same address in a household of her own (世帯分離), and her sister
        #    elsewhere: the registry states "not protected" for each, as a per-person system
        #    would. A neighbour in the same 町域 who is not covered.
        for key, event in (
            (MOTHER, _moved_in(MOTHER, "和子", HOME_TEXT, "0640941", True, False)),
            (SISTER, _moved_in(SISTER, "由紀", SISTER_TEXT, "0640952", True, False)),
            (NEIGHBOUR, _moved_in(NEIGHBOUR, "節子", ELSEWHERE_TEXT, "0640941", True, False)),
        ):
            publisher.send(REG, key, event, _ce(event["event_id"], REG))
        for key in (DAUGHTER, MOTHER, SISTER, NEIGHBOUR):
            care = _care(key)
            publisher.send(CARE, key, care, _ce(care["event_id"], CARE))
        # 3. Bad input: a 個人番号 in a vendor header; a formula (U+FE66) with a 個人番号 in
        #    free text in another field.
        header_bad = _moved_in(BAD, "花子", ELSEWHERE_TEXT, "0640941", True, False)
        publisher.send(
            REG,
            BAD,
            header_bad,
            [*_ce(header_bad["event_id"], REG), ("x-vendor-note", f"個人番号 {GROUPED}".encode())],
        )
        formula = _moved_in(BAD, "花子", HOME_TEXT, "0640941", True, False, 2)

        def vendor_bytes(datum: dict[str, Any]) -> None:
            datum["reason"] = f"国内転入 マイナンバー:{GROUPED}"
            datum["detail"][1]["person"]["family_name"] = '\ufe66HYPERLINK("http://x.example")'

        publisher.send(REG, BAD, formula, _ce(formula["event_id"], REG), raw=vendor_bytes)
        # 4. A level-4 alert on the 町域 of the protected address.
        alert = _alert()
        publisher.send(ALERTS, f.REGION_A, alert, _ce(alert["event_id"], ALERTS))

        municipality_list = f"P1:{f.MUNI}"

        def listed_all(rs: list[dict[str, Any]]) -> bool:
            latest = {r["key"]: r for r in rs}
            persons = _persons(latest.get(municipality_list.encode()) or {"decoded": None})
            return {p["resident_key"] for p in persons} == set(PROTECTED)

        _wait(reader, prefix + "derived.evacuation-support", listed_all)
        _wait(reader, prefix + "dlq." + REG, lambda rs: len(rs) >= 2)
        time.sleep(5)  # let the views stage catch up with the last lists
        topics = sorted(
            t
            for t in AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
            .list_topics(timeout=10)
            .topics
            if t.startswith(prefix)
        )
        everything = {t[len(prefix) :]: reader.all(t) for t in topics}
    finally:
        running_stages.assert_stopped_cleanly(workers)

    # -- no 個人番号 in any form, anywhere ------------------------------------------------
    # (The department topics hold what the vendor wrote; everything the platform wrote is
    # checked: std.*, unified.*, derived.*, internal and changelog topics, DLQs, views, audit.)
    assert NUMBER in _digits("".join(_text(r) for r in everything[REG]))  # it was sent
    for topic, records in everything.items():
        if topic in (REG, CARE, ALERTS):
            continue
        for record in records:
            assert NUMBER not in _digits(_text(record)), f"個人番号 in {topic}"
    dlq = everything["dlq." + REG]
    assert len(dlq) == 2 and all(("renkei.masked", b"my_number") in r["headers"] for r in dlq)

    # -- the protected three: never their address, 町域, household number or head name ----
    keys = home / "secrets" / "pseudonym"
    pseudonyms = {
        key.pseudonym(rk)
        for plan in view_plans()
        for key in [load_or_create_key(keys, plan.purpose)]
        for rk in PROTECTED
    }
    about = set(PROTECTED) | pseudonyms
    views = [t for t in everything if t.startswith("view.")]
    assert views
    for topic in (*OUTPUTS, *views):
        for record in everything[topic]:
            text = _text(record)
            for forbidden in FORBIDDEN:
                assert forbidden not in text, (topic, forbidden)
            decoded = record["decoded"] or {}
            if record["key"].decode() in about or decoded.get("resident_key") in about:
                assert decoded.get("address") is None, topic
                assert decoded.get("region_code") in (None, f.MUNI), topic
            for person in _persons(record):
                if person.get("resident_key") in about:
                    assert decoded["region_code"] == f.MUNI, (topic, decoded["region_code"])
                    assert person.get("address") is None and person.get("address_withheld")
                    assert not person.get("household_number")
                    assert not person.get("household_head_name")
    # ... yet all three are listed for the alert (at municipality level), and the neighbour
    # on the 町域 list with her address.
    latest = {r["key"].decode(): r["decoded"] for r in everything["derived.evacuation-support"]}
    assert {p["resident_key"] for p in latest[municipality_list]["persons"]} == set(PROTECTED)
    town = latest[f"P1:{f.REGION_A}"]["persons"]
    assert [p["resident_key"] for p in town] == [NEIGHBOUR]
    assert town[0]["address"]["address_text"] == ELSEWHERE_TEXT

    # -- views: new records, nothing shared between purposes ------------------------------
    ids: dict[bytes, str] = {}  # id → the purpose whose view carries it
    for topic in views:
        purpose = topic.split(".")[1]
        for record in everything[topic]:
            headers = dict(record["headers"])
            assert set(headers) <= VIEW_HEADERS, (topic, set(headers) - VIEW_HEADERS)
            assert headers["ce_type"] == f"jp.renkei.view.{purpose}".encode()
            assert headers["ce_source"] == f"/renkei/views/{purpose}".encode()
            event_id = (record["decoded"] or {}).get("event_id")
            for value in (headers["ce_id"], *([str(event_id).encode()] if event_id else [])):
                owner = ids.setdefault(value, purpose)
                assert owner == purpose, (value, owner, purpose)
    for topic in everything:
        if topic.startswith("std."):
            for record in everything[topic]:
                assert "x-vendor-trace" not in dict(record["headers"]), topic
