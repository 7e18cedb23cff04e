"""Reading Debezium's change events (PostgreSQL connector, Kafka Connect's JsonConverter with
schemas) into rows of text cells, the form the mapping's field specs read.

A change event's value is ``{"schema": …, "payload": {before, after, source, op, ts_ms,
transaction}}``. ``op`` is ``c`` (INSERT), ``u`` (UPDATE), ``d`` (DELETE) or ``r`` (a row of the
initial snapshot). Column values are converted by their Connect schema's semantic type, so the
cells look like what a CSV export of the table would hold: ``io.debezium.time.Date`` (days since
1970) → ``2026-10-01``; ``…Timestamp`` / ``MicroTimestamp`` / ``NanoTimestamp`` (a wall-clock
time without zone) → ``2026-10-09T10:42:17`` (read as JST by a ``timestamp`` field spec);
``ZonedTimestamp`` as written; NULL → an empty cell. Decimals arrive as text
(``decimal.handling.mode=string`` in the connector's configuration).

Transaction markers (``<prefix>.transaction`` topic, ``provide.transaction.metadata=true``) say
how many events each database transaction has: :mod:`renkei.input_formats.cdc_transactions`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from renkei.errors import InvalidRecord

OPERATIONS = {"c": "INSERT", "u": "UPDATE", "d": "DELETE", "r": "snapshot"}
_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True)
class ChangeEvent:
    """One row change of the captured table, its columns as text cells."""

    op: str
    table: str
    before: dict[str, str] | None
    after: dict[str, str] | None
    lsn: int
    transaction_id: str | None
    committed_ms: int
    """When the transaction committed in the database (``source.ts_ms``)."""

    @property
    def snapshot(self) -> bool:
        return self.op == "r"

    @property
    def position(self) -> str:
        """The change's position in the database's log, as PostgreSQL writes an LSN."""
        return f"{self.table} lsn {self.lsn >> 32:X}/{self.lsn & 0xFFFFFFFF:X}"

    @property
    def operation(self) -> str:
        return OPERATIONS.get(self.op, self.op)


@dataclass(frozen=True)
class TransactionMarker:
    """BEGIN or END of a database transaction; END says how many events of each table it has."""

    status: str
    transaction_id: str
    counts: dict[str, int]


def _json(value: bytes) -> dict[str, Any]:
    try:
        document = json.loads(value)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRecord([("(record)", "not a JSON change event")]) from exc
    if not isinstance(document, dict):
        raise InvalidRecord([("(record)", "not a JSON change event")])
    return document


def parse_change(value: bytes) -> ChangeEvent:
    """A Debezium change event (JsonConverter, schemas enabled); InvalidRecord if it is not one."""
    document = _json(value)
    payload, schema = document.get("payload"), document.get("schema")
    if not isinstance(payload, dict) or not isinstance(schema, dict):
        raise InvalidRecord(
            [("(record)", "no schema/payload: the connector must use JsonConverter with schemas")]
        )
    op = payload.get("op")
    source = payload.get("source") or {}
    if op not in OPERATIONS or not isinstance(source, dict):
        raise InvalidRecord([("(record)", "not a Debezium change event (no op/source)")])
    columns = _column_types(schema)
    transaction = payload.get("transaction") or {}
    return ChangeEvent(
        op=str(op),
        table=f"{source.get('schema')}.{source.get('table')}",
        before=_cells(payload.get("before"), columns),
        after=_cells(payload.get("after"), columns),
        lsn=int(source.get("lsn") or 0),
        transaction_id=transaction_key(str(transaction["id"])) if transaction.get("id") else None,
        committed_ms=int(source.get("ts_ms") or payload.get("ts_ms") or 0),
    )


def parse_marker(value: bytes) -> TransactionMarker:
    """A transaction marker of the ``<prefix>.transaction`` topic."""
    document = _json(value)
    payload = document.get("payload", document)
    if not isinstance(payload, dict) or payload.get("status") not in ("BEGIN", "END"):
        raise InvalidRecord([("(record)", "not a Debezium transaction marker")])
    counts = {
        str(item["data_collection"]): int(item["event_count"])
        for item in payload.get("data_collections") or []
    }
    return TransactionMarker(str(payload["status"]), transaction_key(str(payload["id"])), counts)


def transaction_key(debezium_id: str) -> str:
    """The database transaction of a Debezium PostgreSQL transaction id ``<txId>:<lsn>``.

    The LSN part differs between the BEGIN marker, each change and the END marker of one
    transaction (seen with 3.6.1 on PostgreSQL 15: BEGIN ``752:30977128``, the changes
    ``752:30977128`` and ``752:30977496``, END ``752:30977904``): only the txId names it."""
    return debezium_id.partition(":")[0]


def _column_types(schema: dict[str, Any]) -> dict[str, str]:
    """Column → semantic type name (``io.debezium.time.Date``) or Connect type, from the
    ``after`` (else ``before``) struct of the envelope's schema."""
    for side in ("after", "before"):
        for field in schema.get("fields") or []:
            if field.get("field") == side and field.get("fields"):
                return {
                    str(column["field"]): str(column.get("name") or column.get("type"))
                    for column in field["fields"]
                }
    return {}


def _cells(row: Any, columns: dict[str, str]) -> dict[str, str] | None:
    if row is None:
        return None
    if not isinstance(row, dict):
        raise InvalidRecord([("(record)", "a row image is not an object")])
    return {name: cell_text(value, columns.get(name, "")) for name, value in row.items()}


def cell_text(value: Any, semantic: str) -> str:
    """A column value as the text a CSV export would hold."""
    if value is None:
        return ""
    if semantic == "io.debezium.time.Date":
        return (_EPOCH + dt.timedelta(days=int(value))).date().isoformat()
    scale = {
        "io.debezium.time.Timestamp": 1_000,
        "io.debezium.time.MicroTimestamp": 1_000_000,
        "io.debezium.time.NanoTimestamp": 1_000_000_000,
    }.get(semantic)
    if scale is not None:
        seconds, rest = divmod(int(value), scale)
        moment = _EPOCH + dt.timedelta(seconds=seconds, microseconds=rest * 1_000_000 // scale)
        return moment.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()
