"""Audit records of evacuation-list releases (避難行動要支援者名簿の提供).

In disaster mode (災害対策基本法 49条の11③: level 4–5, or the operator's switch) a list goes
out without the residents' consent, so every such release is audited: who (the stage and its
consumer group / principal), when (the record's time), which alert and region, how many
people — never who they are.

A released list cannot be unreleased: when a late or corrected resident fact changes who is on
it, the stage re-issues it as a new version carrying ``correction``, and every such version —
in either mode — writes an ``evacuation.corrected`` record (which version it corrects, how many
persons were added and removed; docs/corrections.md).
"""

from __future__ import annotations

import logging
from typing import Any

from renkei.audit.log import AuditLog
from renkei.errors import AuditError

log = logging.getLogger(__name__)
RELEASED = "evacuation.released"
MODE_SWITCHED = "evacuation.disaster_mode"
CORRECTED = "evacuation.corrected"


def release_details(datum: dict[str, Any], *, operator_override: bool) -> dict[str, Any] | None:
    """The audit details of one ``derived.evacuation-support`` record, or None when it is not a
    disaster-mode release (normal-mode lists carry consenting people only; lifted lists none)."""
    if datum.get("mode") != "disaster" or datum.get("status") != "active":
        return None
    return {
        "alert_id": datum["alert_id"],
        "list_key": datum["list_key"],
        "region_code": datum["region_code"],
        "level": int(datum["level"]),
        "hazard": str(datum["hazard"]),
        "mode": "disaster",
        "operator_override": operator_override,
        "revision": int(datum["sequence"]),
        "people": int(datum["count"]),
    }


def correction_details(datum: dict[str, Any]) -> dict[str, Any] | None:
    """The audit details of a list version that corrects a released one; None otherwise."""
    correction = datum.get("correction")
    if not correction:
        return None
    return {
        "alert_id": datum["alert_id"],
        "list_key": datum["list_key"],
        "region_code": datum["region_code"],
        "level": int(datum["level"]),
        "mode": str(datum["mode"]),
        "status": str(datum["status"]),
        "revision": int(datum["sequence"]),
        "corrects_revision": int(correction["corrects_sequence"]),
        "added": int(correction["added"]),
        "removed": int(correction["removed"]),
        "people": int(datum["count"]),
    }


async def audit_releases(
    audit: AuditLog,
    actor: str,
    data: list[dict[str, Any]],
    *,
    operator_override: bool,
) -> int:
    """Write one ``evacuation.released`` record per disaster-mode list in ``data`` and one
    ``evacuation.corrected`` record per corrected version; returns how many. An audit failure
    is logged, never raised: a list must not be held back in a disaster because the audit log
    is unavailable."""
    written = 0
    for datum in data:
        for action, details in (
            (RELEASED, release_details(datum, operator_override=operator_override)),
            (CORRECTED, correction_details(datum)),
        ):
            if details is None:
                continue
            try:
                await audit.record(action, actor=actor, details=details)
                written += 1
            except AuditError as exc:
                log.error("%s audit record not fully written: %s", action, exc)
    return written


async def audit_disaster_mode(audit: AuditLog, actor: str) -> None:
    """Record that a stage started with the operator's disaster-mode switch on."""
    try:
        await audit.record(MODE_SWITCHED, actor=actor, details={"disaster_mode": True})
    except AuditError as exc:
        log.error("evacuation.disaster_mode audit record not fully written: %s", exc)
