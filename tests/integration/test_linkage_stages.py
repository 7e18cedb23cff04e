"""The resident, region and evacuation workers as subprocesses on the real broker and registry.

std.* records (written with the std schemas, keyed like the standardize stage writes them) go
in; ``unified.resident``, ``unified.region`` and ``derived.evacuation-support`` are read back
with confluent-kafka's own deserializer. An alert puts the resident's region list out, a move
takes a person off it, lifting clears it; replaying every input changes no output; the
protected resident's address is in no output topic but the internal facts.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from renkei.schemas.jsonform import to_datum
from renkei.serde.avro import AvroEncoder
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from tests.conftest import AppliedSchemas, RunningStages
from tests.integration.independent_client import end_offsets, read_all
from tests.runtime.kafka_helpers import produce, read_until
from tests.stages import factories as f

pytestmark = pytest.mark.kafka
REG = "std.registry.resident.events"
CARE = "std.welfare.care.certifications"
CHECKUP = "std.health.checkup.results"
ALERTS = "std.disaster.area.alerts"
OUTPUTS = {"unified.resident": 6, "unified.region": 3, "derived.evacuation-support": 3}
ELDER, PROTECTED, ADULT = "000000000000701", "000000000000702", "000000000000703"
SECRET = f.address(rest="9番99号")


async def _publish(settings: Settings, prefix: str, records: list[tuple[str, str, dict]]) -> None:
    client = RegistryClient(settings.schema_registry_url)
    encoders: dict[str, AvroEncoder] = {}
    try:
        for topic, key, datum in records:
            if topic not in encoders:
                encoders[topic] = AvroEncoder(
                    client, f"{prefix}{topic}-value", f.spec(topic).schema
                )
                await encoders[topic].prepare()
            value = encoders[topic].encode(to_datum(f.spec(topic).schema, datum))
            await produce(settings, prefix + topic, [(key.encode(), value, [], None)])
    finally:
        await client.aclose()


def _wait(settings: Settings, topic: str, done: Any, timeout: float = 120.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    records: list[dict] = []
    while time.monotonic() < deadline:
        records = read_all(settings, topic, 10**6, timeout=3)
        if done(records):
            return records
    raise AssertionError(f"{topic}: condition not met in {timeout}s ({len(records)} records)")


def _latest(records: list[dict]) -> dict[str, dict]:
    return {r["key"]: r["value"] for r in records}


def _inputs() -> list[tuple[str, str, dict]]:
    """The protected resident's 支援措置 is recorded before the move-in is filed (申出 first): an
    output emitted before the registry flags a person cannot be recalled (see the report)."""
    elder = f.person(given="トシ", birth="1940-01-01")
    protection = f.protection_set(PROTECTED, "2026-04-01", 1)
    protection["recorded_at"] = f.at("2026-04-01", 9)
    return [
        (REG, ELDER, f.moved_in(ELDER, "2026-04-01", 1, who=elder, hh=f.household("0000000701"))),
        (REG, PROTECTED, protection),
        (
            REG,
            PROTECTED,
            f.moved_in(PROTECTED, "2026-04-01", 2, where=SECRET, hh=f.household("0000000702")),
        ),
        (CARE, PROTECTED, f.care(PROTECTED, "2026-05-01", 1, "25")),
        (REG, ADULT, f.moved_in(ADULT, "2026-04-01", 1, hh=f.household("0000000703"))),
        (CHECKUP, ADULT, f.checkup(ADULT, "2026-06-01", 1, metabolic="meets")),
    ]


LINKAGE = ("resident", "region", "evacuation")


@pytest.mark.timeout(600)
def test_linkage_workers_end_to_end(
    applied_schemas: AppliedSchemas, running_stages: RunningStages
) -> None:
    settings, prefix = applied_schemas.settings, applied_schemas.prefix
    workers = running_stages(*LINKAGE, env=applied_schemas.env, run="first")
    try:
        inputs = _inputs()
        asyncio.run(_publish(settings, prefix, inputs))

        # the household loop settles `lives_alone` after a resident's first record: wait for
        # the three residents' settled states (a wrong household never settles: the wait fails)
        def settled(records: list[dict]) -> bool:
            latest = _latest(records)
            return len(latest) == 3 and latest[ELDER]["household"]["lives_alone"] is True

        unified = _latest(_wait(settings, prefix + "unified.resident", settled))
        assert unified[ELDER]["household"]["lives_alone"] is True
        assert unified[ELDER]["evacuation_support"]["reasons"] == ["aged_75_alone"]
        assert unified[PROTECTED]["address"] is None and unified[PROTECTED]["region_code"] == f.MUNI
        _wait(settings, prefix + "unified.region", lambda r: f.REGION_A in _latest(r))

        alert = f.alert("E2E-1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,))
        asyncio.run(_publish(settings, prefix, [(ALERTS, f.REGION_A, alert)]))
        list_key, municipality_key = f"E2E-1:{f.REGION_A}", f"E2E-1:{f.MUNI}"

        def persons(records: list[dict], key: str = list_key) -> set[str] | None:
            value = _latest(records).get(key)
            return None if value is None else {p["resident_key"] for p in value["persons"]}

        # the protected resident is listed, on the municipality-level list, never the 町域 one
        _wait(
            settings,
            prefix + "derived.evacuation-support",
            lambda r: persons(r) == {ELDER} and persons(r, municipality_key) == {PROTECTED},
            timeout=60,
        )
        move = f.moved_within(
            ELDER, "2026-07-01", 3, where=f.ADDRESS_B, hh=f.household("0000000701")
        )
        asyncio.run(_publish(settings, prefix, [(REG, ELDER, move)]))
        _wait(settings, prefix + "derived.evacuation-support", lambda r: persons(r) == set())
        lifted = f.alert("E2E-1", "lifted", 4, "2026-07-02", 2, regions=(f.REGION_A,))
        asyncio.run(_publish(settings, prefix, [(ALERTS, f.REGION_A, lifted)]))
        records = _wait(
            settings,
            prefix + "derived.evacuation-support",
            lambda r: _latest(r).get(list_key, {}).get("status") == "lifted",
        )
        assert _latest(records)[list_key]["persons"] == []

        before = {t: end_offsets(settings, prefix + t, n) for t, n in OUTPUTS.items()}
        asyncio.run(
            _publish(settings, prefix, [*inputs, (REG, ELDER, move), (ALERTS, f.REGION_A, lifted)])
        )
        time.sleep(15)
        after = {t: end_offsets(settings, prefix + t, n) for t, n in OUTPUTS.items()}
        assert after == before, "replaying the inputs changed an output"

        secret = SECRET["address_text"].encode()
        for topic in OUTPUTS:
            raw = asyncio.run(read_until(settings, prefix + topic, lambda r: False, timeout=5))
            assert raw and all(secret not in (r.value or b"") for r in raw), topic
        facts = asyncio.run(
            read_until(settings, prefix + "internal.resident.facts", lambda r: False, 5)
        )
        assert any(secret in (r.value or b"") for r in facts)  # internal: unredacted by design
    finally:
        running_stages.assert_stopped_cleanly(workers)

    # A restart with empty local state: the tables recover from their changelogs, so replaying
    # every input still changes nothing, and the lists go on from the recovered state.
    workers = running_stages(*LINKAGE, env=applied_schemas.env, run="second")
    try:
        asyncio.run(_publish(settings, prefix, [*inputs, (REG, ELDER, move)]))
        alert_b = f.alert("E2E-2", "issued", 4, "2026-07-03", 3, regions=(f.REGION_B,))
        asyncio.run(_publish(settings, prefix, [(ALERTS, f.REGION_B, alert_b)]))
        key_b = f"E2E-2:{f.REGION_B}"
        records = _wait(
            settings, prefix + "derived.evacuation-support", lambda r: key_b in _latest(r)
        )
        assert [p["resident_key"] for p in _latest(records)[key_b]["persons"]] == [ELDER]
        time.sleep(5)
        final = {t: end_offsets(settings, prefix + t, n) for t, n in OUTPUTS.items()}
        assert final["unified.resident"] == before["unified.resident"]
        assert final["unified.region"] == before["unified.region"]
        # the 町域 list of E2E-2 and its municipality-level list (empty: nobody protected there)
        assert final["derived.evacuation-support"] == before["derived.evacuation-support"] + 2
    finally:
        running_stages.assert_stopped_cleanly(workers)
