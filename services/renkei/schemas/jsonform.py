"""Between Renkei JSON form (docs/design/schema-conventions.md) and Avro datums.

``to_datum`` takes validated Python values and marks which branch of a record union to write
(fastavro's tuple notation); ``to_json`` turns a decoded datum into JSON-ready values, with
timestamps in Japan time.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def _fullname(schema: dict[str, Any], namespace: str) -> str:
    name = str(schema["name"])
    ns = schema.get("namespace", namespace)
    return name if "." in name or not ns else f"{ns}.{name}"


def to_datum(schema: Any, value: Any, namespace: str = "") -> Any:
    """Prepare ``value`` (validated, Python types) for fastavro's writer."""
    if isinstance(schema, dict) and schema.get("type") == "record":
        fullname = _fullname(schema, namespace)
        inner_ns = fullname.rpartition(".")[0]
        out = {}
        for field in schema["fields"]:
            name = field["name"]
            item = value.get(name)
            if "renkei.branch_by" in field and item is not None:
                out[name] = _branch(field, value[field["renkei.branch_by"]], item, inner_ns)
            else:
                out[name] = to_datum(field["type"], item, inner_ns)
        return out
    if isinstance(schema, dict) and schema.get("type") == "array" and value is not None:
        return [to_datum(schema["items"], v, namespace) for v in value]
    if isinstance(schema, list) and value is not None:
        for branch in schema:
            if isinstance(branch, dict) and branch.get("type") in ("record", "array"):
                return to_datum(branch, value, namespace)
    return value


def _branch(field: dict[str, Any], tag: str, value: Any, namespace: str) -> tuple[str, Any]:
    for branch in field["type"]:
        if isinstance(branch, dict) and branch.get("renkei.branch_value") == tag:
            return (_fullname(branch, namespace), to_datum(branch, value, namespace))
    raise ValueError(f"no branch of {field['name']!r} for {tag!r}")


_PLAIN = frozenset({str, int, float, bool, type(None)})
"""Types ``to_json`` returns as they are: checked first, by exact type (most leaves are these;
a subclass takes the general path below)."""


def to_json(value: Any) -> Any:
    """JSON-ready form of a decoded datum: ISO dates, JST timestamps, UUID strings."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(JST).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value
