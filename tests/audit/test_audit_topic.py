"""The Kafka copy: every audit record also lands on ``audit.access`` (created when missing),
readable by an independent Confluent client, keyed by kind, in chain order."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from renkei.audit import AuditFile, AuditLog
from renkei.cli import cli
from renkei.settings import Settings
from tests.integration.independent_client import read_all


@pytest.mark.kafka
@pytest.mark.timeout(120)
def test_records_are_produced_to_the_audit_topic(live_stack: Settings, tmp_path: Path) -> None:
    prefix = f"test-{uuid.uuid4().hex[:10]}."
    settings = live_stack.model_copy(update={"home": tmp_path, "topic_prefix": prefix})

    async def scenario() -> None:
        audit = AuditLog.open(settings)
        try:
            await audit.record("agreements.applied", actor="cli:test", details={"agreements": 2})
            await audit.record(
                "evacuation.released",
                actor="stage:evacuation",
                details={"alert_id": "A-1", "people": 11},
            )
        finally:
            await audit.aclose()

    asyncio.run(scenario())
    local = AuditFile(tmp_path / "audit" / "audit.jsonl").records()
    copies = read_all(settings, f"{prefix}audit.access", expected=2)
    assert [c["key"] for c in copies] == ["agreements.applied", "evacuation.released"]
    assert [c["value"]["hash"] for c in copies] == [r["hash"] for r in local]
    assert [c["value"]["prev_hash"] for c in copies] == [r["prev_hash"] for r in local]
    assert json.loads(copies[1]["value"]["details"]) == {"alert_id": "A-1", "people": 11}
    assert copies[1]["value"]["sequence"] == 1
    assert copies[0]["headers"]["ce_type"] == "jp.renkei.audit.access"


@pytest.mark.kafka
@pytest.mark.timeout(120)
def test_verify_against_the_topic_catches_a_consistently_rewritten_file(
    live_stack: Settings, tmp_path: Path
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:10]}."
    settings = live_stack.model_copy(update={"home": tmp_path, "topic_prefix": prefix})

    async def scenario() -> None:
        audit = AuditLog.open(settings)
        try:
            for people in (3, 4, 5):
                await audit.record(
                    "evacuation.released", actor="stage:t", details={"people": people}
                )
        finally:
            await audit.aclose()

    asyncio.run(scenario())
    path = tmp_path / "audit" / "audit.jsonl"
    env = {"RENKEI_TOPIC_PREFIX": prefix, "RENKEI_HOME": str(tmp_path)}
    args = ["audit", "verify", "--file", str(path), "--against-topic"]
    intact = CliRunner().invoke(cli, args, env=env)
    assert intact.exit_code == 0, intact.output
    assert "3 matched on the topic" in intact.output

    # A forger with write access rebuilds the whole chain and head with one count changed.
    forged = AuditFile(tmp_path / "forged" / "audit.jsonl")
    for people in (3, 40, 5):
        forged.append("evacuation.released", "stage:t", {"people": people})
    path.write_bytes(forged.path.read_bytes())
    AuditFile(path).head_path.write_bytes(forged.head_path.read_bytes())
    assert AuditFile(path).verify().ok  # the chain alone cannot tell
    caught = CliRunner().invoke(cli, args, env=env)
    assert caught.exit_code == 1
    assert "differs from its topic copy" in caught.output
