"""Dead-letter copies of inputs the publisher refuses."""

from __future__ import annotations

import io
import json

from renkei.contracts.dlq import header_map
from renkei.identifiers.mynumber import my_number_check_digit
from renkei.publish.jsonl import MAX_LINE_BYTES, bounded_lines, read_json_lines
from renkei.publish.rejects import MAX_KEPT_BYTES, rejected_record

MY_NUMBER = "12345678901" + str(my_number_check_digit("12345678901"))


def test_a_refused_input_is_kept_as_json_with_the_number_masked() -> None:
    value = {"resident_key": "000000045678903", "note": MY_NUMBER, "name": "佐藤"}
    record = rejected_record(
        "dlq.registry.resident.events",
        "registry.resident.events",
        value,
        [
            (
                "note",
                "a 個人番号 (My Number) or 住民票コード must never be sent to Renkei; value refused",
            )
        ],
        origin="idou.csv line 3",
        key_field="resident_key",
    )
    assert record.key == b"000000045678903"
    assert record.value is not None and MY_NUMBER.encode() not in record.value
    assert json.loads(record.value) == {**value, "note": "*" * 12}
    headers = header_map(record.headers)
    assert headers["renkei.dlq.reason"] == "validation"
    assert headers["renkei.dlq.stage"] == "publisher"
    assert headers["renkei.dlq.origin"] == "idou.csv line 3"
    assert headers["renkei.dlq.detail"].startswith("note: a 個人番号")
    assert headers["content-type"] == "application/json"
    assert headers["renkei.masked"] == "my_number"
    assert MY_NUMBER not in "".join(headers.values())


def test_a_my_number_key_is_not_used_as_the_record_key() -> None:
    record = rejected_record(
        "dlq.t", "t", {"resident_key": MY_NUMBER}, [], origin="x", key_field="resident_key"
    )
    assert record.key == b"x"  # the origin


def test_an_input_too_large_for_kafka_is_kept_as_headers_only() -> None:
    value = {"name": "x" * (MAX_KEPT_BYTES + 10)}
    record = rejected_record(
        "dlq.t", "t", value, [("(line)", "too big")], origin="f line 1", key_field=None
    )
    assert record.value is None
    assert "value withheld" in header_map(record.headers)["renkei.dlq.detail"]


def test_an_endless_line_is_refused_without_being_read_whole() -> None:
    data = b'{"a": 1}\n' + b"x" * (3 * MAX_LINE_BYTES) + b'\n{"b": 2}\n'
    assert [(n, raw is None) for n, raw in bounded_lines(io.BytesIO(data))] == [
        (1, False),
        (2, True),
        (3, False),
    ]
    lines = list(read_json_lines(io.BytesIO(data)))
    assert [line.value for line in lines] == [{"a": 1}, None, {"b": 2}]
    assert "longer than 1 MiB" in lines[1].problems[0][1]


def test_a_line_of_exactly_the_limit_is_read() -> None:
    line = b'"' + b"y" * (MAX_LINE_BYTES - 3) + b'"\n'
    assert len(line) == MAX_LINE_BYTES
    [(_number, raw)] = list(bounded_lines(io.BytesIO(line)))
    assert raw == line
