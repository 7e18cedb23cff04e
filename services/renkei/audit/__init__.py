"""Tamper-evident audit log: a hash-chained local JSON-lines file plus topic ``audit.access``.

See docs/privacy.md for the record format and ``renkei audit verify``.
"""

from renkei.audit.chain import GENESIS, Problem, Verification, canonical_json, record_hash
from renkei.audit.log import KINDS, AuditLog, audit_path
from renkei.audit.store import AuditFile
from renkei.audit.topic import AUDIT_TOPIC

__all__ = [
    "AUDIT_TOPIC",
    "GENESIS",
    "KINDS",
    "AuditFile",
    "AuditLog",
    "Problem",
    "Verification",
    "audit_path",
    "canonical_json",
    "record_hash",
]
