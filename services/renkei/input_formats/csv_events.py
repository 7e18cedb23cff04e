"""Turn CSV rows into department events in Renkei JSON form, as a mapping file says.

Everything the schema needs that a legacy export lacks is derived deterministically, so that
importing the same file twice yields the same events (the stages then change nothing):
- ``event_id``: a UUIDv5 of the topic, the source system and the row's mapped content;
- ``recorded_at``: the import time, unless mapped;
- ``sequence``: recorded_at in ms × 1000 + the row's position among the file's rows of that key.
Fields a union branch does not have (e.g. an address on a 転出 row) are left out.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import uuid
from collections import Counter
from typing import Any

from renkei.errors import InvalidRecord
from renkei.input_formats.csv_mapping import ColumnSpec, CsvMapping
from renkei.input_formats.csv_rows import CsvRow
from renkei.publish.jsonl import JsonLine
from renkei.schemas.catalogue import TopicSpec
from renkei.schemas.jsonform import JST

EVENT_NAMESPACE = uuid.UUID("5b0c6a52-52a4-4f34-9b58-6e6b3f0f1c11")  # Renkei CSV imports
_MAX_ROWS_PER_KEY = 1000


class CsvEventBuilder:
    """Builds one event per CSV row for one topic."""

    def __init__(self, mapping: CsvMapping, spec: TopicSpec, *, imported_at: dt.datetime):
        self.mapping = mapping
        self.spec = spec
        self.imported_at = imported_at.astimezone(JST)
        self._per_key: Counter[str] = Counter()
        self._branches = _branch_fields(spec.schema)

    def build(self, row: CsvRow) -> JsonLine:
        """The row as a JsonLine (its event, or the problems found while converting it)."""
        line = self.fields_of(row)
        if line.value is not None:
            self.finish(line.value)
        return line

    def fields_of(self, row: CsvRow) -> JsonLine:
        """The row's mapped fields (no derived envelope yet), or its problems."""
        if row.cells is None:
            return JsonLine(row.line, None, row.problems)
        value: dict[str, Any] = {"source_system": self.mapping.source_system}
        problems: list[tuple[str, str]] = []
        for path, constant in self.mapping.constants.items():
            _put(value, path, constant)
        for path, column in self.mapping.fields.items():
            try:
                converted = convert(column, row.cells)
            except InvalidRecord as exc:
                problems += [(path, why) for _, why in exc.reasons]
                continue
            if converted is not None:
                _put(value, path, converted)
        if problems:
            return JsonLine(row.line, None, tuple(problems))
        return JsonLine(row.line, value)

    def finish(self, value: dict[str, Any]) -> None:
        """Drop fields the chosen union branch lacks; derive event_id, recorded_at, sequence."""
        self._prune_branch(value)
        self._complete_envelope(value)

    def _prune_branch(self, value: dict[str, Any]) -> None:
        for field, (tag, by_value) in self._branches.items():
            allowed = by_value.get(str(value.get(tag)))
            if allowed is not None and isinstance(value.get(field), dict):
                value[field] = {k: v for k, v in value[field].items() if k in allowed}

    def _complete_envelope(self, value: dict[str, Any]) -> None:
        content = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        value.setdefault(
            "event_id", str(uuid.uuid5(EVENT_NAMESPACE, f"{self.spec.topic}\x1f{content}"))
        )
        value.setdefault("recorded_at", self.imported_at.isoformat())
        if "sequence" not in value:
            key = str(value.get(self.spec.key_field, ""))
            position = self._per_key[key]
            self._per_key[key] += 1
            if position >= _MAX_ROWS_PER_KEY:
                raise InvalidRecord([("sequence", "more than 1000 rows for one key in a file")])
            recorded = dt.datetime.fromisoformat(str(value["recorded_at"]))
            value["sequence"] = int(recorded.timestamp() * 1000) * _MAX_ROWS_PER_KEY + position


def convert(column: ColumnSpec, cells: dict[str, str]) -> Any:
    """The field value for one column spec (None when the cell is empty and optional)."""
    if column.column is None:
        return column.value
    if column.column not in cells:
        raise InvalidRecord([("(mapping)", f"column {column.column!r} is not in the header")])
    text = cells[column.column]
    if not text:
        if column.optional:
            return None
        raise InvalidRecord([("(cell)", f"column {column.column!r} is empty")])
    if column.map is not None:
        if text not in column.map:
            raise InvalidRecord([("(cell)", f"value not in the mapping of {column.column!r}")])
        return column.map[text]
    return _typed(column, text)


def _typed(column: ColumnSpec, text: str) -> Any:
    if column.type == "string":
        return text
    if column.type == "date":
        from renkei.normalize.dates import parse_date

        return parse_date(text).isoformat()
    normalized = unicodedata.normalize("NFKC", text).strip()
    try:
        if column.type == "int":
            return int(normalized.replace(",", ""))
        if column.type == "float":
            return float(normalized.replace(",", ""))
        if column.type == "timestamp":
            moment = dt.datetime.fromisoformat(normalized.replace("/", "-"))
            return (moment if moment.tzinfo else moment.replace(tzinfo=JST)).isoformat()
    except ValueError as exc:
        raise InvalidRecord([("(cell)", f"not a valid {column.type}")]) from exc
    if column.type == "bool":
        return text in column.true_values
    return "".join(ch for ch in normalized if ch.isdigit())  # postal_code: drop 〒 and hyphens


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def _branch_fields(schema: dict[str, Any]) -> dict[str, tuple[str, dict[str, set[str]]]]:
    """For each union-of-records field: (tag field, {tag value: field names of that branch})."""
    found = {}
    for field in schema["fields"]:
        if "renkei.branch_by" in field:
            branches = {
                str(b["renkei.branch_value"]): {f["name"] for f in b["fields"]}
                for b in field["type"]
                if isinstance(b, dict)
            }
            found[field["name"]] = (field["renkei.branch_by"], branches)
    return found
