"""Schema versions of a topic as the registry holds them, and what changed between each
version and the one before, field by field (added, removed, type, doc, default, values)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from renkei.data_catalogue.fields import FieldDoc, schema_fields
from renkei.errors import RegistryError
from renkei.serde.registry import RegistryClient


@dataclass(frozen=True)
class Change:
    """One difference between two versions of a schema."""

    kind: str
    """``added``, ``removed``, ``type``, ``doc``, ``default``, ``symbols``."""
    path: str
    before: str | None = None
    after: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class SchemaVersion:
    """One registered version of ``<topic>-value``."""

    version: int
    schema_id: int
    changes: tuple[Change, ...] = ()
    """What changed against the previous version (empty for the first)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "id": self.schema_id,
            "changes": [c.as_json() for c in self.changes],
        }


@dataclass
class SubjectHistory:
    """Every version of one subject, oldest first; ``error`` when the registry failed."""

    subject: str
    versions: list[SchemaVersion] = field(default_factory=list)
    compatibility: str | None = None
    error: str | None = None
    matches_catalogue: bool | None = None
    """Whether the latest version is the catalogue's ``value.avsc`` (None: not registered)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "versions": [v.as_json() for v in self.versions],
            "compatibility": self.compatibility,
            "error": self.error,
            "matches_catalogue": self.matches_catalogue,
        }


def _by_path(fields: list[FieldDoc]) -> dict[str, FieldDoc]:
    return {f.path: f for f in fields}


def diff_schemas(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """What changed from ``before`` to ``after``, by field path (removed, added, then changed
    fields, each in schema order)."""
    old, new = _by_path(schema_fields(before)), _by_path(schema_fields(after))
    changes = [Change("removed", path, before=old[path].type) for path in old if path not in new]
    changes += [Change("added", path, after=new[path].type) for path in new if path not in old]
    for path, now in new.items():
        was = old.get(path)
        if was is None:
            continue
        was_type = was.type + (" | null" if was.nullable else "")
        now_type = now.type + (" | null" if now.nullable else "")
        if was_type != now_type:
            changes.append(Change("type", path, was_type, now_type))
        if was.symbols != now.symbols:
            changes.append(Change("symbols", path, ", ".join(was.symbols), ", ".join(now.symbols)))
        if was.default != now.default:
            changes.append(Change("default", path, was.default, now.default))
        if (was.doc_ja, was.doc_en) != (now.doc_ja, now.doc_en):
            changes.append(Change("doc", path, f"{was.doc_ja} / {was.doc_en}", now.doc_ja))
    return changes


def history_from(raw: list[dict[str, Any]]) -> list[SchemaVersion]:
    """Versions with their changes from the registry's ``{id, version, schema}`` answers."""
    versions: list[SchemaVersion] = []
    previous: dict[str, Any] | None = None
    for entry in sorted(raw, key=lambda e: int(e["version"])):
        schema = json.loads(entry["schema"])
        changes = tuple(diff_schemas(previous, schema)) if previous is not None else ()
        versions.append(SchemaVersion(int(entry["version"]), int(entry["id"]), changes))
        previous = schema
    return versions


async def subject_history(
    client: RegistryClient, subject: str, catalogue_schema: dict[str, Any]
) -> SubjectHistory:
    """The registry's versions of ``subject`` and its compatibility mode; a registry error is
    kept in ``error`` (the page says it), never raised."""
    history = SubjectHistory(subject)
    try:
        raw = await client.versions(subject)
        history.compatibility = await client.get_compatibility(subject)
    except (RegistryError, OSError, ValueError) as exc:
        history.error = f"{type(exc).__name__}: {exc}"[:300]
        return history
    history.versions = history_from(raw)
    if raw:
        latest = max(raw, key=lambda e: int(e["version"]))
        history.matches_catalogue = not diff_schemas(json.loads(latest["schema"]), catalogue_schema)
    return history
