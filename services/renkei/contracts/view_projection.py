"""Projection of a source schema and its records to the fields an agreement allows.

The view schema is *derived* from the source schema: the same field types, docs and defaults,
only the agreed fields (dotted paths reach into records, nullable records and arrays of
records). Every field whose ``renkei.format`` is ``resident_key`` — at any depth — becomes a
pseudonym (HMAC hex, marked ``"renkei.pseudonym": "hmac-sha256"``), and a top-level
``pseudonym_key_id`` field names the key that made them. Record values are then projected by
walking the *view* schema, so a record can only ever carry what the view schema declares.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from renkei.errors import ConfigurationError

Tree = dict[str, "Tree | None"]
"""Field name → the sub-fields kept (None: the whole field)."""
PSEUDONYM_MARK = "renkei.pseudonym"
KEY_ID_FIELD = "pseudonym_key_id"
_NAMED = ("record", "enum", "fixed")
_PSEUDONYM_DOC = (
    "仮名キー（目的ごとの秘密鍵による団体内統合宛名番号の HMAC-SHA256、16進64桁。同じ住民は同じ"
    "目的で常に同じ値、目的が違えば別の値） / Pseudonymous key: HMAC-SHA256 of the resident key "
    "with the purpose's secret, 64 hex digits; stable per resident within one purpose, "
    "different between purposes"
)
_KEY_ID_DOC = (
    "仮名キーを作った鍵の識別子（鍵の指紋。鍵を更新すると変わる） / Id (fingerprint) of the "
    "pseudonym key that made the pseudonymous keys of this record; changes when the key rotates"
)


def field_tree(paths: Iterable[str]) -> Tree:
    """Dotted paths → a tree; a path that names a whole field wins over its sub-paths."""
    tree: Tree = {}
    for path in sorted(paths, key=lambda p: p.count(".")):
        node: Tree | None = tree
        parts = path.split(".")
        for depth, part in enumerate(parts):
            if node is None:
                break  # an ancestor is kept whole
            last = depth == len(parts) - 1
            if last:
                node[part] = None
            else:
                node = node.setdefault(part, {})
    return tree


@dataclass
class _Context:
    namespace: str
    source_named: dict[str, Any]
    defined: dict[str, Any] = field(default_factory=dict)
    pseudonyms: int = 0


def _collect_named(schema: Any, namespace: str, out: dict[str, Any]) -> None:
    if isinstance(schema, list):
        for branch in schema:
            _collect_named(branch, namespace, out)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in _NAMED:
            ns = schema.get("namespace", namespace)
            name = schema["name"]
            out[name if "." in name else f"{ns}.{name}"] = schema
            out.setdefault(name.rsplit(".", 1)[-1], schema)
            namespace = ns
        for f in schema.get("fields", []):
            _collect_named(f["type"], namespace, out)
        for key in ("items", "values"):
            if key in schema:
                _collect_named(schema[key], namespace, out)


def _named(schema: dict[str, Any], ctx: _Context) -> Any:
    """Register a named output type, or refer to an identical one already defined."""
    name = schema["name"]
    ns = schema.get("namespace", ctx.namespace)
    fullname = name if "." in name else f"{ns}.{name}"
    held = ctx.defined.get(fullname)
    if held is None:
        ctx.defined[fullname] = schema
        return schema
    if json.dumps(held, sort_keys=True) == json.dumps(schema, sort_keys=True):
        return fullname
    suffix = 2
    while f"{fullname}_{suffix}" in ctx.defined:
        suffix += 1
    renamed = {**schema, "name": f"{name}_{suffix}"}
    ctx.defined[f"{fullname}_{suffix}"] = renamed
    return renamed


def _field(source: dict[str, Any], sub: Tree | None, ctx: _Context, where: str) -> dict[str, Any]:
    out = {k: copy.deepcopy(v) for k, v in source.items() if k != "type"}
    if source.get("renkei.format") == "resident_key":
        out.pop("renkei.format")
        out[PSEUDONYM_MARK] = "hmac-sha256"
        out["doc"] = _PSEUDONYM_DOC
        ctx.pseudonyms += 1
        out["type"] = copy.deepcopy(source["type"])
        return {"name": out.pop("name"), "type": out.pop("type"), **out}
    out["type"] = _type(source["type"], sub, ctx, where)
    return {"name": out.pop("name"), "type": out.pop("type"), **out}


def _record(schema: dict[str, Any], sub: Tree | None, ctx: _Context, where: str) -> Any:
    fields = schema["fields"]
    if sub is not None:
        known = {f["name"] for f in fields}
        unknown = sorted(set(sub) - known)
        if unknown:
            names = ", ".join(f"{where}{u}" for u in unknown)
            raise ConfigurationError(f"no field {names} in the source schema")
        fields = [f for f in fields if f["name"] in sub]
    projected = [
        _field(f, None if sub is None else sub[f["name"]], ctx, f"{where}{f['name']}.")
        for f in fields
    ]
    out = {k: copy.deepcopy(v) for k, v in schema.items() if k != "fields"}
    out["fields"] = projected
    return _named(out, ctx)


def _type(schema: Any, sub: Tree | None, ctx: _Context, where: str) -> Any:
    if isinstance(schema, str):
        if schema in ctx.source_named:
            return _type(ctx.source_named[schema], sub, ctx, where)
        if sub:
            raise ConfigurationError(f"{where.rstrip('.')} is a {schema}: it has no sub-fields")
        return schema
    if isinstance(schema, list):
        branches = [b for b in schema if b != "null"]
        if sub is not None and len(branches) > 1:
            raise ConfigurationError(f"{where.rstrip('.')}: cannot pick fields of a union")
        return [b if b == "null" else _type(b, sub, ctx, where) for b in schema]
    kind = schema.get("type")
    if kind == "record":
        return _record(schema, sub, ctx, where)
    if kind == "array":
        return {**schema, "items": _type(schema["items"], sub, ctx, where)}
    if kind == "map":
        return {**schema, "values": _type(schema["values"], sub, ctx, where)}
    if sub:
        raise ConfigurationError(f"{where.rstrip('.')} has no sub-fields")
    return _named(copy.deepcopy(schema), ctx) if kind in _NAMED else copy.deepcopy(schema)


def project_schema(
    source: dict[str, Any], paths: Iterable[str], *, namespace: str, doc: str
) -> dict[str, Any]:
    """The view schema of ``source`` keeping ``paths`` (ConfigurationError for unknown ones)."""
    named: dict[str, Any] = {}
    _collect_named(source, source.get("namespace", ""), named)
    ctx = _Context(namespace=namespace, source_named=named)
    top = {**source, "namespace": namespace, "doc": doc}
    view = _type(top, field_tree(paths), ctx, "")
    if ctx.pseudonyms:
        view["fields"].append({"name": KEY_ID_FIELD, "type": "string", "doc": _KEY_ID_DOC})
    return dict(view)


def has_pseudonyms(view_schema: dict[str, Any]) -> bool:
    return any(f["name"] == KEY_ID_FIELD for f in view_schema["fields"])


@dataclass(frozen=True)
class _Values:
    named: dict[str, Any]
    pseudonym: Callable[[str], str]


def project_value(
    view_schema: dict[str, Any],
    value: dict[str, Any],
    pseudonym: Callable[[str], str],
    key_id: str,
) -> dict[str, Any]:
    """``value`` (a source datum) reduced to what ``view_schema`` declares, resident keys
    replaced by ``pseudonym(resident_key)``."""
    named: dict[str, Any] = {}
    _collect_named(view_schema, view_schema.get("namespace", ""), named)
    out = _value(view_schema, value, _Values(named, pseudonym))
    if has_pseudonyms(view_schema):
        out[KEY_ID_FIELD] = key_id
    return dict(out)


def _value(schema: Any, value: Any, ctx: _Values) -> Any:
    if value is None:
        return None
    if isinstance(schema, str):
        return _value(ctx.named[schema], value, ctx) if schema in ctx.named else value
    if isinstance(schema, list):
        return _value(_branch(schema, value, ctx), value, ctx)
    kind = schema.get("type")
    if kind == "record":
        return {
            f["name"]: _leaf(f, value.get(f["name"]), ctx)
            for f in schema["fields"]
            if f["name"] != KEY_ID_FIELD
        }
    if kind == "array":
        return [_value(schema["items"], item, ctx) for item in value]
    if kind == "map":
        return {k: _value(schema["values"], v, ctx) for k, v in value.items()}
    return value


def _leaf(field_schema: dict[str, Any], value: Any, ctx: _Values) -> Any:
    if field_schema.get(PSEUDONYM_MARK):
        return None if value is None else ctx.pseudonym(str(value))
    return _value(field_schema["type"], value, ctx)


def _branch(union: list[Any], value: Any, ctx: _Values) -> Any:
    """The union branch a non-null value belongs to (records: the one whose fields it has)."""
    branches = [b for b in union if b != "null"]
    if len(branches) == 1 or not isinstance(value, dict):
        return branches[0]
    for branch in branches:
        resolved = ctx.named.get(branch, branch) if isinstance(branch, str) else branch
        is_record = isinstance(resolved, dict) and resolved.get("type") == "record"
        if is_record and all(f["name"] in value for f in resolved["fields"]):
            return branch
    return branches[0]
