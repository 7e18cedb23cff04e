"""Views, retraction and the release audit on the real broker and registry.

resident, region, evacuation and views run as worker subprocesses under a test topic prefix;
std.* records go in; outputs and views are read back with confluent-kafka's own deserializer.
A downstream app's view holds only its agreed fields under per-purpose pseudonyms; a 支援措置
filed after the resident's records went out retracts the address from every output and view;
the disaster-mode list writes ``evacuation.released``; the audit chain verifies.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluent_kafka.admin import AdminClient, ConfigResource

from renkei.audit import AuditFile
from renkei.cli import cli
from renkei.contracts.views import view_catalogue
from renkei.schemas.catalogue import load_catalogue
from renkei.schemas.jsonform import to_datum
from renkei.serde.avro import AvroEncoder
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from renkei.stages.views.pseudonym import load_or_create_key
from renkei.subscribe import Subscriber
from tests.conftest import AppliedSchemas, RunningStages
from tests.integration.independent_client import read_all
from tests.runtime.kafka_helpers import free_port_block, produce
from tests.stages import factories as f
from tests.stages.views.harness import view_plans

pytestmark = pytest.mark.kafka
REG, CARE = "std.registry.resident.events", "std.welfare.care.certifications"
ALERTS = "std.disaster.area.alerts"
NOTIFIER = "view.evacuation-support.evacuation-support"
STAFF = "view.resident-services.resident"
HEALTH = "view.health-promotion.resident"
ELDER, OTHER = "000000000000961", "000000000000962"
STAGES = ("resident", "region", "evacuation", "views")


async def _publish(settings: Settings, prefix: str, records: list[tuple[str, str, dict]]) -> None:
    client = RegistryClient(settings.schema_registry_url)
    try:
        for topic, key, datum in records:
            encoder = AvroEncoder(client, f"{prefix}{topic}-value", f.spec(topic).schema)
            await encoder.prepare()
            value = encoder.encode(to_datum(f.spec(topic).schema, datum))
            await produce(settings, prefix + topic, [(key.encode(), value, [], None)])
    finally:
        await client.aclose()


def _latest(settings: Settings, topic: str, done: Any, timeout: float = 120.0) -> dict[str, Any]:
    """The latest value per key of ``topic`` once ``done(latest)`` holds."""
    deadline = time.monotonic() + timeout
    latest: dict[str, Any] = {}
    while time.monotonic() < deadline:
        latest = {r["key"]: r["value"] for r in read_all(settings, topic, 10**6, timeout=3)}
        if done(latest):
            return latest
    raise AssertionError(f"{topic}: condition not met in {timeout}s: {list(latest)}")


def _compaction_lag(settings: Settings, topic: str) -> str:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    (future,) = admin.describe_configs([ConfigResource("topic", topic)]).values()
    return str(future.result(timeout=10)["max.compaction.lag.ms"].value)


async def _read_view(settings: Settings, prefix: str, topic: str) -> dict[str, Any]:
    """What a downstream app sees: the first record of its view through the subscriber SDK."""
    catalogue = view_catalogue(load_catalogue(settings.schemas_dir), view_plans(), prefix)
    async with Subscriber(
        settings, catalogue, prefix + topic, group_id=f"{prefix}app-test"
    ) as subscriber:
        async for record in subscriber:
            assert record.value is not None
            return {"key": record.key, "value": record.value.model_dump()}
    raise AssertionError("the view ended")


def _person(latest: dict[str, Any], list_key: str) -> dict[str, Any] | None:
    persons = (latest.get(list_key) or {}).get("persons") or []
    return persons[0] if persons else None


@pytest.mark.timeout(600)
def test_views_retraction_and_release_audit_on_the_real_stack(
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
    list_key = f"L1:{f.REGION_A}"
    address = f.ADDRESS_A["address_text"]
    try:
        elder = f.person(given="トシ", birth="1940-01-01")
        asyncio.run(
            _publish(
                settings,
                prefix,
                [
                    (REG, ELDER, f.moved_in(ELDER, "2026-04-01", 1, who=elder)),
                    (REG, OTHER, f.moved_in(OTHER, "2026-04-01", 1, hh=f.household("0000000962"))),
                    (CARE, ELDER, f.care(ELDER, "2026-05-01", 1, "25")),
                    (ALERTS, f.REGION_A, f.alert("L1", "issued", 4, "2026-07-01", 1)),
                ],
            )
        )
        keys = home / "secrets" / "pseudonym"
        staff_key = load_or_create_key(keys, "resident-services").pseudonym(ELDER)
        health_key = load_or_create_key(keys, "health-promotion").pseudonym(ELDER)
        assert staff_key != health_key

        # Published with the address first: the list, its view, the staff view.
        listed = _latest(settings, prefix + NOTIFIER, lambda v: _person(v, list_key) is not None)
        assert _person(listed, list_key)["address"]["address_text"] == address
        assert _person(listed, list_key)["resident_key"] != ELDER
        staff = _latest(settings, prefix + STAFF, lambda v: staff_key in v)
        assert staff[staff_key]["address"]["address_text"] == address
        assert staff[staff_key]["resident_key"] == staff_key
        health = _latest(settings, prefix + HEALTH, lambda v: health_key in v)
        assert set(health[health_key]) == {
            "resident_key",
            "age",
            "sex",
            "region_code",
            "checkup",
            "pseudonym_key_id",
        }
        app_view = asyncio.run(asyncio.wait_for(_read_view(settings, prefix, HEALTH), 60))
        assert set(app_view["value"]) == set(health[health_key])
        assert app_view["key"] in health and app_view["key"] != ELDER
        # The regional dashboard reads audited snapshots only (tests/disclosure/).

        # The 支援措置 arrives later: every output and view is superseded without the address.
        protection = f.protection_set(ELDER, "2026-07-02", 2)
        asyncio.run(_publish(settings, prefix, [(REG, ELDER, protection)]))
        unified = _latest(
            settings, prefix + "unified.resident", lambda v: (v.get(ELDER) or {}).get("protected")
        )
        assert unified[ELDER]["address"] is None and unified[ELDER]["region_code"] == f.MUNI
        # off the 町域 list, onto the alert's municipality-level list without the address
        municipality_key = f"L1:{f.MUNI}"
        derived = _latest(
            settings,
            prefix + "derived.evacuation-support",
            lambda v: (
                (_person(v, municipality_key) or {}).get("address_withheld")
                and _person(v, list_key) is None
            ),
        )
        assert _person(derived, municipality_key)["address"] is None
        listed = _latest(
            settings,
            prefix + NOTIFIER,
            lambda v: (
                (_person(v, municipality_key) or {}).get("address_withheld")
                and _person(v, list_key) is None
            ),
        )
        assert _person(listed, municipality_key)["address"] is None
        staff = _latest(settings, prefix + STAFF, lambda v: v[staff_key]["protected"])
        assert staff[staff_key]["address"] is None
        # ... and the superseded values are compacted away within a day, not kept for ever.
        for topic in ("unified.resident", "derived.evacuation-support", STAFF, NOTIFIER):
            assert _compaction_lag(settings, prefix + topic) == "86400000", topic
    finally:
        running_stages.assert_stopped_cleanly(workers)

    audit = AuditFile(home / "audit" / "audit.jsonl")
    records = audit.records()
    released = [r for r in records if r["kind"] == "evacuation.released"]
    # One record per list sent: the alert may be processed before the elder's facts arrive
    # (an empty list, released and audited too), then the list with the elder.
    assert released and {r["details"]["alert_id"] for r in released} == {"L1"}
    assert {r["details"]["mode"] for r in released} == {"disaster"}
    assert max(r["details"]["people"] for r in released) == 1
    assert {r["details"]["region_code"] for r in released} == {f.REGION_A, f.MUNI}
    delivered = [r for r in records if r["kind"] == "view.delivered"]
    agreements = {d["agreement"] for r in delivered for d in r["details"]["deliveries"]}
    assert {"evacuation-notifier", "resident-services-staff", "health-promotion"} <= agreements
    assert ELDER not in audit.path.read_text() and address not in audit.path.read_text()
    verified = CliRunner().invoke(cli, ["audit", "verify", "--file", str(audit.path)])
    assert verified.exit_code == 0, verified.output
    # Several processes append: the topic's order may differ, the sequence is authoritative.
    copies = read_all(settings, f"{prefix}audit.access", expected=len(records))
    by_sequence = sorted(copies, key=lambda c: c["value"]["sequence"])
    assert [c["value"]["hash"] for c in by_sequence] == [r["hash"] for r in records]
