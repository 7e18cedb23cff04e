"""Explain Avro schema incompatibilities by field, following the Avro resolution rules.

The registry gives the verdict (it is the authority on what it accepts); this module names the
fields behind it, which the registry's answer may not. ``reader`` reads data written with
``writer``: BACKWARD checks new-reads-old, FORWARD old-reads-new, FULL both.
"""

from __future__ import annotations

from typing import Any

_PROMOTIONS = {
    ("int", "long"),
    ("int", "float"),
    ("int", "double"),
    ("long", "float"),
    ("long", "double"),
    ("float", "double"),
    ("string", "bytes"),
    ("bytes", "string"),
}  # (writer, reader) pairs a reader accepts


_NO_DEFAULT = "<no default>"


def _named_types(
    schema: Any, namespace: str = "", out: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Every named type of ``schema`` by short and full name."""
    out = {} if out is None else out
    if isinstance(schema, list):
        for branch in schema:
            _named_types(branch, namespace, out)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "enum", "fixed"):
            name = schema["name"]
            ns = schema.get("namespace", namespace)
            full = name if "." in name or not ns else f"{ns}.{name}"
            out[full] = out[name.rpartition(".")[2]] = schema
            if kind == "record":
                for field in schema["fields"]:
                    _named_types(field["type"], full.rpartition(".")[0], out)
        elif kind == "array":
            _named_types(schema["items"], namespace, out)
        elif kind == "map":
            _named_types(schema["values"], namespace, out)
        elif isinstance(kind, dict | list):
            _named_types(kind, namespace, out)
    return out


class _Checker:
    def __init__(self, reader: Any, writer: Any):
        self.reader_types = _named_types(reader)
        self.writer_types = _named_types(writer)
        self.problems: list[str] = []

    @staticmethod
    def resolve(schema: Any, types: dict[str, Any]) -> Any:
        """Follow named-type references and ``{"type": <schema>}`` wrappers."""
        while True:
            if isinstance(schema, str) and schema in types:
                schema = types[schema]
            elif isinstance(schema, dict) and isinstance(schema.get("type"), dict | list):
                schema = schema["type"]
            elif isinstance(schema, dict) and schema.get("type") in types:
                schema = types[schema["type"]]
            else:
                return schema

    @staticmethod
    def kind(schema: Any) -> str:
        if isinstance(schema, str):
            return schema
        if isinstance(schema, list):
            return "union"
        return str(schema["type"])

    def matches(self, reader: Any, writer: Any) -> bool:
        """Whether ``writer`` data resolves to ``reader`` (without recording problems)."""
        saved = self.problems
        self.problems = []
        self.check(reader, writer, "")
        ok = not self.problems
        self.problems = saved
        return ok

    def check(self, reader: Any, writer: Any, path: str) -> None:
        reader = self.resolve(reader, self.reader_types)
        writer = self.resolve(writer, self.writer_types)
        rk, wk = self.kind(reader), self.kind(writer)
        where = path or "(record)"
        if wk == "union":
            for branch in writer:
                self.check(reader, branch, path)
            return
        if rk == "union":
            if not any(self.matches(branch, writer) for branch in reader):
                self.problems.append(f"{where}: type {wk} is not one of the reader's union types")
            return
        if rk != wk:
            if (wk, rk) not in _PROMOTIONS:
                self.problems.append(f"{where}: {wk} data cannot be read as {rk}")
            return
        if rk == "record":
            self._record(reader, writer, path)
        elif rk == "enum":
            missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
            if missing and "default" not in reader:
                self.problems.append(f"{where}: enum symbols {missing} unknown to the reader")
        elif rk == "array":
            self.check(reader["items"], writer["items"], f"{path}[]")
        elif rk == "map":
            self.check(reader["values"], writer["values"], f"{path}{{}}")
        elif rk == "fixed" and reader.get("size") != writer.get("size"):
            self.problems.append(f"{where}: fixed size changed")

    def _record(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> None:
        written = {f["name"]: f for f in writer["fields"]}
        for field in writer["fields"]:
            for alias in field.get("aliases", []):
                written.setdefault(alias, field)
        for field in reader["fields"]:
            name = f"{path}.{field['name']}" if path else field["name"]
            source = written.get(field["name"]) or next(
                (written[a] for a in field.get("aliases", []) if a in written), None
            )
            if source is not None:
                self.check(field["type"], source["type"], name)
            elif "default" not in field:
                self.problems.append(f"{name}: {_NO_DEFAULT}")


def incompatibilities(reader: Any, writer: Any) -> list[str]:
    """Problems reading ``writer`` data with ``reader``; empty when compatible."""
    checker = _Checker(reader, writer)
    checker.check(reader, writer, "")
    return checker.problems


def explain(mode: str, new: Any, registered: list[Any]) -> list[str]:
    """Field-level problems of ``new`` against ``registered`` versions (oldest first)."""
    mode = mode.upper()
    if mode == "NONE":
        return []
    against = registered if mode.endswith("_TRANSITIVE") else registered[-1:]
    problems: list[str] = []
    for old in against:
        if mode.startswith(("BACKWARD", "FULL")):
            problems += [
                p.replace(_NO_DEFAULT, "field added without a default (old data lacks it)")
                for p in incompatibilities(new, old)
            ]
        if mode.startswith(("FORWARD", "FULL")):
            problems += [
                p.replace(_NO_DEFAULT, "field removed, but it has no default (old readers need it)")
                for p in incompatibilities(old, new)
            ]
    return list(dict.fromkeys(problems))
