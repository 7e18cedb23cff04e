"""Corrections and late filings for the bitemporal tests (docs/corrections.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tests.stages import factories as f


def correction(
    key: str,
    eff: str,
    seq: int,
    supersedes: uuid.UUID,
    recorded: dt.datetime,
    *,
    date_corrected: bool = False,
    **parts: Any,
) -> dict[str, Any]:
    """A ``corrected`` std event recorded at ``recorded``. ``eff`` is the target's 異動日 —
    or, with ``date_corrected``, the corrected 異動日 (``corrected_fields`` names it)."""
    fields = sorted(f"detail.{p}" for p in parts) + (["effective_date"] if date_corrected else [])
    detail = {
        "supersedes_event_id": supersedes,
        "corrected_fields": fields,
        "person": parts.get("person"),
        "address": parts.get("address"),
        "household": parts.get("household"),
        # an address correction states its 支援措置 status, as the registry does (issue 12)
        "protection": f.NOT_PROTECTED if parts.get("address") is not None else None,
    }
    return f.registry(key, "corrected", detail, eff, seq, recorded=recorded)


def corrected_original(
    original: dict[str, Any], fix: dict[str, Any], *, date_corrected: bool = False
) -> dict[str, Any]:
    """The original event as it would have been filed without the error (for clean runs)."""
    detail = dict(original["detail"])
    for part in ("person", "address", "household"):
        if fix["detail"].get(part) is not None:
            detail[part] = fix["detail"][part]
    event = {**original, "detail": detail}
    if date_corrected:
        event["effective_date"] = fix["effective_date"]
    return event
