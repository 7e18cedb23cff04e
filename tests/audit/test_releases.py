"""Audit of evacuation-list releases: which records count as a disaster release, and the
operator's switch recorded when the evacuation stage starts with it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from renkei.audit import AuditFile, AuditLog
from renkei.audit.releases import audit_releases, correction_details, release_details
from renkei.settings import Settings
from renkei.stages.evacuation.stage import build_evacuation
from tests.runtime.fake_registry import FakeRegistry


def _list(**over: Any) -> dict[str, Any]:
    datum = {
        "list_key": "A1:011011:0640941",
        "alert_id": "A1",
        "region_code": "011011:0640941",
        "level": 4,
        "hazard": "flood",
        "mode": "disaster",
        "status": "active",
        "sequence": 2,
        "count": 7,
        "persons": [{"resident_key": "000000000000001", "name": "x"}],
    }
    return {**datum, **over}


def test_only_active_disaster_mode_lists_are_releases() -> None:
    details = release_details(_list(), operator_override=False)
    assert details == {
        "alert_id": "A1",
        "list_key": "A1:011011:0640941",
        "region_code": "011011:0640941",
        "level": 4,
        "hazard": "flood",
        "mode": "disaster",
        "operator_override": False,
        "revision": 2,
        "people": 7,
    }
    assert release_details(_list(mode="normal"), operator_override=False) is None
    assert release_details(_list(status="lifted"), operator_override=True) is None


def test_the_operator_switch_is_audited_when_the_stage_starts(tmp_path: Path) -> None:
    async def scenario() -> None:
        async def send(*_: Any) -> None:
            return None

        app = build_evacuation(
            Settings(home=tmp_path, evacuation_disaster_mode=True),
            web_port=16998,
            store="memory://",
            registry=FakeRegistry().client(),
            send=send,  # type: ignore[arg-type]
        )
        await app.startup_hooks[-1]()

    asyncio.run(scenario())
    (record,) = AuditFile(tmp_path / "audit" / "audit.jsonl").records()
    assert record["kind"] == "evacuation.disaster_mode"
    assert record["details"] == {"disaster_mode": True}


def test_a_corrected_version_writes_its_own_audit_record_in_either_mode(tmp_path: Path) -> None:
    fix = {"corrects_sequence": 2, "added": 0, "removed": 1}
    corrected = _list(mode="normal", level=3, sequence=3, count=6, correction=fix)
    assert correction_details(_list()) is None
    assert correction_details(corrected) == {
        "alert_id": "A1",
        "list_key": "A1:011011:0640941",
        "region_code": "011011:0640941",
        "level": 3,
        "mode": "normal",
        "status": "active",
        "revision": 3,
        "corrects_revision": 2,
        "added": 0,
        "removed": 1,
        "people": 6,
    }
    path = tmp_path / "audit.jsonl"
    log = AuditLog(AuditFile(path), None)
    disaster = _list(sequence=4, correction={**fix, "corrects_sequence": 3})
    written = asyncio.run(
        audit_releases(log, "stage:evacuation", [corrected, disaster], operator_override=False)
    )
    kinds = [(r["kind"], r["details"]["revision"]) for r in AuditFile(path).records()]
    assert written == 3
    assert kinds == [
        ("evacuation.corrected", 3),
        ("evacuation.released", 4),
        ("evacuation.corrected", 4),
    ]
    assert "000000000000001" not in str(AuditFile(path).records())  # counts only, never who
