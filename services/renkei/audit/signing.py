"""Signed chain heads: the audit principal's Ed25519 signatures over the audit file's head.

The hash chain shows a changed, inserted, reordered or cut record, but whoever can write the
file can also rebuild the whole chain and its ``.head`` consistently. A **signed head** closes
that: the audit principal (``renkei-audit``), whose private key the stages and CLI writers never
hold, checks the chain and appends a checkpoint to ``audit.jsonl.sig``::

    {"v": 1, "log": "audit.jsonl", "sequence": 41, "hash": "<record 41's hash>",
     "records": 42, "signed_at": "...", "key_id": "<sha256 of the public key>",
     "signature": "<base64 Ed25519 over the canonical JSON of the fields above>"}

``renkei audit verify`` checks every checkpoint with the public key: the signature, and that
record ``sequence`` of the file still has that ``hash``. A rewrite of any record up to the last
checkpoint is then caught even when the chain and ``.head`` were rebuilt, because the rewriter
cannot sign the new hash. Records after the last checkpoint are protected by the chain (and
the Kafka copy) only, until the next ``renkei audit sign``.

Keys live in the audit principal's folder ``$RENKEI_HOME/secrets/audit/`` (0700): the private
key ``renkei-audit.ed25519.pem`` (PKCS#8, 0600), the public key ``renkei-audit.ed25519.pub``.
Signing refuses a key whose folder or file others can read.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from renkei.audit.chain import canonical_json
from renkei.errors import AuditError

AUDIT_PRINCIPAL = "renkei-audit"
"""The audit principal: reads the audit (file, topic), signs its heads; writes no record (its
Kafka ACLs: ``renkei.agreements.stage_principals.audit_principal_acls``)."""
SIGNATURE_VERSION = 1
PRIVATE_NAME = f"{AUDIT_PRINCIPAL}.ed25519.pem"
PUBLIC_NAME = f"{AUDIT_PRINCIPAL}.ed25519.pub"


def signing_dir(home: Path) -> Path:
    """The audit principal's folder: ``$RENKEI_HOME/secrets/audit`` (0700)."""
    return home / "secrets" / "audit"


def signatures_path(audit_file: Path) -> Path:
    """``audit.jsonl.sig``: the signed checkpoints of ``audit_file``, one JSON line each."""
    return audit_file.with_name(audit_file.name + ".sig")


def key_id(public: Ed25519PublicKey) -> str:
    """sha256 (hex) of the raw public key: what a checkpoint and ``verify`` name it by."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def generate_key(folder: Path) -> tuple[Path, Path, str]:
    """A new key pair in ``folder`` (made 0700); (private path, public path, key id).

    Refuses to overwrite: a new key would make earlier checkpoints unverifiable with it.
    """
    private_path, public_path = folder / PRIVATE_NAME, folder / PUBLIC_NAME
    if private_path.exists() or public_path.exists():
        raise AuditError(
            f"{private_path} already exists; keep it (earlier signatures need its public key) "
            "or move both files away to start a new key"
        )
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(private_path, pem, 0o600)
    _write_new(public_path, public, 0o644)
    return private_path, public_path, key_id(key.public_key())


def _private_enough(path: Path) -> None:
    """AuditError unless ``path`` is 0600-or-stricter in a folder nobody else can enter."""
    for target, allowed in ((path.parent, 0o700), (path, 0o600)):
        mode = stat.S_IMODE(target.stat().st_mode)
        if mode & ~allowed:
            raise AuditError(
                f"{target} is mode {mode:o}: the audit signing key must not be readable by others "
                f"(chmod {allowed:o} {target})"
            )


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The audit principal's private key (AuditError if missing, too open or not Ed25519)."""
    if not path.is_file():
        raise AuditError(
            f"audit signing key not found: {path} (create it with `renkei audit keygen`, on the "
            "audit principal's host)"
        )
    _private_enough(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    if not path.is_file():
        raise AuditError(f"audit public key not found: {path}")
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except ValueError as exc:
        raise AuditError(f"{path}: not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise AuditError(f"{path} is not an Ed25519 public key")
    return key


def _payload(checkpoint: Mapping[str, Any]) -> bytes:
    return canonical_json({k: v for k, v in checkpoint.items() if k != "signature"}).encode()


def sign_head(
    key: Ed25519PrivateKey,
    *,
    log: str,
    sequence: int,
    record_hash: str,
    records: int,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """One signed checkpoint of the head (``sequence``, ``record_hash``) of log ``log``."""
    checkpoint: dict[str, Any] = {
        "v": SIGNATURE_VERSION,
        "log": log,
        "sequence": sequence,
        "hash": record_hash,
        "records": records,
        "signed_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "key_id": key_id(key.public_key()),
    }
    checkpoint["signature"] = base64.b64encode(key.sign(_payload(checkpoint))).decode("ascii")
    return checkpoint


def append_checkpoint(path: Path, checkpoint: Mapping[str, Any]) -> None:
    """Append one checkpoint line to ``path`` (0600) and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (json.dumps(checkpoint, sort_keys=True) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_checkpoints(path: Path) -> list[dict[str, Any] | None]:
    """Each line of ``path`` as a checkpoint, None for a line that is not a JSON object."""
    if not path.exists():
        return []
    out: list[dict[str, Any] | None] = []
    for line in path.read_bytes().splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            out.append(None)
            continue
        out.append(value if isinstance(value, dict) else None)
    return out


@dataclass
class SignatureCheck:
    """What ``verify`` found about the signed checkpoints of one audit file."""

    checkpoints: int = 0
    signed_sequence: int | None = None
    problems: list[str] = field(default_factory=list)


def check_checkpoints(
    checkpoints: Sequence[Mapping[str, Any] | None],
    records: Sequence[Mapping[str, Any]],
    public: Ed25519PublicKey,
    *,
    log: str,
) -> SignatureCheck:
    """Check each checkpoint's signature and that the file still holds the signed hash."""
    result = SignatureCheck()
    expected_id = key_id(public)
    by_sequence = {r.get("sequence"): r.get("hash") for r in records}
    previous = -1
    for line, checkpoint in enumerate(checkpoints, start=1):
        where = f"signature line {line}"
        if checkpoint is None:
            result.problems.append(f"{where}: not a JSON object")
            continue
        signature = checkpoint.get("signature")
        if checkpoint.get("key_id") != expected_id:
            result.problems.append(
                f"{where}: signed by key {str(checkpoint.get('key_id'))[:16]}…, not by the audit "
                f"principal's key {expected_id[:16]}…"
            )
            continue
        try:
            public.verify(base64.b64decode(str(signature), validate=True), _payload(checkpoint))
        except (InvalidSignature, ValueError):
            result.problems.append(f"{where}: the signature does not match (checkpoint altered)")
            continue
        sequence = checkpoint.get("sequence")
        if checkpoint.get("log") != log:
            result.problems.append(f"{where}: signs log {checkpoint.get('log')!r}, not {log!r}")
            continue
        if not isinstance(sequence, int) or sequence < previous:
            result.problems.append(f"{where}: sequence {sequence} goes backwards")
            continue
        previous = sequence
        result.checkpoints += 1
        if sequence not in by_sequence:
            result.problems.append(
                f"{where}: the signed head, sequence {sequence}, is no longer in the file "
                "(records removed)"
            )
        elif by_sequence[sequence] != checkpoint.get("hash"):
            result.problems.append(
                f"{where}: record {sequence} no longer has the signed hash (records up to it "
                "were rewritten)"
            )
        else:
            result.signed_sequence = sequence
    return result
