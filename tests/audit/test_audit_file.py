"""The local audit file: chain, head, tamper detection and concurrent appends."""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing
import stat
from pathlib import Path

import pytest

from renkei.audit import GENESIS, AuditFile, AuditLog, canonical_json, record_hash
from renkei.errors import AuditError
from renkei.settings import Settings


def _filled(path: Path, count: int = 5) -> AuditFile:
    file = AuditFile(path)
    for number in range(count):
        file.append("dlq.replay", "cli:test", {"topic": "dlq.x", "records": number})
    return file


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_records_are_chained_from_genesis(tmp_path: Path) -> None:
    file = _filled(tmp_path / "audit.jsonl", 3)
    records = file.records()
    assert [r["sequence"] for r in records] == [0, 1, 2]
    assert records[0]["prev_hash"] == GENESIS
    for previous, record in itertools.pairwise(records):
        assert record["prev_hash"] == previous["hash"]
    body = {k: v for k, v in records[1].items() if k != "hash"}
    assert records[1]["hash"] == record_hash(records[0]["hash"], body)
    # Each line is canonical JSON, so the bytes on disk are what the hash covers.
    first = _lines(file.path)[0].rstrip(b"\n").decode()
    assert first == canonical_json(json.loads(first))


def test_untouched_log_verifies(tmp_path: Path) -> None:
    result = _filled(tmp_path / "audit.jsonl").verify()
    assert result.ok, result.problems
    assert result.records == 5 and result.last_sequence == 4


def test_files_are_private(tmp_path: Path) -> None:
    file = _filled(tmp_path / "a" / "audit.jsonl", 1)
    assert stat.S_IMODE(file.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.head_path.stat().st_mode) == 0o600


@pytest.mark.parametrize("position", [0, 40, 130, -70, -2])
def test_one_changed_byte_is_detected(tmp_path: Path, position: int) -> None:
    file = _filled(tmp_path / "audit.jsonl")
    data = bytearray(file.path.read_bytes())
    index = position % len(data)
    data[index] = ord("A") if data[index] != ord("A") else ord("B")
    file.path.write_bytes(bytes(data))
    result = file.verify()
    assert not result.ok
    assert result.problems[0].line >= 1 or "head" in result.problems[0].message


def test_changed_count_is_located(tmp_path: Path) -> None:
    file = _filled(tmp_path / "audit.jsonl")
    text = file.path.read_text()
    file.path.write_text(text.replace('"records":2', '"records":9'))
    problems = file.verify().problems
    assert [(p.line, "hash mismatch" in p.message) for p in problems] == [(3, True)]


def test_deleted_middle_record_is_located(tmp_path: Path) -> None:
    file = _filled(tmp_path / "audit.jsonl")
    lines = _lines(file.path)
    file.path.write_bytes(b"".join(lines[:2] + lines[3:]))
    problems = file.verify().problems
    assert problems and problems[0].line == 3
    assert "prev_hash" in problems[0].message


def test_deleted_first_record_is_detected(tmp_path: Path) -> None:
    file = _filled(tmp_path / "audit.jsonl")
    file.path.write_bytes(b"".join(_lines(file.path)[1:]))
    problems = file.verify().problems
    assert problems and problems[0].line == 1


def test_deleted_last_record_is_detected_by_the_head(tmp_path: Path) -> None:
    file = _filled(tmp_path / "audit.jsonl")
    file.path.write_bytes(b"".join(_lines(file.path)[:-1]))
    problems = file.verify().problems
    assert len(problems) == 1 and "head" in problems[0].message


def test_reordered_records_are_detected(tmp_path: Path) -> None:
    file = _filled(tmp_path / "audit.jsonl")
    lines = _lines(file.path)
    lines[1], lines[2] = lines[2], lines[1]
    file.path.write_bytes(b"".join(lines))
    problems = file.verify().problems
    assert problems and problems[0].line == 2


def test_a_damaged_tail_is_not_extended(tmp_path: Path) -> None:
    file = _filled(tmp_path / "audit.jsonl", 2)
    file.path.write_bytes(file.path.read_bytes()[:-5])
    with pytest.raises(AuditError):
        file.append("dlq.replay", "cli:test", {"records": 1})


def test_personal_detail_keys_are_refused(tmp_path: Path) -> None:
    file = AuditFile(tmp_path / "audit.jsonl")
    with pytest.raises(ValueError, match="personal"):
        file.append("view.delivered", "stage:views", {"persons": [{"resident_key": "X"}]})
    assert not file.path.exists() or file.path.read_bytes() == b""


def _append_many(path: str, worker: int, count: int) -> None:
    file = AuditFile(Path(path))
    for number in range(count):
        file.append("view.delivered", f"stage:w{worker}", {"n": number})


def test_concurrent_processes_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(str(path), w, 25)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    result = AuditFile(path).verify()
    assert result.ok, result.problems[:3]
    assert result.records == 100


def test_audit_log_writes_the_file_without_a_broker(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, municipality_code="011011")

    async def scenario() -> dict[str, object]:
        audit = AuditLog.open(settings, produce=False)
        try:
            return await audit.record(
                "evacuation.released", actor="stage:evacuation", details={"people": 3}
            )
        finally:
            await audit.aclose()

    record = asyncio.run(scenario())
    stored = AuditFile(tmp_path / "audit" / "audit.jsonl").records()
    assert stored == [record]
    assert record["municipality_code"] == "011011"


def test_malformed_kind_is_refused(tmp_path: Path) -> None:
    audit = AuditLog.open(Settings(home=tmp_path), produce=False)
    with pytest.raises(ValueError, match="kind"):
        asyncio.run(audit.record("Released!", actor="x"))


def test_compare_with_the_topic_copy() -> None:
    from renkei.audit.crosscheck import compare

    file = [
        {"sequence": 0, "hash": "a"},
        {"sequence": 1, "hash": "b"},
        {"sequence": 2, "hash": "c"},
    ]
    topic = [
        {"sequence": 0, "hash": "a", "log_id": "h:/f"},
        {"sequence": 1, "hash": "X", "log_id": "h:/f"},
        {"sequence": 3, "hash": "d", "log_id": "h:/f"},
        {"sequence": 2, "hash": "zzz", "log_id": "other:/f"},
    ]
    result = compare(file, topic, "h:/f")
    assert result.compared == 1
    assert [str(p) for p in result.problems] == [
        "sequence 1 differs from its topic copy (rewritten)",
        "sequence 3 is on the topic but not in the file (removed)",
    ]
    assert result.not_in_topic == [2]
