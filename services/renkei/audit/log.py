"""``AuditLog``: the one entry point for writing audit records (CONTRACTS.md section C).

    audit = AuditLog.open(settings)
    await audit.record("dlq.replay", actor="cli:renkei dlq replay", details={"records": 3})
    await audit.aclose()

Each record is appended to the local hash-chained file first (the authoritative, tamper-evident
copy) and then produced to ``audit.access``. Details hold counts and ids, never personal data.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import re
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from renkei.audit.chain import canonical_json, check_details
from renkei.audit.store import AuditFile
from renkei.audit.topic import AuditTopic
from renkei.errors import AuditError
from renkei.settings import Settings

log = logging.getLogger(__name__)
DELAYED_KEY = "delayed_from"
"""Detail added to a record appended late from the pending file: when it was first attempted."""

# The kinds the platform writes today (CONTRACTS.md C); others must look like them.
KINDS = frozenset(
    {
        "agreements.applied",
        "acl.changed",
        "view.delivered",
        "view.served",  # the staff web view (services/staff_view/served.py)
        "evacuation.released",
        "evacuation.corrected",  # a released list re-issued by a correction (audit/releases.py)
        "dlq.replay",
    }
)
_KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$")


def audit_path(settings: Settings) -> Path:
    """Where the local audit file lives: ``<RENKEI_HOME>/audit/audit.jsonl``."""
    return settings.home / "audit" / "audit.jsonl"


class AuditLog:
    """Append-only, hash-chained audit log with a Kafka copy."""

    def __init__(
        self,
        file: AuditFile,
        topic: AuditTopic | None,
        *,
        municipality_code: str | None = None,
    ):
        self.file = file
        self.topic = topic
        self.municipality_code = municipality_code
        self.log_id = f"{socket.gethostname()}:{file.path}"

    @classmethod
    def open(
        cls, settings: Settings, *, path: Path | None = None, produce: bool = True
    ) -> AuditLog:
        """The audit log of these settings; ``produce=False`` writes the local file only
        (unit tests, or tools that run without a broker)."""
        return cls(
            AuditFile(path or audit_path(settings)),
            AuditTopic(settings) if produce else None,
            municipality_code=settings.municipality_code,
        )

    async def record(
        self, kind: str, *, actor: str, details: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Append one record and produce it; returns the record as written.

        Raises ValueError for a malformed kind or personal-looking detail keys, AuditError when
        the file cannot be extended or the broker does not acknowledge (the file keeps it).
        """
        if not _KIND_PATTERN.match(kind):
            raise ValueError(f"audit kind {kind!r} is not dotted lower case (e.g. dlq.replay)")
        details = check_details(details or {})  # refuse personal keys before anything is kept
        try:
            self._drain_pending()
            record = await self._append(kind, actor, details)
        except (AuditError, OSError) as exc:
            self._keep_pending(kind, actor, details)
            log.critical(
                "OPERATOR ALERT: audit record %s could not be appended to %s (%s); kept in %s "
                "and appended once the file accepts records again (renkei audit verify)",
                kind,
                self.file.path,
                exc,
                self.pending_path,
            )
            raise AuditError(f"audit file not extended ({exc}); record kept as pending") from exc
        if self.topic is not None:
            await self.topic.send(record, self.log_id)
        return record

    @property
    def pending_path(self) -> Path:
        """Records that could not be appended yet (JSON lines, 0600), oldest first."""
        return self.file.path.with_name(self.file.path.name + ".pending")

    def _keep_pending(self, kind: str, actor: str, details: Mapping[str, Any]) -> None:
        when = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line = canonical_json({"kind": kind, "actor": actor, "details": dict(details), "at": when})
        self.file.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.pending_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def _drain_pending(self) -> None:
        """Append the pending records (each with ``delayed_from``), then empty the file; an
        append that fails leaves them all pending (the caller keeps the new one after them)."""
        if not self.pending_path.exists():
            return
        fd = os.open(self.pending_path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.lseek(fd, 0, os.SEEK_END)
            lines = os.pread(fd, size, 0).decode("utf-8").splitlines()
            done = 0
            try:
                for line in lines:
                    if line.strip():
                        item = json.loads(line)
                        self.file.append(
                            item["kind"],
                            item["actor"],
                            {**item["details"], DELAYED_KEY: item["at"]},
                            municipality_code=self.municipality_code,
                        )
                    done += 1
            finally:
                rest = "".join(f"{line}\n" for line in lines[done:])
                os.ftruncate(fd, 0)
                os.pwrite(fd, rest.encode("utf-8"), 0)
                os.fsync(fd)
        finally:
            os.close(fd)

    async def _append(self, kind: str, actor: str, details: Mapping[str, Any]) -> dict[str, Any]:
        # On the event loop's thread, deliberately: an append holds the lock for one write and
        # one fsync (milliseconds), records are rare (one per window or release), and a stage's
        # handler stays deterministic (no thread hop between the list and its audit record).
        return self.file.append(kind, actor, details, municipality_code=self.municipality_code)

    async def aclose(self) -> None:
        if self.topic is not None:
            await self.topic.aclose()
