"""Debezium PostgreSQL change events as JsonConverter (schemas enabled) writes them, for tests
of the adapter's pure logic. The live test reads the real connector's."""

from __future__ import annotations

import json
from typing import Any

COLUMNS = {
    "atena_no": "string",
    "ido_jiyu": "string",
    "ido_ymd": "io.debezium.time.Date",
    "ido_renban": "int32",
    "shi": "string",
    "mei": "string",
    "shi_kana": "string",
    "mei_kana": "string",
    "seinengappi": "string",
    "seibetsu": "string",
    "jumin_shubetsu": "string",
    "yubin_no": "string",
    "jusho": "string",
    "katagaki": "string",
    "setai_no": "string",
    "zokugara": "string",
    "zen_jusho_cd": "string",
    "zen_jusho": "string",
    "tenshutsu_cd": "string",
    "tenshutsu_jusho": "string",
    "joutai": "string",
    "shien_sochi": "string",
    "koushin_tanmatsu": "string",
}


def _struct(field: str) -> dict[str, Any]:
    fields = []
    for name, kind in COLUMNS.items():
        if "." in kind:
            fields.append({"type": "int32", "optional": True, "name": kind, "field": name})
        else:
            fields.append({"type": kind, "optional": True, "field": name})
    return {"type": "struct", "fields": fields, "optional": True, "field": field}


def days(iso: str) -> int:
    import datetime as dt

    return (dt.date.fromisoformat(iso) - dt.date(1970, 1, 1)).days


def row(key: str, reason: str, date: str, renban: int = 1, **changes: Any) -> dict[str, Any]:
    """A row of deploy/cdc/jumin-kiroku.sql as Debezium writes it (dates as days)."""
    values: dict[str, Any] = {
        "atena_no": key,
        "ido_jiyu": reason,
        "ido_ymd": days(date),
        "ido_renban": renban,
        "shi": "高橋",
        "mei": "健一",
        "shi_kana": "ﾀｶﾊｼ",
        "mei_kana": "ｹﾝｲﾁ",
        "seinengappi": "S55.04.01",
        "seibetsu": "1",
        "jumin_shubetsu": "1",
        "yubin_no": "064-0941",
        "jusho": "北海道札幌市中央区旭ケ丘５丁目６番５１号",
        "katagaki": None,
        "setai_no": "0001023454",
        "zokugara": "世帯主",
        "zen_jusho_cd": "131016",
        "zen_jusho": "東京都千代田区麹町3丁目2番1号",
        "tenshutsu_cd": None,
        "tenshutsu_jusho": None,
        "joutai": "1",
        "shien_sochi": "0",
        "koushin_tanmatsu": "T01",
    }
    values.update(changes)
    return values


def change(
    op: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    lsn: int = 23880104,
    tx: str | None = "571:23880104",
    ts_ms: int = 1_791_500_000_000,
) -> bytes:
    payload = {
        "before": before,
        "after": after,
        "source": {
            "version": "3.6.1.Final",
            "connector": "postgresql",
            "name": "cdc.jumin",
            "ts_ms": ts_ms,
            "snapshot": "true" if op == "r" else "false",
            "db": "jumin",
            "schema": "public",
            "table": "jumin_kiroku",
            "txId": 571,
            "lsn": lsn,
        },
        "transaction": None
        if tx is None
        else {"id": tx, "total_order": 1, "data_collection_order": 1},
        "op": op,
        "ts_ms": ts_ms + 5,
    }
    schema = {
        "type": "struct",
        "fields": [_struct("before"), _struct("after")],
        "optional": False,
        "name": "cdc.jumin.public.jumin_kiroku.Envelope",
    }
    return json.dumps({"schema": schema, "payload": payload}, ensure_ascii=False).encode()


def marker(status: str, tx: str, count: int = 0) -> bytes:
    payload = {
        "status": status,
        "id": tx,
        "event_count": count if status == "END" else None,
        "data_collections": [{"data_collection": "public.jumin_kiroku", "event_count": count}]
        if status == "END"
        else None,
        "ts_ms": 1_791_500_000_000,
    }
    return json.dumps({"schema": {"type": "struct"}, "payload": payload}).encode()
