"""An Avro schema as the list of documented fields a person reads: dotted path, type in words,
the Japanese and the English half of its ``doc``, whether it may be empty.

Paths follow the catalogue's ``pii`` map: nested records and array items add a segment, a
union of records (``detail``) gives the fields of every branch under the same prefix, named
types are resolved by their short name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldDoc:
    """One field of a topic's records."""

    path: str
    type: str
    """``string``, ``int``, ``long``, ``double``, ``boolean``, ``date``, ``timestamp``,
    ``uuid``, ``enum``, ``record``, ``array<…>``, or a union of record branches ``choice``."""
    doc_ja: str
    doc_en: str
    nullable: bool
    symbols: tuple[str, ...] = ()
    """The values of an enum."""
    default: str | None = None
    """The JSON of its default, when it has one."""

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "type": self.type,
            "doc_ja": self.doc_ja,
            "doc_en": self.doc_en,
            "nullable": self.nullable,
            "symbols": list(self.symbols),
            "default": self.default,
        }


def split_doc(doc: str) -> tuple[str, str]:
    """``"日本語 / English"`` → (Japanese, English); a doc without ``" / "`` is both."""
    ja, sep, en = doc.partition(" / ")
    return (ja.strip(), en.strip()) if sep else (doc.strip(), doc.strip())


_LOGICAL = {"date": "date", "timestamp-millis": "timestamp", "timestamp-micros": "timestamp"}


class _Walker:
    def __init__(self) -> None:
        self.named: dict[str, Any] = {}
        self.fields: dict[str, FieldDoc] = {}

    def resolve(self, schema: Any) -> Any:
        if isinstance(schema, str):
            return self.named.get(schema.rpartition(".")[2], schema)
        return schema

    def remember(self, schema: Any) -> None:
        if isinstance(schema, dict) and schema.get("type") in ("record", "enum", "fixed"):
            self.named[str(schema["name"]).rpartition(".")[2]] = schema

    def type_name(self, schema: Any) -> str:
        schema = self.resolve(schema)
        if isinstance(schema, str):
            return schema
        if isinstance(schema, list):
            branches = [b for b in schema if self.resolve(b) != "null"]
            if len(branches) == 1:
                return self.type_name(branches[0])
            return "choice"
        kind = schema.get("type")
        if isinstance(kind, dict | list):
            return self.type_name(kind)
        logical = schema.get("logicalType")
        if logical in _LOGICAL:
            return _LOGICAL[logical]
        if logical == "uuid":
            return "uuid"
        if kind == "array":
            return f"array<{self.type_name(schema['items'])}>"
        if kind == "map":
            return f"map<{self.type_name(schema['values'])}>"
        return str(kind)

    def symbols(self, schema: Any) -> tuple[str, ...]:
        schema = self.resolve(schema)
        if isinstance(schema, list):
            for branch in schema:
                found = self.symbols(branch)
                if found:
                    return found
            return ()
        if isinstance(schema, dict) and schema.get("type") == "enum":
            return tuple(str(s) for s in schema.get("symbols", ()))
        if isinstance(schema, dict) and isinstance(schema.get("type"), dict | list):
            return self.symbols(schema["type"])
        return ()

    def records_in(self, schema: Any) -> list[dict[str, Any]]:
        """The record types a field's values are (through unions, arrays, wrappers)."""
        self.remember(schema)
        schema = self.resolve(schema)
        if isinstance(schema, list):
            return [r for branch in schema for r in self.records_in(branch)]
        if not isinstance(schema, dict):
            return []
        kind = schema.get("type")
        if kind == "record":
            return [schema]
        if kind == "array":
            return self.records_in(schema["items"])
        if kind == "map":
            return self.records_in(schema["values"])
        if isinstance(kind, dict | list):
            return self.records_in(kind)
        return []

    def record(self, schema: dict[str, Any], prefix: str) -> None:
        self.remember(schema)
        for field in schema["fields"]:
            path = f"{prefix}.{field['name']}" if prefix else str(field["name"])
            ftype = field["type"]
            self.remember(ftype)
            if path not in self.fields:  # the first branch of a union documents a shared name
                ja, en = split_doc(str(field.get("doc", "")))
                nullable = isinstance(ftype, list) and "null" in ftype
                self.fields[path] = FieldDoc(
                    path=path,
                    type=self.type_name(ftype),
                    doc_ja=ja,
                    doc_en=en,
                    nullable=nullable,
                    symbols=self.symbols(ftype),
                    default=_default(field),
                )
            for nested in self.records_in(ftype):
                self.record(nested, path)


def _default(field: dict[str, Any]) -> str | None:
    if "default" not in field:
        return None
    return json.dumps(field["default"], ensure_ascii=False)


def schema_fields(schema: dict[str, Any]) -> list[FieldDoc]:
    """Every field of a top-level record schema, parents before their children."""
    walker = _Walker()
    walker.record(schema, "")
    return list(walker.fields.values())
