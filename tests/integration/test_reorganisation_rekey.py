"""Residents re-keyed when a reorganisation takes effect, without a new event (real broker and
registry, workers as subprocesses).

Twelve residents of 浜松市中区 元城町 were standardized before the platform knew the 2024-01-01
reorganisation: their std records carry 中区's codes as today's (``current_region_code``
221317:4300946), so they count there. Then ``renkei ref load`` publishes the shipped release
(浜松市's seven wards → three). With no new registry event, the resident worker re-keys them:
``unified.resident`` says 中央区 (221384:4300946), ``unified.region`` moves the figures from
the old ward to the new one, and an alert on the new 町域 lists the elderly resident. Restarting
the worker (another scan) and replaying the inputs change nothing.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from renkei.schemas.jsonform import to_datum
from renkei.serde.avro import AvroEncoder
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from tests.conftest import AppliedSchemas, RunningStages
from tests.integration.independent_client import read_all
from tests.runtime.kafka_helpers import produce
from tests.stages import factories as f

# long: ~6 min (a reference release of 120 k postal records read by three workers); CI leaves
# it out, `make test` / `make test-long` run it (README).
pytestmark = [pytest.mark.kafka, pytest.mark.long]
REG = "std.registry.resident.events"
ALERTS = "std.disaster.area.alerts"
RENKEI = str(Path(sys.executable).parent / "renkei")
OWNER = "221309"  # 浜松市
NAKA, CHUO, POSTAL = "221317", "221384", "4300946"  # 中区 (retired 2023-12-31) → 中央区, 元城町
OLD, NEW = f"{NAKA}:{POSTAL}", f"{CHUO}:{POSTAL}"
ELDER = "000000000000901"
KEYS = [f"{900 + n:015d}" for n in range(1, 13)]


def _address() -> dict[str, Any]:
    """元城町 as standardize wrote it in 2023, before any release knew the change."""
    return {
        "address_text": "静岡県浜松市中区元城町103番地の2",
        "prefecture": "静岡県",
        "city": "浜松市中区",
        "town": "元城町",
        "chome": None,
        "rest": "103番地の2",
        "building": None,
        "postal_code": POSTAL,
        "municipality_code": NAKA,
        "region_code": OLD,
        "current_municipality_code": NAKA,
        "current_region_code": OLD,
    }


def _inputs() -> list[tuple[str, str, dict]]:
    records = []
    for n, key in enumerate(KEYS, start=1):
        who = f.person(given="トシ", birth="1940-01-01") if key == ELDER else f.person()
        event = f.moved_in(
            key, "2023-06-01", 1, who=who, where=_address(), hh=f.household(f"{n:010d}"), muni=NAKA
        )
        records.append((REG, key, event))
    return records


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


def _wait(settings: Settings, topic: str, done: Any, timeout: float = 180.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    records: list[dict] = []
    while time.monotonic() < deadline:
        records = read_all(settings, topic, 10**6, timeout=3)
        if done(records):
            return records
    raise AssertionError(f"{topic}: condition not met in {timeout}s ({len(records)} records)")


def _latest(records: list[dict]) -> dict[str, dict]:
    return {r["key"]: r["value"] for r in records}


def _ref_load(applied: AppliedSchemas) -> str:
    """``renkei ref load`` as a user runs it; the release name it published."""
    result = subprocess.run(
        [RENKEI, "ref", "load", "--municipality", OWNER],
        env={**os.environ, **applied.env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.split("published ", 1)[1].split(" ", 1)[0]


@pytest.mark.timeout(1200)
def test_residents_of_a_retired_ward_are_rekeyed_when_the_release_arrives(
    applied_schemas: AppliedSchemas, running_stages: RunningStages
) -> None:
    settings, prefix = applied_schemas.settings, applied_schemas.prefix
    unified_topic, region_topic = prefix + "unified.resident", prefix + "unified.region"
    workers = running_stages("resident", "region", "evacuation", env=applied_schemas.env)
    resident = workers["resident"]
    inputs = _inputs()
    asyncio.run(_publish(settings, prefix, inputs))

    def all_in(code: str) -> Any:
        def done(records: list[dict]) -> bool:
            latest = _latest(records)
            return set(latest) == set(KEYS) and {v["region_code"] for v in latest.values()} == {
                code
            }

        return done

    def population(code: str) -> Any:
        return lambda records: _latest(records).get(code, {}).get("population")

    _wait(settings, unified_topic, all_in(OLD))
    _wait(settings, region_topic, lambda r: population(OLD)(r) == 12)
    assert NEW not in _latest(read_all(settings, region_topic, 10**6, timeout=3))

    release = _ref_load(applied_schemas)
    resident.wait_for(f"re-keying with reference release {release}", timeout=300)
    unified = _latest(_wait(settings, unified_topic, all_in(NEW)))
    rekeyed = re.findall(r"re-keyed (\d+) residents of partition", resident.output())
    assert sum(int(n) for n in rekeyed) == len(KEYS), resident.output()[-3000:]
    # the address keeps the codes of its date: the registry's record of 2023
    assert {v["address"]["region_code"] for v in unified.values()} == {OLD}
    assert unified[ELDER]["evacuation_support"]["reasons"] == ["aged_75_alone"]
    regions = _latest(
        _wait(
            settings,
            region_topic,
            lambda r: population(NEW)(r) == 12 and population(CHUO)(r) == 12,
        )
    )
    for old in (OLD, NAKA):  # nobody left: 0, below k, so shown as suppressed
        assert regions[old]["population"] is None, regions[old]
        assert "population" in regions[old]["suppressed"]
    assert regions[NEW]["move_ins_total"] is None  # a re-key is no 転入 (0, suppressed)

    # the evacuation stage follows: an alert on the new 町域 lists the elderly resident
    alert = f.alert("RK-1", "issued", 4, "2026-07-01", 1, regions=(NEW,))
    asyncio.run(_publish(settings, prefix, [(ALERTS, NEW, alert)]))
    support = _latest(
        _wait(
            settings,
            prefix + "derived.evacuation-support",
            lambda r: f"RK-1:{NEW}" in _latest(r),
        )
    )
    assert {p["resident_key"] for p in support[f"RK-1:{NEW}"]["persons"]} == {ELDER}

    # idempotent: a restarted worker scans again, and the inputs replayed, change nothing
    counts = {
        t: len(read_all(settings, t, 10**6, timeout=3)) for t in (unified_topic, region_topic)
    }
    running_stages.assert_stopped_cleanly({"run:resident": resident})
    # another local folder: the tables come back from their changelogs
    again = running_stages("resident", env=applied_schemas.env, run="again")["resident"]
    again.wait_for(f"re-keying with reference release {release}", timeout=300)
    deadline = time.monotonic() + 120
    while again.output().count("re-keyed 0 residents") < 6 and time.monotonic() < deadline:
        time.sleep(1)
    assert again.output().count("re-keyed 0 residents") == 6, again.output()[-3000:]
    asyncio.run(_publish(settings, prefix, inputs))  # the same events again (a replay)
    time.sleep(10)
    after = {t: len(read_all(settings, t, 10**6, timeout=3)) for t in (unified_topic, region_topic)}
    assert after == counts
    running_stages.assert_stopped_cleanly()
