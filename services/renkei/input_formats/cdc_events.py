"""Row changes of a legacy 住民記録 table → department events, as the mapping says.

The table holds one row per resident with the resident's latest 異動 written into it (reason,
date, often a 連番). So the event comes from the row, never from the SQL operation:

- INSERT: the 異動 the new row records (出生 → born, 転入 → moved_in …);
- UPDATE: a new 異動 when one of the ``change_columns`` changed; its type from the reason
  column. A 異動 the mapping types ``corrected`` (誤記修正, 職権修正) supersedes the 異動 the
  old row recorded and lists the fields that differ. An UPDATE that changes mapped fields
  but no ``change_columns`` records no 異動: it is refused to the DLQ, so the department
  sees it in its reject report. An UPDATE of unmapped columns only publishes nothing. An
  UPDATE without the old row (the table lacks ``REPLICA IDENTITY FULL``) is refused;
- DELETE: not a 異動 at all (a 消除 — 転出, 死亡 — is recorded *in* the row, the row stays as a
  除票): a physically deleted row is maintenance, an input error or an archive purge. Nothing
  is published; the deletion is refused to the DLQ so the department reviews it;
- snapshot rows (``op = r``): the residents as they stood when the connector started, not
  move-ins. Skipped by default; ``snapshot: as_recorded`` publishes each row's own last 異動
  with its own date, under the same event id a live capture of it would have had.

Event ids are UUIDv5 of the table, the key and the ``change_columns`` values: the same 異動
read twice (a connector restart, a snapshot of a row already captured) has the same id and the
stages ignore the repeat. ``recorded_at`` is the transaction's commit time; ``sequence`` the
change's log position (LSN), increasing per key.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from renkei.input_formats.csv_events import EVENT_NAMESPACE, CsvEventBuilder
from renkei.input_formats.csv_mapping import CsvMapping
from renkei.input_formats.csv_rows import CsvRow
from renkei.input_formats.debezium import ChangeEvent
from renkei.schemas.jsonform import JST

Outcome = Literal["event", "rejected", "skipped"]
_PARTS = ("person", "address", "household")


@dataclass(frozen=True)
class MappedChange:
    """What one row change became: an event, a rejection (value-free problems) or nothing."""

    outcome: Outcome
    change: ChangeEvent
    value: dict[str, Any] | None = None
    problems: tuple[tuple[str, str], ...] = ()
    why: str = ""
    """For ``skipped``: why nothing was published (for the adapter's counts)."""

    @property
    def key(self) -> str | None:
        value = self.value or {}
        return value.get("resident_key")


class CdcEventBuilder:
    """Maps row changes of the mapping's table to events of its topic."""

    def __init__(self, mapping: CsvMapping, builder: CsvEventBuilder):
        if mapping.cdc is None:
            raise ValueError("not a cdc mapping")
        self.mapping = mapping
        self.rules = mapping.cdc
        self.builder = builder
        self.key_field = builder.spec.key_field
        self.reason_column = mapping.fields["event_type"].column or ""

    def map(self, change: ChangeEvent) -> MappedChange:
        """The event (or rejection, or nothing) of one change of the table."""
        if change.op == "d":
            return self._refuse(
                change,
                "(row)",
                "row deleted in the department's database: a DELETE is not a 異動 (record a "
                "消除 such as 転出 or 死亡 in the row); nothing was published",
                change.before,
            )
        if change.after is None:
            return self._refuse(change, "(row)", "change without the new row", None)
        if change.op == "r" and self.rules.snapshot == "skip":
            return MappedChange("skipped", change, why="snapshot row (not a 異動)")
        if change.op == "u":
            return self._update(change, change.after)
        return self._event(change, change.after, supersedes=None)

    def _update(self, change: ChangeEvent, after: dict[str, str]) -> MappedChange:
        before = change.before
        if before is None or not self._complete(before):
            return self._refuse(
                change,
                "(row)",
                "UPDATE without the old row: set REPLICA IDENTITY FULL on the table",
                after,
            )
        key_spec = self.mapping.fields.get(self.key_field)
        key_column = key_spec.column if key_spec else None
        if key_column and before.get(key_column) != after.get(key_column):
            return self._refuse(
                change, self.key_field, "the resident key of a row changed: not a 異動", after
            )
        if self._identity(before) == self._identity(after):
            if all(before.get(c) == after.get(c) for c in self.mapping.columns):
                return MappedChange("skipped", change, why="no mapped column changed")
            changed = ", ".join(self.rules.change_columns)
            return self._refuse(
                change,
                "(row)",
                f"mapped columns changed but no new 異動 was recorded ({changed} unchanged)",
                after,
            )
        old = self._fields(before)
        return self._event(change, after, supersedes=None if old is None else (before, old))

    def _event(
        self,
        change: ChangeEvent,
        row: dict[str, str],
        supersedes: tuple[dict[str, str], dict[str, Any]] | None,
    ) -> MappedChange:
        line = self.builder.fields_of(CsvRow(0, row))
        if line.value is None:
            return MappedChange("rejected", change, self._key_only(row), line.problems)
        value = line.value
        if value.get("event_type") == "corrected":
            if supersedes is None:
                return self._refuse(
                    change, "event_type", "a correction needs the row it corrects", row
                )
            value = self._correction(value, *supersedes)
        value["event_id"] = self._event_id(row)
        committed = dt.datetime.fromtimestamp(change.committed_ms / 1000, dt.UTC)
        value.setdefault("recorded_at", committed.astimezone(JST).isoformat())
        value["sequence"] = change.lsn
        self.builder.finish(value)
        return MappedChange("event", change, value)

    def _correction(
        self, value: dict[str, Any], before_row: dict[str, str], old: dict[str, Any]
    ) -> dict[str, Any]:
        new_detail, old_detail = value.get("detail") or {}, old.get("detail") or {}
        fields = sorted(
            f"detail.{part}.{name}"
            for part in _PARTS
            for name in set(new_detail.get(part) or {}) | set(old_detail.get(part) or {})
            if (new_detail.get(part) or {}).get(name) != (old_detail.get(part) or {}).get(name)
        )
        # a correction's effective date is the corrected 異動's (the schema's rule)
        value = {**value, "effective_date": old.get("effective_date", value["effective_date"])}
        detail: dict[str, Any] = {
            "supersedes_event_id": self._event_id(before_row),
            "corrected_fields": fields,
        }
        for part in _PARTS:
            if new_detail.get(part) != old_detail.get(part):
                detail[part] = new_detail.get(part)
        return {**value, "detail": detail}

    def _fields(self, row: dict[str, str]) -> dict[str, Any] | None:
        return self.builder.fields_of(CsvRow(0, row)).value

    def _complete(self, row: dict[str, str]) -> bool:
        """A before image has the mapped columns (without REPLICA IDENTITY FULL it holds the
        primary key only)."""
        return all(column in row for column in self.mapping.columns)

    def _identity(self, row: dict[str, str]) -> tuple[str, ...]:
        return tuple(row.get(column, "") for column in self.rules.change_columns)

    def _event_id(self, row: dict[str, str]) -> str:
        key = self._key_of(row) or ""
        parts = [self.builder.spec.topic, "cdc", self.mapping.source_system, self.rules.table]
        parts += [key, *self._identity(row)]
        return str(uuid.uuid5(EVENT_NAMESPACE, "\x1f".join(parts)))

    def _key_of(self, row: dict[str, str] | None) -> str | None:
        spec = self.mapping.fields.get(self.key_field)
        if row is None or spec is None or spec.column is None:
            return None
        return row.get(spec.column) or None

    def _key_only(self, row: dict[str, str] | None) -> dict[str, Any] | None:
        key = self._key_of(row)
        return {self.key_field: key} if key else None

    def _refuse(
        self, change: ChangeEvent, path: str, reason: str, row: dict[str, str] | None
    ) -> MappedChange:
        return MappedChange("rejected", change, self._key_only(row), ((path, reason),))
