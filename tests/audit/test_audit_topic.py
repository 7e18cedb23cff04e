"""The Kafka copy: every audit record also lands on ``audit.access`` (created when missing),
readable by an independent Confluent client, keyed by kind, in chain order."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest

from renkei.audit import AuditFile, AuditLog
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
