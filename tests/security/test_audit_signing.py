"""Signed chain heads (issue 14): the audit principal signs the head with an Ed25519 key the
writers never hold, and `renkei audit verify` catches a consistent rewrite of the file (chain
and .head rebuilt) that the hash chain alone cannot."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from renkei.agreements.stage_principals import (
    AUDIT_PRINCIPAL,
    AUDITING_STAGES,
    audit_principal_acls,
    platform_stage_acls,
    stage_principal,
)
from renkei.audit import AuditLog
from renkei.audit.signing import (
    PRIVATE_NAME,
    PUBLIC_NAME,
    generate_key,
    load_private_key,
    signatures_path,
    signing_dir,
)
from renkei.audit.store import AuditFile
from renkei.cli import cli
from renkei.errors import AuditError
from renkei.schemas.catalogue import load_catalogue
from renkei.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def _log(path: Path) -> AuditFile:
    file = AuditFile(path)
    file.append("agreements.applied", "cli:renkei agreements apply", {"agreements": 2})
    file.append("evacuation.released", "stage:evacuation", {"alert_id": "A-1", "people": 12})
    file.append("view.delivered", "stage:views", {"records": 5})
    return file


def _rewrite_consistently(file: AuditFile, old: bytes, new: bytes) -> None:
    """What an insider holding the file can do: change a record and rebuild the whole chain
    and the .head, so the hash chain verifies again."""
    records = [json.loads(line) for line in file.path.read_bytes().splitlines()]
    file.path.unlink()
    file.head_path.unlink()
    for record in records:
        details = json.loads(json.dumps(record["details"]).encode().replace(old, new))
        file.append(record["kind"], record["actor"], details)


def _cli(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", *args], env={"RENKEI_HOME": str(home)})
    return result.exit_code, result.output


def test_keygen_makes_a_private_key_only_the_audit_principal_can_read(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, output = _cli(home, "keygen")
    assert code == 0, output
    folder = signing_dir(home)
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert ((folder / PRIVATE_NAME).stat().st_mode & 0o777) == 0o600
    assert "key id:" in output and "BEGIN" not in output  # the key itself is never printed
    code, output = _cli(home, "keygen")
    assert code == 1 and "already exists" in output  # never overwritten
    (folder / PRIVATE_NAME).chmod(0o644)
    with pytest.raises(AuditError, match="must not be readable by others"):
        load_private_key(folder / PRIVATE_NAME)


def test_a_consistent_rewrite_passes_the_chain_but_not_the_signed_head(tmp_path: Path) -> None:
    home = tmp_path / "home"
    file = _log(tmp_path / "audit.jsonl")
    assert _cli(home, "keygen")[0] == 0
    code, output = _cli(home, "sign", "--file", str(file.path))
    assert code == 0, output
    assert "signed: sequence 2" in output
    code, output = _cli(home, "verify", "--file", str(file.path))
    assert code == 0, output
    assert "signed up to sequence 2" in output
    file.append("dlq.replay", "cli:renkei dlq replay", {"records": 1})  # after the signature
    code, output = _cli(home, "verify", "--file", str(file.path))
    assert code == 0 and "1 record(s) after it are protected by the chain only" in output

    _rewrite_consistently(file, b'"people": 12', b'"people": 11')
    assert file.verify().ok  # the hash chain and .head alone are satisfied
    code, output = _cli(home, "verify", "--file", str(file.path))
    assert code == 1, output
    assert "record 2 no longer has the signed hash" in output
    code, output = _cli(home, "sign", "--file", str(file.path))
    assert code == 1 and "not signed" in output  # a broken log is never signed over


def test_a_forged_or_altered_signature_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    file = _log(tmp_path / "audit.jsonl")
    assert _cli(home, "keygen")[0] == 0
    assert _cli(home, "sign", "--file", str(file.path))[0] == 0
    sig = signatures_path(file.path)
    good = sig.read_text(encoding="utf-8")
    # the insider rewrites the file and edits the checkpoint's hash to match
    _rewrite_consistently(file, b'"records": 5', b'"records": 4')
    checkpoint = json.loads(good)
    checkpoint["hash"] = file.verify().last_hash
    sig.write_text(json.dumps(checkpoint) + "\n", encoding="utf-8")
    code, output = _cli(home, "verify", "--file", str(file.path))
    assert code == 1 and "the signature does not match" in output
    # or signs with a key of its own: not the audit principal's
    other = tmp_path / "other-key"
    generate_key(other)
    assert _cli(home, "sign", "--file", str(file.path), "--key", str(other / PRIVATE_NAME))[0] == 1
    sig.unlink()
    code, output = _cli(home, "sign", "--file", str(file.path), "--key", str(other / PRIVATE_NAME))
    assert code == 0, output
    code, output = _cli(home, "verify", "--file", str(file.path))
    assert code == 1 and "not by the audit principal's key" in output


def test_require_signature_and_a_missing_public_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    file = _log(tmp_path / "audit.jsonl")
    code, output = _cli(home, "verify", "--file", str(file.path), "--require-signature")
    assert code == 1 and "no signed head" in output
    assert _cli(home, "keygen")[0] == 0
    assert _cli(home, "sign", "--file", str(file.path))[0] == 0
    (signing_dir(home) / PUBLIC_NAME).unlink()
    code, output = _cli(home, "verify", "--file", str(file.path))
    assert code == 0 and "signatures not checked" in output
    code, output = _cli(home, "verify", "--file", str(file.path), "--require-signature")
    assert code == 1 and "no public key" in output


async def test_writers_append_without_the_signing_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stages' AuditLog never opens anything in the audit principal's folder (in
    production the key is not on a stage host at all): every file it opens is recorded."""
    home = tmp_path / "home"
    generate_key(signing_dir(home))
    opened: list[str] = []
    real_open = os.open

    def tracking_open(path: object, *args: object, **kwargs: object) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", tracking_open)
    audit = AuditLog.open(Settings(home=home), produce=False)
    await audit.record("view.delivered", actor="stage:views", details={"records": 1})
    await audit.aclose()
    monkeypatch.undo()
    assert any(path.endswith("audit.jsonl") for path in opened), opened
    assert not [path for path in opened if str(signing_dir(home)) in path]
    assert AuditFile(home / "audit" / "audit.jsonl").verify().ok


def test_the_audit_principal_reads_the_audit_topic_and_writers_only_append() -> None:
    catalogue = load_catalogue(REPO / "schemas" / "avro")
    acls = audit_principal_acls()[AUDIT_PRINCIPAL]
    assert {(a.resource_type, a.resource_name, a.operation) for a in acls} == {
        ("TOPIC", "audit.access", "READ"),
        ("TOPIC", "audit.access", "DESCRIBE"),
    }
    stages = platform_stage_acls(catalogue, REPO / "deploy" / "agreements")
    for stage in AUDITING_STAGES:
        audit_ops = {
            a.operation for a in stages[stage_principal(stage)] if a.resource_name == "audit.access"
        }
        assert audit_ops == {"WRITE", "DESCRIBE"}  # no READ, DELETE, ALTER_CONFIGS
