"""``AuditLog``: the one entry point for writing audit records (CONTRACTS.md section C).

    audit = AuditLog.open(settings)
    await audit.record("dlq.replay", actor="cli:renkei dlq replay", details={"records": 3})
    await audit.aclose()

Each record is appended to the local hash-chained file first (the authoritative, tamper-evident
copy) and then produced to ``audit.access``. Details hold counts and ids, never personal data.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from renkei.audit.store import AuditFile
from renkei.audit.topic import AuditTopic
from renkei.settings import Settings

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
        record = await self._append(kind, actor, details or {})
        if self.topic is not None:
            await self.topic.send(record, self.log_id)
        return record

    async def _append(self, kind: str, actor: str, details: Mapping[str, Any]) -> dict[str, Any]:
        # On the event loop's thread, deliberately: an append holds the lock for one write and
        # one fsync (milliseconds), records are rare (one per window or release), and a stage's
        # handler stays deterministic (no thread hop between the list and its audit record).
        return self.file.append(kind, actor, details, municipality_code=self.municipality_code)

    async def aclose(self) -> None:
        if self.topic is not None:
            await self.topic.aclose()
