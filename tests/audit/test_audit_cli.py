"""``renkei audit verify|show`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from renkei.audit import AuditFile
from renkei.cli import cli


def _log(path: Path) -> AuditFile:
    file = AuditFile(path)
    file.append("agreements.applied", "cli:renkei agreements apply", {"agreements": 2})
    file.append("evacuation.released", "stage:evacuation", {"alert_id": "A-1", "people": 12})
    file.append("dlq.replay", "cli:renkei dlq replay", {"records": 3})
    return file


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", *args])
    return result.exit_code, result.output


def test_verify_passes_on_an_untouched_log(tmp_path: Path) -> None:
    file = _log(tmp_path / "audit.jsonl")
    code, output = _run("verify", "--file", str(file.path))
    assert code == 0, output
    assert "ok: 3 record(s)" in output


def test_verify_fails_after_one_byte_changed(tmp_path: Path) -> None:
    file = _log(tmp_path / "audit.jsonl")
    data = file.path.read_bytes()
    file.path.write_bytes(data.replace(b'"people":12', b'"people":13'))
    code, output = _run("verify", "--file", str(file.path))
    assert code == 1
    assert "BROKEN" in output and "line 2: sequence 1: hash mismatch" in output


def test_verify_fails_after_one_record_removed(tmp_path: Path) -> None:
    file = _log(tmp_path / "audit.jsonl")
    lines = file.path.read_bytes().splitlines(keepends=True)
    file.path.write_bytes(lines[0] + lines[2])
    code, output = _run("verify", "--file", str(file.path))
    assert code == 1
    assert "line 2: sequence 2: prev_hash does not match" in output


def test_verify_fails_after_records_reordered(tmp_path: Path) -> None:
    file = _log(tmp_path / "audit.jsonl")
    lines = file.path.read_bytes().splitlines(keepends=True)
    file.path.write_bytes(lines[0] + lines[2] + lines[1])
    code, output = _run("verify", "--file", str(file.path))
    assert code == 1
    assert "line 2:" in output


def test_verify_of_a_missing_file_is_an_error(tmp_path: Path) -> None:
    code, output = _run("verify", "--file", str(tmp_path / "nope.jsonl"))
    assert code == 1
    assert "not found" in output


def test_show_lists_records_by_kind(tmp_path: Path) -> None:
    file = _log(tmp_path / "audit.jsonl")
    code, output = _run("show", "--file", str(file.path), "--kind", "evacuation.released")
    assert code == 0
    assert "evacuation.released" in output and '"people": 12' in output
    assert "dlq.replay" not in output
