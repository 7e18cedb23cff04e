"""The pydantic models derived from Avro: field paths in errors, formats, branch unions."""

import datetime as dt
import io

import fastavro
import pytest

from renkei.errors import InvalidRecord
from renkei.schemas.jsonform import to_datum, to_json
from renkei.schemas.models import RecordValidator

SCHEMA = {
    "type": "record",
    "name": "Event",
    "namespace": "jp.renkei.test",
    "fields": [
        {"name": "event_id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "municipality_code", "type": "string", "renkei.format": "municipality_code"},
        {"name": "effective_date", "type": {"type": "int", "logicalType": "date"}},
        {"name": "recorded_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["moved_in", "died"]}},
        {"name": "note", "type": ["null", "string"], "default": None},
        {
            "name": "detail",
            "renkei.branch_by": "kind",
            "type": [
                {
                    "type": "record",
                    "name": "MovedIn",
                    "renkei.branch_value": "moved_in",
                    "fields": [
                        {
                            "name": "postal_code",
                            "type": ["null", "string"],
                            "default": None,
                            "renkei.format": "postal_code",
                        },
                        {"name": "tags", "type": {"type": "array", "items": "string"}},
                    ],
                },
                {
                    "type": "record",
                    "name": "Died",
                    "renkei.branch_value": "died",
                    "fields": [
                        {"name": "date_of_death", "type": {"type": "int", "logicalType": "date"}},
                    ],
                },
            ],
        },
    ],
}

GOOD = {
    "event_id": "6f1c1d0e-2b7a-4a57-9d7e-3f3f2f7b9a01",
    "municipality_code": "011011",
    "effective_date": "2026-04-01",
    "recorded_at": "2026-04-03T09:30:00+09:00",
    "kind": "moved_in",
    "detail": {"postal_code": "0640941", "tags": ["a"]},
}


def _roundtrip(value: dict) -> dict:  # type: ignore[type-arg]
    parsed = fastavro.parse_schema(SCHEMA)
    buf = io.BytesIO()
    fastavro.schemaless_writer(
        buf, parsed, to_datum(SCHEMA, RecordValidator(SCHEMA).validate(value))
    )
    buf.seek(0)
    return to_json(fastavro.schemaless_reader(buf, parsed))  # type: ignore[no-any-return]


def test_a_good_record_round_trips_in_json_form() -> None:
    out = _roundtrip(GOOD)
    assert out == {**GOOD, "note": None}


def test_the_branch_follows_the_enum_field() -> None:
    died = {**GOOD, "kind": "died", "detail": {"date_of_death": "2026-03-30"}}
    assert _roundtrip(died)["detail"] == {"date_of_death": "2026-03-30"}
    with pytest.raises(InvalidRecord) as err:
        RecordValidator(SCHEMA).validate({**GOOD, "kind": "died"})
    assert ("detail.date_of_death", "Field required") in err.value.reasons


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        ({"municipality_code": "011012"}, "municipality_code", "check digit"),
        ({"effective_date": "2026-02-30"}, "effective_date", "date"),
        ({"recorded_at": "2026-04-03T09:30:00"}, "recorded_at", "timezone"),
        ({"kind": "born"}, "kind", "does not match"),
        ({"note": "123456789018"}, "note", "個人番号"),
        ({"note": 5}, "note", "string"),
        ({"extra": 1}, "extra", "Extra inputs"),
        ({"detail": {"postal_code": "064-0941", "tags": []}}, "detail.postal_code", "7-digit"),
        ({"detail": {"tags": ["x", "1234 5678 9018"]}}, "detail.tags.1", "個人番号"),
    ],
)
def test_errors_name_the_field_and_never_echo_the_value(change, path, reason) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidRecord) as err:
        RecordValidator(SCHEMA).validate({**GOOD, **change})
    paths = dict(err.value.reasons)
    assert path in paths, err.value.reasons
    assert reason.lower() in paths[path].lower()
    assert "123456789018" not in str(err.value) and "5678" not in str(err.value)


def test_missing_fields_are_all_reported() -> None:
    with pytest.raises(InvalidRecord) as err:
        RecordValidator(SCHEMA).validate({"kind": "moved_in", "detail": {}})
    assert {p for p, _ in err.value.reasons} >= {
        "event_id",
        "municipality_code",
        "effective_date",
        "recorded_at",
        "detail.tags",
    }


def test_validated_values_are_python_types() -> None:
    record = RecordValidator(SCHEMA).validate(GOOD)
    assert record["effective_date"] == dt.date(2026, 4, 1)
    assert record["recorded_at"].utcoffset() == dt.timedelta(hours=9)
