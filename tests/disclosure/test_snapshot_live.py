"""The snapshot job on the real broker and registry, end to end to the dashboard's view.

The resident and views stages run as workers under a test prefix; registry events go in
(residents of two 町域, one of them then under a 支援措置); the job reads one cut of
internal.resident.facts, publishes one audited derived.region-snapshot record, and the
regional-dashboard view carries only its agreed fields of it. ``renkei disclosure snapshot``
runs the same job from the CLI.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from renkei.audit import AuditFile
from renkei.cli import cli
from renkei.disclosure.job import take_snapshot
from renkei.disclosure.release import DisclosureRules
from renkei.disclosure.table import TOTAL, UNALLOCATED
from renkei.schemas.jsonform import to_datum
from renkei.serde.avro import AvroEncoder
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from tests.conftest import AppliedSchemas, RunningStages
from tests.integration.independent_client import read_all
from tests.runtime.kafka_helpers import free_port_block, produce
from tests.stages import factories as f

pytestmark = pytest.mark.kafka
REG = "std.registry.resident.events"
SNAPSHOT = "derived.region-snapshot"
DASHBOARD = "view.regional-dashboard.region-snapshot"
STAGES = ("resident", "views")
IN_A, IN_B = 24, 13
PROTECTED = "000000000009999"


def _key(n: int) -> str:
    return f"{n:015d}"


def _events() -> list[tuple[str, str, dict[str, Any]]]:
    events = []
    for n in range(IN_A + IN_B):
        where = f.ADDRESS_A if n < IN_A else f.ADDRESS_B
        who = f.person(given=f"住民{n}", birth=f"{1950 + n}-05-01")
        hh = f.household(f"{7000000000 + n:010d}")
        events.append(
            (REG, _key(n), f.moved_in(_key(n), "2026-04-01", 1, who=who, where=where, hh=hh))
        )
    who = f.person(family="山本", given="花子", birth="1990-05-01", sex="female")
    hh = f.household("0000009999")
    # In 町域 A but at a dwelling of her own: 支援措置 covers everyone at the protected address
    # (docs/privacy.md), so sharing ADDRESS_A would take the 24 neighbours out of the 町域 too.
    home = f.address(rest="1番1号")
    events.append(
        (REG, PROTECTED, f.moved_in(PROTECTED, "2026-04-01", 1, who=who, where=home, hh=hh))
    )
    events.append((REG, PROTECTED, f.protection_set(PROTECTED, "2026-04-02", 2)))
    return events


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
    deadline = time.monotonic() + timeout
    latest: dict[str, Any] = {}
    while time.monotonic() < deadline:
        latest = {r["key"]: r["value"] for r in read_all(settings, topic, 10**6, timeout=3)}
        if done(latest):
            return latest
    raise AssertionError(f"{topic}: condition not met in {timeout}s: {len(latest)} keys")


@pytest.mark.timeout(600)
def test_snapshot_job_publishes_an_audited_table_to_the_dashboard_view(
    live_stack: Settings,
    applied_schemas: AppliedSchemas,
    running_stages: RunningStages,
    tmp_path: Path,
) -> None:
    settings, prefix = live_stack, applied_schemas.prefix
    home = tmp_path / "home"
    env = {**applied_schemas.env, "RENKEI_HOME": str(home)}
    running_stages(*STAGES, env=env, web_port_base=free_port_block(len(STAGES)))
    asyncio.run(_publish(settings, prefix, _events()))
    everyone = IN_A + IN_B + 1
    facts = _latest(
        settings,
        prefix + "internal.resident.facts",
        lambda v: len(v) == everyone and (v.get(PROTECTED) or {}).get("protected"),
    )
    assert facts[PROTECTED]["region_code"] == f.REGION_A  # unredacted inside the platform

    job_settings = settings.model_copy(update={"topic_prefix": prefix, "home": home})
    report = asyncio.run(take_snapshot(job_settings, DisclosureRules()))
    assert report.published and not report.refused and report.residents == everyone
    [release] = report.releases
    table = release.table
    # The protected resident is counted in the municipality only, never in her 町域.
    assert table.value((f.REGION_A, "population")) == IN_A
    assert table.value((UNALLOCATED, "population")) == 1
    assert table.value((TOTAL, "population")) == everyone
    assert release.suppression.audit.passed

    published = _latest(settings, prefix + SNAPSHOT, lambda v: f.MUNI in v)[f.MUNI]
    assert published["audit"]["passed"] is True
    regions = {r["region_code"]: r for r in published["regions"]}
    assert set(regions) == {f.REGION_A, f.REGION_B, f.MUNI}
    for region in regions.values():
        for band in region["age_bands"]:
            assert band["count"] is None or band["count"] >= 10
        assert region["metabolic_syndrome_rate"] is None  # nobody examined: 0 < k
    # Both 町域 have ≥ k residents, yet one is hidden: with both 町域 populations shown,
    # municipality − Σ 町域 would be the protected resident (the margin attack), so the
    # audit-backed complement hides one of them (the solver picks which).
    hidden = [
        code
        for code in (f.REGION_A, f.REGION_B)
        if (code, "population") in release.suppression.complementary
    ]
    assert hidden, release.suppression.complementary
    for code in hidden:
        assert regions[code]["population"] is None
        assert "population" in regions[code]["suppressed"]
    total = regions[f.MUNI]["population"]
    assert total is not None and abs(total - everyone) <= 8  # perturbed, not exact

    view = _latest(settings, prefix + DASHBOARD, lambda v: f.MUNI in v)[f.MUNI]
    assert "audit" not in view and "event_id" not in view
    assert set(view) == {
        "municipality_code",
        "effective_date",
        "checkup_fiscal_year",
        "k_threshold",
        "perturbation",
        "regions",
    }
    assert {r["region_code"] for r in view["regions"]} == set(regions)
    assert set(view["regions"][0]) == {
        "region_code",
        "level",
        "population",
        "age_bands",
        "households",
        "households_with_children_under_15",
        "checkup_participation_rate",
        "metabolic_syndrome_rate",
        "suppressed",
    }

    # The audit log holds one release record, with counts only.
    records = [
        r
        for r in AuditFile(home / "audit" / "audit.jsonl").records()
        if r["kind"] == "disclosure.released"
    ]
    assert len(records) == 1 and records[0]["details"]["municipalities"] == [f.MUNI]

    # The CLI runs the same job; nothing changed, so the same figures come out.
    result = CliRunner().invoke(
        cli,
        ["disclosure", "snapshot", "--json"],
        env={**env, "RENKEI_KAFKA_BOOTSTRAP": settings.kafka_bootstrap},
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["published"] is True and summary["municipalities"] == [f.MUNI]
    again = _latest(
        settings, prefix + SNAPSHOT, lambda v: v[f.MUNI]["sequence"] > published["sequence"]
    )[f.MUNI]
    assert again["regions"] == published["regions"]
