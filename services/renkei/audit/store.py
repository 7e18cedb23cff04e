"""The local audit file: append-only JSON lines under an exclusive file lock.

Several processes (stage workers, CLI commands) append to the same file. Each append takes an
exclusive ``flock`` on a sibling ``.lock`` file, reads the last record to continue the chain,
writes one line, fsyncs, and then rewrites the ``.head`` file (last sequence and hash). The head
is what reveals records cut from the *end* of the file, which the chain alone cannot show.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from renkei.audit.chain import (
    GENESIS,
    Problem,
    Verification,
    encode_line,
    new_record,
    parse_line,
    verify_lines,
)
from renkei.errors import AuditError

_TAIL_CHUNK = 64 * 1024


class AuditFile:
    """One audit file (``audit.jsonl``) with its ``.lock`` and ``.head`` siblings."""

    def __init__(self, path: Path):
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.head_path = path.with_name(path.name + ".head")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def append(
        self,
        kind: str,
        actor: str,
        details: Mapping[str, Any],
        *,
        municipality_code: str | None = None,
    ) -> dict[str, Any]:
        """Append one record continuing the chain; returns it (with ``sequence`` and ``hash``)."""
        with self._locked():
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                last = _last_record(fd)
                record = new_record(
                    sequence=0 if last is None else last["sequence"] + 1,
                    prev_hash=GENESIS if last is None else last["hash"],
                    kind=kind,
                    actor=actor,
                    details=details,
                    municipality_code=municipality_code,
                )
                os.write(fd, encode_line(record))
                os.fsync(fd)
            finally:
                os.close(fd)
            self._write_head(record)
        return record

    def _write_head(self, record: Mapping[str, Any]) -> None:
        head = {"sequence": record["sequence"], "hash": record["hash"]}
        tmp = self.head_path.with_name(self.head_path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, (json.dumps(head) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.head_path)

    def records(self) -> list[dict[str, Any]]:
        """Every well-formed record, in file order (for display; see :meth:`verify`)."""
        if not self.path.exists():
            return []
        with self.path.open("rb") as handle:
            return [r for r in (parse_line(line.rstrip(b"\n")) for line in handle) if r]

    def verify(self) -> Verification:
        """Check the chain and that the file ends where the head says it does."""
        if not self.path.exists():
            raise AuditError(f"audit file not found: {self.path}")
        with self.path.open("rb") as handle:
            result = verify_lines(handle)
        head = self._read_head()
        if head is None:
            if result.records:
                result.problems.append(Problem(0, f"head file {self.head_path} missing"))
        elif (head.get("sequence"), head.get("hash")) != (result.last_sequence, result.last_hash):
            result.problems.append(
                Problem(
                    0,
                    f"the file ends at sequence {result.last_sequence} but the head records "
                    f"sequence {head.get('sequence')} with another hash (records removed from or "
                    "changed at the end)",
                )
            )
        return result

    def _read_head(self) -> dict[str, Any] | None:
        try:
            value = json.loads(self.head_path.read_text(encoding="ascii"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}


def _last_line(fd: int, size: int) -> bytes:
    """The file's last line (without its newline), however long: read backwards chunk by chunk
    until the newline before it (or the start of the file)."""
    end = size - 1  # the final newline
    parts: list[bytes] = []
    position = end
    while position > 0:
        start = max(0, position - _TAIL_CHUNK)
        chunk = os.pread(fd, position - start, start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            parts.append(chunk[cut + 1 :])
            break
        parts.append(chunk)
        position = start
    return b"".join(reversed(parts))


def _last_record(fd: int) -> dict[str, Any] | None:
    """The last record of the file (None when empty); AuditError when the tail is damaged,
    so nobody extends a broken chain silently."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return None
    if os.pread(fd, 1, size - 1) != b"\n":
        raise AuditError("audit file does not end with a complete line; run `renkei audit verify`")
    record = parse_line(_last_line(fd, size))
    if record is None:
        raise AuditError("last line of the audit file is damaged; run `renkei audit verify`")
    return record
