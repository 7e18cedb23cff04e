"""``to_json``: the JSON form of a decoded datum, leaves of plain types passed as they are."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from renkei.schemas.jsonform import to_json


class _Kind(enum.StrEnum):
    MOVED_IN = "moved_in"


def test_nested_datum_to_json_form() -> None:
    when = dt.datetime(2026, 4, 1, 1, 30, tzinfo=dt.UTC)
    ident = uuid.UUID(int=7)
    datum = {
        "event_id": ident,
        "recorded_at": when,
        "naive": dt.datetime(2026, 4, 1, 1, 30),
        "effective_date": dt.date(2026, 4, 1),
        "sequence": 3,
        "ratio": 0.5,
        "flag": True,
        "none": None,
        "name": "高橋　健一",
        "kind": _Kind.MOVED_IN,
        "raw": b"\x00\x01",
        "items": [{"day": dt.date(2026, 4, 2)}, ("a", 1)],
    }
    assert to_json(datum) == {
        "event_id": str(ident),
        "recorded_at": "2026-04-01T10:30:00+09:00",
        "naive": "2026-04-01T10:30:00+09:00",
        "effective_date": "2026-04-01",
        "sequence": 3,
        "ratio": 0.5,
        "flag": True,
        "none": None,
        "name": "高橋　健一",
        "kind": _Kind.MOVED_IN,
        "raw": "AAE=",
        "items": [{"day": "2026-04-02"}, ["a", 1]],
    }
    assert type(to_json(True)) is bool and type(to_json(1)) is int
