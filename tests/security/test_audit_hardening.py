"""The audit cannot be silenced by one oversized field, names who received lists, and its
pseudonym-key folder must be private (issue 14 findings)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from evacuation_notifier.__main__ import SERVED, TOPIC, build_app, served_details
from evacuation_notifier.board import Board
from renkei.audit import AuditLog
from renkei.audit.chain import MAX_DETAILS_BYTES, MAX_TEXT, encode_line, new_record, record_hash
from renkei.audit.releases import audit_releases
from renkei.audit.store import AuditFile
from renkei.errors import ConfigurationError
from renkei.settings import Settings
from renkei.stages.views.pseudonym import load_or_create_key

HUGE = "A" * 70_000


def _release(alert_id: str, sequence: int) -> dict[str, object]:
    return {
        "mode": "disaster",
        "status": "active",
        "alert_id": alert_id,
        "list_key": f"{alert_id[:8]}:141500",
        "region_code": "141500",
        "level": 5,
        "hazard": "flood",
        "sequence": sequence,
        "count": 3,
    }


def test_a_70_kb_alert_id_neither_wedges_the_chain_nor_bloats_it(tmp_path: Path) -> None:
    audit = AuditLog.open(Settings(home=tmp_path), path=tmp_path / "a.jsonl", produce=False)
    data = [_release(HUGE, 1), _release("A2", 2), _release("A3", 3)]
    written = asyncio.run(audit_releases(audit, "stage:evacuation", data, operator_override=False))
    assert written == 3  # the releases after the huge one are audited too
    records = audit.file.records()
    assert [r["sequence"] for r in records] == [0, 1, 2]
    first = records[0]["details"]["alert_id"]
    assert len(first) < MAX_TEXT * 2 and "70000 chars, sha256:" in first
    assert records[1]["details"]["alert_id"] == "A2"
    assert audit.file.verify().ok


def test_the_tail_reader_finds_a_last_line_longer_than_its_chunk(tmp_path: Path) -> None:
    """A record written before the bound (or by another writer) may exceed 64 KiB: the chain
    still continues from it."""
    file = AuditFile(tmp_path / "a.jsonl")
    first = file.append("x.first", "a", {"n": 1})
    # A long record as an older version would have written it (no bound on details).
    long = new_record(
        sequence=1, prev_hash=first["hash"], kind="x.long", actor="a", details={"n": 2}
    )
    long["details"] = {"blob": "B" * 200_000}
    long["hash"] = record_hash(long["prev_hash"], long)
    with open(file.path, "ab") as handle:
        handle.write(encode_line(long))
    third = file.append("x.third", "a", {"n": 3})
    assert third["sequence"] == 2 and third["prev_hash"] == long["hash"]
    assert os.path.getsize(file.path) > 200_000


def test_oversized_details_are_replaced_by_their_digest(tmp_path: Path) -> None:
    file = AuditFile(tmp_path / "a.jsonl")
    many = {f"k{i}": "v" * 200 for i in range(200)}
    record = file.append("x.many", "a" * 1000, many)
    assert set(record["details"]) == {"oversized"}
    assert record["details"]["oversized"]["bytes"] > MAX_DETAILS_BYTES
    assert len(record["actor"]) < 200
    assert file.verify().ok


async def test_the_notifier_audits_each_lists_answer_naming_the_client(tmp_path: Path) -> None:
    board = Board()
    board.apply(
        {
            "list_key": "A1:141500",
            "alert_id": "A1",
            "status": "active",
            "level": 5,
            "mode": "disaster",
            "persons": [{"resident_key": "p1"}, {"resident_key": "p2"}],
        }
    )
    audit = AuditLog.open(Settings(home=tmp_path), path=tmp_path / "a.jsonl", produce=False)
    async with TestClient(TestServer(build_app(board, audit, "app:evacuation_notifier"))) as c:
        answer = await (await c.get("/lists")).json()
    assert answer["active_lists"] == 1
    [record] = audit.file.records()
    assert record["kind"] == SERVED and record["details"]["users"] == ["127.0.0.1"]
    assert record["details"]["views"] == [TOPIC] and record["details"]["persons_total"] == 2
    assert "p1" not in (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    assert served_details({"active_lists": 0, "lists": []}, "x") is None


def test_an_open_pseudonym_key_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "pseudonym"
    load_or_create_key(folder, "p")  # created 0700
    folder.chmod(0o755)
    with pytest.raises(ConfigurationError, match="chmod 700"):
        load_or_create_key(folder, "p")


def test_a_failed_append_raises_an_alert_and_is_kept_until_the_file_accepts_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "a.jsonl"
    audit = AuditLog.open(Settings(home=tmp_path), path=path, produce=False)
    data = [_release("A1", 1), _release("A2", 2)]
    asyncio.run(audit_releases(audit, "stage:evacuation", data[:1], operator_override=False))
    good = path.read_bytes()
    path.write_bytes(good + b'{"damaged')  # a torn write: the chain cannot be extended
    written = asyncio.run(
        audit_releases(audit, "stage:evacuation", data[1:], operator_override=False)
    )
    assert written == 0  # the list went out; its record is pending, not lost
    assert "OPERATOR ALERT" in caplog.text
    assert audit.pending_path.read_text(encoding="utf-8").count('"A2"') == 1
    path.write_bytes(good)  # the operator repairs the file (renkei audit verify)
    later = asyncio.run(audit.record("dlq.replay", actor="cli", details={"records": 1}))
    records = audit.file.records()
    assert [r["details"].get("alert_id") for r in records] == ["A1", "A2", None]
    assert "delayed_from" in records[1]["details"] and later["sequence"] == 2
    assert audit.pending_path.read_text(encoding="utf-8") == ""
    assert audit.file.verify().ok
